"""`synthpipe fit` on samples no one here generated: estimators that survive a heavy tail,
giant invoices, zero and negative amounts and duplicates; a sample from before 2000; the
fit's own side-by-side judgement of the sample and its world; and, where the shared real
log is present, the targets of issue 33 on it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from synthpipe.cli import EXIT_OK, main
from synthpipe.errors import SpecError
from synthpipe.fit import fit
from synthpipe.fit.baskets import price_scale, return_rate, weighted_quantiles
from synthpipe.fit.judge import compare, per_customer_counts, tvd, world_sample
from synthpipe.fit.sample import Sample
from synthpipe.spec import Spec, spec_from_dict

# ../shared/samples/ beside the repository
ONLINE_RETAIL = Path(__file__).resolve().parents[3] / "shared" / "samples" / "online_retail.parquet"
MAPPING = {"customer_id": "cust", "ts": "when", "amount": "total", "items": "n"}


def _log(rng: np.random.Generator, customers: int, start: str, days: int) -> pa.Table:
    """A real-looking log: most customers buy once, a few often (a Gamma mixture of
    rates), over ``days`` from ``start``; log-normal amounts, a few refunds."""
    rate = rng.gamma(0.5, 4.0, customers)
    counts = 1 + rng.poisson(rate)
    cust = np.repeat(np.arange(customers), counts)
    day = rng.integers(0, days, cust.shape[0])
    first = np.datetime64(start, "D")
    when = (first + day).astype("datetime64[s]") + rng.integers(9, 18, cust.shape[0]) * 3600
    total = np.round(np.exp(rng.normal(np.log(40.0), 0.6, cust.shape[0])), 2)
    total[rng.random(cust.shape[0]) < 0.03] *= -1  # refunds
    return pa.table(
        {
            "cust": pa.array([f"K{c:05d}" for c in cust]),
            "when": pa.array(when),
            "total": pa.array(total),
            "n": pa.array(1 + rng.poisson(1.5, cust.shape[0])),
        }
    )


def _sample(amount: np.ndarray, customers: np.ndarray, day: int = 20_000) -> Sample:
    """A minimal Sample of amounts (dates only, all on one day)."""
    count = int(customers.max()) + 1
    return Sample(
        customer=customers.astype(np.int64),
        day=np.full(amount.shape[0], day, dtype=np.int64),
        hour=None,
        amount=amount.astype(np.float64),
        items=None,
        channel=None,
        payment=None,
        payment_labels=(),
        fraud=None,
        customers=count,
    )


def _medians(values: dict[str, object]) -> np.ndarray:
    return np.asarray([float(str(v)) for k, v in sorted(values.items()) if k.endswith("median")])


def test_weighted_quantiles_ignore_a_giant_invoice() -> None:
    values = np.asarray([1.0, 2.0, 3.0, 4.0, 168_469.0])
    median = weighted_quantiles(values, np.ones(5), np.asarray([0.5]))[0]
    assert median == pytest.approx(3.0)
    # weights are counts: a weight of 2 is the row twice
    doubled = weighted_quantiles(values, np.asarray([2.0, 1, 1, 1, 1]), np.asarray([0.5]))[0]
    assert doubled == pytest.approx(
        weighted_quantiles(np.asarray([1.0, 1, 2, 3, 4, 168_469]), np.ones(6), np.asarray([0.5]))[0]
    )


def test_price_scale_survives_heavy_tail_giant_invoices_and_duplicates() -> None:
    """The sale amounts' fit reads quantiles: a handful of giant invoices, zero amounts
    and duplicated rows move it by little, where a mean moved it tenfold."""
    rng = np.random.default_rng(3)
    spec = spec_from_dict({"seed": 1, "calendar": {"start": "2024-01-01", "end": "2024-03-31"}})
    n = 3_000
    amount = np.exp(rng.normal(np.log(60.0), 0.8, n))
    customer = rng.integers(0, 600, n)
    clean = price_scale(_sample(amount, customer), np.ones(600), spec, 10)
    dirty_amount = np.concatenate(
        [amount, [168_469.6, 77_183.6, 38_970.0], np.zeros(40), amount[:300]]
    )
    dirty_customer = np.concatenate([customer, [1, 2, 3], np.arange(40), customer[:300]])
    dirty = price_scale(_sample(dirty_amount, dirty_customer), np.ones(600), spec, 10)
    ratio = _medians(dirty) / _medians(clean)
    assert np.all(np.abs(ratio - 1.0) < 0.05), ratio
    # and the world of the fitted prices has the sample's median sale
    fitted = _with(spec, clean)
    world = world_sample(fitted, 2_000)
    sold = world.amount[world.amount > 0]
    assert float(np.median(sold)) == pytest.approx(float(np.median(amount)), rel=0.12)


def _with(spec: Spec, values: dict[str, object]) -> Spec:
    """``spec`` with the dotted fields ``values`` (list indices as numbers) set."""
    document = spec.model_dump(mode="json", exclude_none=True)
    for key, value in values.items():
        node: Any = document
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[leaf] = value
    return spec_from_dict(document)


def test_refunds_are_negative_amounts_and_zero_is_neither() -> None:
    spec = spec_from_dict({"seed": 1, "calendar": {"start": "2024-01-01", "end": "2024-03-31"}})
    amount = np.asarray([10.0, 20.0, 30.0, 40.0, -5.0, 0.0, 0.0, 0.0])
    values = return_rate(_sample(amount, np.arange(8) % 4), np.ones(4), spec, 1)
    assert values == {"sales.return_rate": pytest.approx(0.25)}
    # a log of sales without one refund says the rate is 0, not the default
    values = return_rate(_sample(np.asarray([1.0, 2.0]), np.asarray([0, 1])), np.ones(2), spec, 1)
    assert values == {"sales.return_rate": 0.0}


@pytest.mark.slow  # a fit with its calibration and self-judgement, then a run
def test_a_sample_from_before_2000_fits_and_runs(tmp_path: Path) -> None:
    """1997-98 dates: the fitted calendar is the sample's moved by 28 years (every weekday
    kept), a note says so, and the spec's own error names that way out."""
    rng = np.random.default_rng(5)
    table = _log(rng, 400, "1997-01-01", 540)
    pv.write_csv(table, tmp_path / "old.csv")
    result = fit(str(tmp_path / "old.csv"), MAPPING, [], 10, 1)
    assert result.spec.calendar.start == dt.date(2025, 1, 1)
    assert any("28 years" in note for note in result.notes)
    # 1997-01-01 and 2025-01-01 are both Wednesdays: the weekday profile is the sample's
    assert dt.date(1997, 1, 1).weekday() == result.spec.calendar.start.weekday()
    assert result.verdict is not None
    with pytest.raises(SpecError, match="multiple of 28 years"):
        spec_from_dict({"seed": 1, "calendar": {"start": "1997-01-01", "end": "1998-06-30"}})


