"""Named sub-streams keep the integer sub-keys (and id sub-ranges) the seed contract fixed,
and a transaction set is built from its rows and one label."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from synthpipe.model.baskets import empty_lines
from synthpipe.model.blockmonth import NOT_FRAUD, Label, Rows, transaction_set
from synthpipe.model.ids import LEGIT_SUBRANGE
from synthpipe.model.substreams import Process, SubStream, refund, repeat, sale, sub_key
from synthpipe.seeds import Entity
from synthpipe.vocabulary import CHANNELS, IN_STORE, ONLINE, SALE

# the sub-keys as numbered before they had names: sales, then refunds, then repeats
LEGACY_KEYS = {
    (Process.SALE, IN_STORE): 0,
    (Process.SALE, ONLINE): 1,
    (Process.REFUND, IN_STORE): 2,
    (Process.REFUND, ONLINE): 3,
    (Process.REPEAT, IN_STORE): 4,
    (Process.REPEAT, ONLINE): 5,
}


@pytest.mark.parametrize("make", [sale, refund, repeat])
@pytest.mark.parametrize("channel", range(len(CHANNELS)))
def test_sub_keys_and_subranges_stay_as_numbered(
    make: Callable[[int], SubStream], channel: int
) -> None:
    sub = make(channel)
    assert sub_key(sub) == sub.key == LEGACY_KEYS[(sub.process, channel)]
    prefix = {Process.SALE: "", Process.REFUND: "refund_", Process.REPEAT: "repeat_"}
    assert sub.subrange == LEGIT_SUBRANGE[prefix[sub.process] + CHANNELS[channel]]
    expected = Entity.REFUNDS if sub.process is Process.REFUND else Entity.TRANSACTIONS
    assert sub.entity is expected


def test_a_transaction_set_labels_every_row_alike_in_int64() -> None:
    n = 3
    column = np.arange(n, dtype=np.int32)
    made = transaction_set(
        Rows(column, column, column, column, column, column),
        Label(channel=ONLINE, kind=SALE, subrange=7),
        empty_lines(),
    )
    assert made.size == n
    for name in ("day", "micros", "customer", "store", "payment", "ship_region"):
        assert getattr(made, name).dtype == np.int64
    assert made.channel.tolist() == [ONLINE] * n
    assert made.subrange.tolist() == [7] * n
    assert made.fraud.tolist() == [NOT_FRAUD] * n
