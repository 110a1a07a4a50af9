"""The label process: each process's reports come from its own streams, so changing one
typology's reporting moves no other transaction's label; delays are log-normal."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from helpers import small_spec

from synthpipe.model.transactions import generate_sales

MONTHS = [
    (dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
    (dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    (dt.date(2024, 3, 1), dt.date(2024, 3, 31)),
]


def _labels(**overrides: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    spec = small_spec(fraud__rate=0.3, **overrides)
    table = pa.concat_tables(
        generate_sales(spec, block, *month).transactions for block in range(3) for month in MONTHS
    )
    kind = table.column("fraud_type").cast("string").fill_null("").to_numpy(zero_copy_only=False)
    reported = table.column("fraud_reported").to_numpy(zero_copy_only=False)
    delay = pc.subtract(
        table.column("fraud_reported_at").cast("int64"), table.column("ts").cast("int64")
    ).to_numpy(zero_copy_only=False)
    return np.asarray(kind), np.asarray(reported), np.asarray(delay)


def test_one_typologys_reporting_moves_no_other_label() -> None:
    kind, reported, delay = _labels()
    kind2, reported2, delay2 = _labels(**{"fraud.types.card_testing.report_rate": 0.1})
    assert np.array_equal(kind, kind2)
    other = kind != "card_testing"
    assert np.array_equal(reported[other], reported2[other])
    assert np.array_equal(np.nan_to_num(delay[other]), np.nan_to_num(delay2[other]))
    testing = ~other
    assert reported2[testing].mean() < reported[testing].mean()


def test_report_rates_and_median_delays_follow_the_spec() -> None:
    spec = small_spec(fraud__rate=0.3)
    kind, reported, delay = _labels()
    for name in ("account_takeover", "stolen_card"):
        rows = kind == name
        params = getattr(spec.fraud.types, name)
        n = int(rows.sum())
        assert n > 100
        p = params.report_rate
        assert abs(reported[rows].mean() - p) < 6 * np.sqrt(p * (1 - p) / n)
        days = delay[rows & reported] / 86_400e6
        # the sample median of log delays: sd about 1.25 sigma / sqrt(n)
        tolerance = 6 * 1.2533 * params.report_delay.sigma / np.sqrt(days.shape[0])
        assert abs(np.log(np.median(days)) - np.log(params.report_delay.median_days)) < tolerance
