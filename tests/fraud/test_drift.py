"""fraud.drift: the typology mix and the difficulty change at dated points; the schedule
is exported in _truth/fraud_schedule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from helpers import small_spec

from synthpipe.model.fraud import fraud_schedule
from synthpipe.model.transactions import generate_sales
from synthpipe.spec import Spec

DRIFT = [
    {"start": "2024-02-01", "shares": {"card_testing": 0.0}},
    {"start": "2024-03-01", "difficulty": 1.0, "shares": {"stolen_card": 2.0}},
]


def _drifting() -> Spec:
    return small_spec(fraud__rate=0.1, fraud__difficulty=0.0, fraud__drift=DRIFT)


def _month(spec: Spec, month: int) -> pa.Table:
    first = dt.date(2024, month, 1)
    last = dt.date(2024, month, 28)
    return pa.concat_tables(generate_sales(spec, b, first, last).transactions for b in range(3))


def _count(table: pa.Table, kind: str) -> int:
    return int(pc.sum(pc.equal(table.column("fraud_type").cast(pa.string()), kind)).as_py() or 0)


def test_the_schedule_follows_the_change_points() -> None:
    spec = _drifting()
    dates = np.asarray(["2024-01-31", "2024-02-01", "2024-03-01"], dtype="datetime64[D]")
    schedule = fraud_schedule(spec, dates)
    base = spec.fraud.shares()
    assert np.allclose(schedule.shares[0], list(base.values()))
    assert schedule.shares[1][0] == 0.0  # card testing stops on 1 February
    assert np.isclose(schedule.shares[1].sum(), 1.0)
    raw = np.asarray([0.0, 0.2, 2.0, 0.15, 0.15])  # stolen_card raised, card testing still off
    assert np.allclose(schedule.shares[2], raw / raw.sum())
    assert list(schedule.difficulty) == [0.0, 0.0, 1.0]


def test_generated_fraud_follows_the_schedule() -> None:
    spec = _drifting()
    january, february, march = (_month(spec, m) for m in (1, 2, 3))
    assert _count(january, "card_testing") > 50
    assert _count(february, "card_testing") == 0
    assert _count(march, "card_testing") == 0
    # stolen cards: 0.2 / 0.7 of the mix, then 2 / 2.5 of it
    assert _count(march, "stolen_card") > 2 * _count(february, "stolen_card")
    # difficulty 0 until March: takeovers at night; from March, at the victim's hours
    for table, night in ((february, True), (march, False)):
        taken = table.filter(
            pc.equal(table.column("fraud_type").cast(pa.string()), "account_takeover")
        )
        hours = (taken.column("ts").cast(pa.int64()).to_numpy() // 3_600_000_000) % 24
        share = float(np.mean(hours < 6))
        assert (share > 0.9) if night else (share < 0.4), share


def test_no_drift_is_the_base_process() -> None:
    """A drift point that changes nothing leaves every row where it was."""
    plain = small_spec(fraud__rate=0.1)
    same = small_spec(fraud__rate=0.1, fraud__drift=[{"start": "2024-02-01"}])
    assert (
        _month(plain, 2).drop(["transaction_id"]).equals(_month(same, 2).drop(["transaction_id"]))
    )