@pytest.mark.slow  # a whole fit with its simulated worlds
def test_the_fit_judges_itself_in_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report sets the sample beside a small world of the fitted spec: monthly,
    weekday and hourly shares, purchases per customer, amounts, items and refunds, each
    with its distance and target, and a verdict; the one-time buyers are reproduced."""
    rng = np.random.default_rng(7)
    pv.write_csv(_log(rng, 800, "2023-01-01", 365), tmp_path / "log.csv")
    maps = [f"--map={k}={v}" for k, v in MAPPING.items()]
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(tmp_path / "log.csv"), *maps, "--out", str(out)]) == EXIT_OK
    report = json.loads(out.with_suffix(".fit.json").read_text())
    judged = report["judgement"]
    names = [row["comparison"] for row in judged["rows"]]
    assert names == [
        "monthly share TVD",
        "weekday share TVD",
        "hour share TVD",
        "purchases per customer TVD",
        "sale amount KS",
        "items TVD",
        "refund share difference",
    ]
    assert judged["verdict"]
    assert f"judged: {judged['verdict']}" in capsys.readouterr().out.splitlines()
    rows = {row["comparison"]: row for row in judged["rows"]}
    assert rows["purchases per customer TVD"]["distance"] <= 0.10
    assert rows["sale amount KS"]["distance"] <= 0.10
    assert rows["refund share difference"]["distance"] <= 0.02
    assert "side by side" in out.with_suffix(".fit.html").read_text()


def test_judge_distances_are_zero_for_the_same_sample() -> None:
    rng = np.random.default_rng(2)
    amount = np.exp(rng.normal(3.0, 0.5, 500))
    sample = dataclasses.replace(
        _sample(amount, rng.integers(0, 100, 500)), day=20_000 + rng.integers(0, 90, 500)
    )
    assert all(row.distance == 0.0 for row in compare(sample, sample))
    assert tvd(per_customer_counts(sample), per_customer_counts(sample)) == 0.0


@pytest.mark.slow  # the whole shared log fitted and judged
@pytest.mark.skipif(
    not ONLINE_RETAIL.is_file(),
    reason=f"the shared real log is not here ({ONLINE_RETAIL}): see ../shared/samples/README.md",
)
def test_online_retail_world_looks_like_its_log(tmp_path: Path) -> None:
    """UCI Online Retail, lines summed per invoice (cancellations negative): the fitted
    world's months, purchases per customer, amounts, hours and refunds are within the
    targets of issue 33 (items, lines per invoice, are not yet: see docs/fit.md)."""
    lines = pq.read_table(ONLINE_RETAIL).filter(pc.is_valid(pc.field("CustomerID")))
    value = pc.multiply(pc.cast(lines.column("Quantity"), pa.float64()), lines.column("UnitPrice"))
    lines = lines.append_column("line", value)
    invoices = lines.group_by("InvoiceNo").aggregate(
        [
            ("CustomerID", "min"),
            ("InvoiceDate", "min"),
            ("line", "sum"),
            ("line", "count"),
        ]
    )
    table = pa.table(
        {
            "cust": invoices.column("CustomerID_min"),
            "when": invoices.column("InvoiceDate_min"),
            "total": invoices.column("line_sum"),
            "n": invoices.column("line_count"),
        }
    )
    pq.write_table(table, tmp_path / "invoices.parquet")
    result = fit(str(tmp_path / "invoices.parquet"), MAPPING, [], 10, 1)
    rows = {row.name: row for row in result.judgement}
    for name in (
        "monthly share TVD",
        "hour share TVD",
        "purchases per customer TVD",
        "sale amount KS",
        "refund share difference",
    ):
        assert rows[name].passed, (name, rows[name])
