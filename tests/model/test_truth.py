"""The exported ground truth is the generating process's own expectation: observed counts
scatter around it as Poisson counts do, and fraud counts match what was written."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from helpers import small_spec

from synthpipe.model.identity_truth import IDENTITY_TRUTH
from synthpipe.model.ids import LEGIT_SUBRANGE, id_subrange
from synthpipe.model.truth import (
    BASKET_ASSOCIATIONS,
    BRAND_LOYALTY,
    CUSTOMER_LIFECYCLE,
    EXPECTED_CATEGORIES,
    EXPECTED_DAILY,
    FRAUD_COUNTS,
    FRAUD_SCHEDULE,
    STAPLES,
)
from synthpipe.sink.names import truth_file

Z = 5.0


def test_expected_daily_volume_matches_what_was_generated(small_dataset: Path) -> None:
    path = small_dataset / truth_file(EXPECTED_DAILY)
    truth = pq.read_table(path)
    assert truth.num_rows == 91 * 2 * 2  # days x channels x {sale, refund}
    assert pq.read_metadata(path).metadata[b"synthpipe.synthetic"] == b"true"
    t = ds.dataset(small_dataset / "transactions", partitioning="hive").to_table()
    legit = t.filter(pc.invert(t.column("is_fraud")))
    for channel in ("in_store", "online"):
        for kind in ("sale", "refund"):
            mask = pc.and_(
                pc.equal(truth.column("channel"), channel),
                pc.equal(truth.column("transaction_type"), kind),
            )
            expected = pc.sum(truth.filter(mask).column("expected_transactions")).as_py()
            observed = legit.filter(
                pc.and_(
                    pc.equal(legit.column("channel"), channel),
                    pc.equal(legit.column("transaction_type"), kind),
                )
            ).num_rows
            assert abs(observed - expected) <= Z * math.sqrt(expected), (
                channel,
                kind,
                observed,
                expected,
            )
    # day by day: the standardised residuals of Poisson counts have variance about 1; a
    # day's staple reorders are fixed by the customers' schedules (the truth counts them
    # exactly), so only the ordinary sales vary
    daily = (
        truth.filter(pc.equal(truth.column("transaction_type"), "sale"))
        .group_by("date")
        .aggregate([("expected_transactions", "sum")])
        .sort_by("date")
    )
    days = (
        legit.filter(pc.equal(legit.column("transaction_type"), "sale"))
        .column("ts")
        .cast(pa.timestamp("us"))
    )
    first = int(np.datetime64("2024-01-01", "D").astype(np.int64))
    observed_days = np.bincount(
        (days.cast(pa.int64()).to_numpy() // 86_400_000_000) - first, minlength=91
    )
    expected_days = daily.column("expected_transactions_sum").to_numpy()
    sales = legit.filter(pc.equal(legit.column("transaction_type"), "sale"))
    reorder = np.isin(
        id_subrange(sales.column("transaction_id").to_numpy(), small_spec().seed),
        [LEGIT_SUBRANGE["replenish_in_store"], LEGIT_SUBRANGE["replenish_online"]],
    )
    reorder_days = np.bincount(
        (sales.column("ts").cast(pa.int64()).to_numpy()[reorder] // 86_400_000_000) - first,
        minlength=91,
    )
    residual = (observed_days - expected_days) / np.sqrt(expected_days - reorder_days)
    assert 0.6 < residual.var() < 1.6


def test_expected_lines_per_category_match(small_dataset: Path) -> None:
    truth = pq.read_table(small_dataset / truth_file(EXPECTED_CATEGORIES))
    per_category = dict(
        zip(
            *truth.group_by("category")
            .aggregate([("expected_line_items", "sum")])
            .to_pydict()
            .values(),
            strict=True,
        )
    )
    lines = ds.dataset(small_dataset / "line_items", partitioning="hive").to_table()
    t = ds.dataset(small_dataset / "transactions", partitioning="hive").to_table()
    sales = t.filter(
        pc.and_(pc.invert(t.column("is_fraud")), pc.equal(t.column("transaction_type"), "sale"))
    )
    lines = lines.filter(pc.is_in(lines.column("transaction_id"), sales.column("transaction_id")))
    products = pq.read_table(small_dataset / "products" / "part-00000.parquet")
    category = np.asarray(products.column("category").cast(pa.string()).to_pylist())
    observed = dict(
        zip(
            *np.unique(category[lines.column("product_id").to_numpy() - 1], return_counts=True),
            strict=True,
        )
    )
    for name, expected in per_category.items():
        # line counts are compound Poisson (baskets): allow for the basket clustering
        assert abs(observed.get(name, 0) - expected) <= Z * math.sqrt(3 * expected) + 5, (
            name,
            expected,
        )


def test_fraud_counts_are_the_realised_ones(small_dataset: Path) -> None:
    counts = pq.read_table(small_dataset / truth_file(FRAUD_COUNTS))
    manifest = json.loads((small_dataset / "_manifest.json").read_text())
    realised = {
        (m, k): v for m, types in manifest["fraud_counts"].items() for k, v in types.items()
    }
    table = counts.to_pydict()
    for month, kind, value in zip(
        table["month"], table["fraud_type"], table["realised_transactions"], strict=True
    ):
        assert realised.get((month, kind), 0) == value
    assert set(manifest["truth"]) == {
        truth_file(name)
        for name in (
            EXPECTED_DAILY,
            EXPECTED_CATEGORIES,
            FRAUD_COUNTS,
            FRAUD_SCHEDULE,
            CUSTOMER_LIFECYCLE,
            BRAND_LOYALTY,
            BASKET_ASSOCIATIONS,
            STAPLES,
            *IDENTITY_TRUTH,
        )
    }
    expected = sum(table["expected_transactions"])
    assert abs(sum(table["realised_transactions"]) / expected - 1) < 0.35


def test_fraud_schedule_states_each_days_mix_difficulty_and_expected_count(
    small_dataset: Path,
) -> None:
    schedule = pq.read_table(small_dataset / truth_file(FRAUD_SCHEDULE)).to_pydict()
    counts = pq.read_table(small_dataset / truth_file(FRAUD_COUNTS)).to_pydict()
    manifest = json.loads((small_dataset / "_manifest.json").read_text())
    fraud = manifest["spec"]["fraud"]
    shares = {k: v["share"] for k, v in fraud["types"].items()}
    total = sum(shares.values())
    for kind, share, difficulty in zip(
        schedule["fraud_type"], schedule["share"], schedule["difficulty"], strict=True
    ):
        assert math.isclose(share, shares[kind] / total)  # the small world does not drift
        assert difficulty == fraud["difficulty"]
    # the days' expected counts add up to the months'
    assert math.isclose(
        sum(schedule["expected_transactions"]), sum(counts["expected_transactions"]), rel_tol=1e-9
    )


def test_brand_loyalty_truth_states_each_brands_share(small_dataset: Path) -> None:
    truth = pq.read_table(small_dataset / truth_file(BRAND_LOYALTY)).to_pydict()
    spec = small_spec()
    per = spec.products.brands_per_category
    rho = spec.products.brand_loyalty
    assert len(truth["brand"]) == per * len(spec.products.categories)
    for k in range(len(spec.products.categories)):
        shares = truth["favourite_share"][k * per : (k + 1) * per]
        assert math.isclose(sum(shares), 1.0)
        expected = rho**2 + (1 - rho**2) * sum(m * m for m in shares)
        assert math.isclose(truth["same_brand_pair_share"][k * per], expected)
