"""fraud.difficulty: the share of fraud events that imitate their victim. At 0 nothing is
camouflaged; at 1 every event hides its typology's signature."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers import small_spec

from synthpipe.model.transactions import generate_sales
from synthpipe.spec import Spec

MONTHS = [(dt.date(2024, m, 1), dt.date(2024, m, 28)) for m in (1, 2, 3)]


def _sales(spec: Spec) -> pa.Table:
    return pa.concat_tables(
        generate_sales(spec, block, *month).transactions for block in range(3) for month in MONTHS
    )


def _of(table: pa.Table, kind: str) -> pa.Table:
    labels = table.column("fraud_type").cast("string").fill_null("")
    return table.filter(pc.equal(labels, kind))


@pytest.mark.parametrize("difficulty", [0.0, 1.0])
def test_difficulty_hides_the_signatures(difficulty: float) -> None:
    spec = small_spec(fraud__rate=0.2, fraud__difficulty=difficulty)
    sales = _sales(spec)
    taken = _of(sales, "account_takeover")
    hours = (taken.column("ts").cast("int64").to_numpy() // 3_600_000_000) % 24
    night_share = float(np.mean(hours < 6))
    testing = _of(sales, "card_testing").sort_by(
        [("customer_id", "ascending"), ("ts", "ascending")]
    )
    ts = testing.column("ts").cast("int64").to_numpy()
    same = testing.column("customer_id").to_numpy()
    close = (np.diff(ts) <= 600_000_000) & (same[1:] == same[:-1])
    if difficulty == 0.0:
        assert night_share > 0.9  # every takeover starts at night
        assert close.mean() > 0.6  # card tests come in bursts minutes apart
    else:
        assert night_share < 0.3  # at the victim's own (online) hours
        assert close.mean() < 0.05  # slow tests, hours apart


def test_difficulty_zero_draws_nothing_extra() -> None:
    """Camouflage has its own stream: difficulty 0 leaves every other draw where it was,
    so only the spec's identity (in the file metadata) differs from a world without it."""
    plain = _sales(small_spec(fraud__rate=0.2, fraud__difficulty=0.0))
    half = _sales(small_spec(fraud__rate=0.2, fraud__difficulty=0.5))
    legit = plain.filter(pc.invert(plain.column("is_fraud")))
    legit_half = half.filter(pc.invert(half.column("is_fraud")))
    assert legit.equals(legit_half)  # legitimate transactions never move
    for kind in ("account_takeover", "stolen_card"):
        # the same events, differently dressed (a camouflaged card test or refund abuse is
        # one transaction, so those events are counted against a smaller mean size)
        assert _of(plain, kind).num_rows == _of(half, kind).num_rows
