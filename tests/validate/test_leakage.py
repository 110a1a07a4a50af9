"""The leakage audit: target-encoding ROC AUC of every column's transforms on the later
calendar; artefacts are gated at 0.6, behavioural signals listed. A planted leak fails
its column's check by name and names the transform."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import parquet_files, rewrite_table
from sklearn.metrics import roc_auc_score

from synthpipe.cli import EXIT_FAILURE, main
from synthpipe.model.schema import TRANSACTIONS_SCHEMA
from synthpipe.plan import month_ranges
from synthpipe.sink.manifest import load_dataset_spec
from synthpipe.storage import Location
from synthpipe.validate import leakage
from synthpipe.validate.checks.leakage import COLUMNS
from synthpipe.validate.leakage import (
    AUC_GATE,
    MIN_POSITIVES,
    NOISE_SES,
    POINT_ESTIMATE_POSITIVES,
    Score,
    audit,
    grouped_auc,
    target_encoding_auc,
)
from synthpipe.validate.leakage_transforms import (
    ARTEFACT,
    BEHAVIOURAL,
    KINDS,
    LABEL_COLUMNS,
    TRANSFORMS,
    Sample,
)
from synthpipe.validate.results import LeakageAudit, load_report

ROWS = 40_000
PREVALENCE = 0.03


def _labels(rng: np.random.Generator, n: int = ROWS) -> np.ndarray:
    return np.asarray(rng.random(n) < PREVALENCE)


def _halves(n: int = ROWS) -> tuple[np.ndarray, np.ndarray]:
    early = np.arange(n) < int(0.7 * n)
    return early, ~early


def test_the_table_classes_every_transform_and_reads_no_label() -> None:
    names = [t.name for t in TRANSFORMS]
    assert len(names) == len(set(names))
    assert all(t.kind in KINDS and t.what for t in TRANSFORMS)
    assert not {t.column for t in TRANSFORMS} & set(LABEL_COLUMNS)
    # every column of transactions but the labels (and the partition's month) is audited
    columns = {t.column.split(".")[0] for t in TRANSFORMS}
    assert columns >= set(TRANSACTIONS_SCHEMA.names) - set(LABEL_COLUMNS)


def test_grouped_auc_is_sklearns_roc_auc() -> None:
    """One stratum: the AUC of categories' scores, ties counted a half, is exactly
    roc_auc_score of the rows."""
    rng = np.random.default_rng(1)
    category = rng.integers(0, 50, ROWS)
    labels = rng.random(ROWS) < 0.05 + 0.002 * category
    score = np.round(rng.random(50), 1)  # ties between categories
    auc, positives, negatives = grouped_auc(
        score,
        np.bincount(category[labels], minlength=50),
        np.bincount(category[~labels], minlength=50),
        np.zeros(50, dtype=np.int64),
    )
    assert auc == pytest.approx(roc_auc_score(labels, score[category]), abs=1e-12)
    assert (positives, negatives) == (int(labels.sum()), int((~labels).sum()))


def test_grouped_auc_within_strata_compares_pairs_of_a_stratum_only() -> None:
    """Two strata: the pairs of each stratum, pooled (the Mann-Whitney count)."""
    score = np.asarray([0.1, 0.9, 0.5, 0.5])
    positives = np.asarray([0, 2, 1, 1])
    negatives = np.asarray([3, 1, 2, 0])
    stratum = np.asarray([0, 0, 1, 1])
    auc, _, _ = grouped_auc(score, positives, negatives, stratum)
    # stratum 0: 2 positives above 3 negatives, tie with 1 -> 2 x (3 + 0.5) = 7 of 8
    # stratum 1: 2 positives tie 2 negatives -> 0.5 x 2 x 2 = 2 of 4
    assert auc == pytest.approx((7 + 2) / (8 + 4))


def test_a_planted_leak_scores_near_one() -> None:
    rng = np.random.default_rng(2)
    labels = _labels(rng)
    # the label in the low bit, the rest of the code noise: a model reads it at once
    codes = rng.integers(0, 1 << 12, ROWS) * 2 + labels
    score = target_encoding_auc(codes, labels, *_halves())
    assert score is not None
    assert score.auc > 0.99
    assert score.gated() > AUC_GATE


@pytest.mark.parametrize("categories", [2, 100, 1 << 16, 1 << 28])
def test_noise_scores_one_half_within_its_standard_error(categories: int) -> None:
    """Pure noise, whatever the cardinality (unseen categories get the prior)."""
    rng = np.random.default_rng(categories)
    labels = _labels(rng)
    codes = rng.integers(0, categories, ROWS)
    score = target_encoding_auc(codes, labels, *_halves())
    assert score is not None
    assert abs(score.auc - 0.5) <= 4 * score.se
    assert score.gated() <= AUC_GATE


def test_categories_unseen_in_the_earlier_part_get_the_prior() -> None:
    rng = np.random.default_rng(3)
    labels = _labels(rng)
    early, later = _halves()
    codes = np.arange(ROWS)  # an id: every later value is new
    score = target_encoding_auc(codes, labels, early, later)
    assert score is not None
    assert score.auc == 0.5


def test_a_feature_that_is_its_stratum_scores_one_half_within_it() -> None:
    """An artefact that is a function of the behaviour it is judged within adds nothing."""
    rng = np.random.default_rng(4)
    behaviour = rng.integers(0, 4, ROWS)
    labels = rng.random(ROWS) < 0.01 + 0.05 * (behaviour == 3)
    artefact = behaviour * 7 % 5  # determined by the behaviour
    alone = target_encoding_auc(artefact, labels, *_halves())
    within = target_encoding_auc(artefact, labels, *_halves(), strata=behaviour)
    assert alone is not None
    assert within is not None
    assert alone.auc > 0.7
    assert within.auc == 0.5


def test_too_few_fraud_rows_are_not_scored() -> None:
    labels = np.zeros(ROWS, dtype=bool)
    labels[: MIN_POSITIVES - 1] = True
    assert target_encoding_auc(np.zeros(ROWS, dtype=np.int64), labels, *_halves()) is None


def test_clustered_fraud_counts_as_fewer_rows_and_widens_the_error() -> None:
    rng = np.random.default_rng(5)
    labels = _labels(rng)
    codes = rng.integers(0, 100, ROWS)
    alone = target_encoding_auc(codes, labels, *_halves())
    clusters = np.cumsum(labels) // 10  # fraud in events of about ten rows
    clustered = target_encoding_auc(codes, labels, *_halves(), clusters=clusters)
    assert alone is not None
    assert clustered is not None
    assert clustered.effective_positives < alone.positives / 5
    assert clustered.se > 2 * alone.se


def test_the_gate_reads_the_point_estimate_only_with_enough_fraud() -> None:
    few = Score(0.65, 0.05, 100, 10_000, 100.0)
    many = Score(0.65, 0.01, 900, 10_000, float(POINT_ESTIMATE_POSITIVES))
    assert few.gated() == pytest.approx(0.65 - NOISE_SES * 0.05)
    assert few.gated() <= AUC_GATE < many.gated()


def _synthetic_sample(rng: np.random.Generator, n: int = ROWS) -> Sample:
    """Uninformative columns over 100 days and 4,000 accounts, fraud in bursts of one
    account (three rows on one day), some accounts struck again later."""
    fraud = np.zeros(n, dtype=bool)
    customer = rng.integers(1, 4_001, n)
    day = np.sort(rng.integers(19_700, 19_800, n))
    bursts = rng.choice(n - 3, size=n // 150, replace=False)
    for offset in range(3):
        fraud[bursts + offset] = True
        customer[bursts + offset] = customer[bursts]
        day[bursts + offset] = day[bursts]
    micros = day * 86_400_000_000 + rng.integers(0, 86_400_000_000, n)
    lines = rng.integers(1, 4, n)
    return Sample(
        transaction_id=rng.integers(0, 1 << 62, n),
        micros=micros,
        customer_id=customer,
        store_id=np.where(rng.random(n) < 0.5, rng.integers(1, 121, n), -1),
        channel=rng.integers(0, 2, n),
        transaction_type=rng.integers(0, 2, n),
        payment_method=rng.integers(0, 5, n),
        items=lines,
        cents=rng.integers(100, 100_000, n),
        ship_region=rng.integers(-1, 4, n),
        lines=lines,
        unit_lines=rng.integers(0, 2, n) * lines,
        discounted_lines=rng.integers(0, 2, n),
        discount_cents=rng.integers(0, 500, n),
        first_price_cents=rng.integers(100, 10_000, n),
        is_fraud=fraud,
    )


def _by_name(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in section["transforms"]}


def test_the_audit_passes_noise_and_fails_a_planted_id_leak() -> None:
    rng = np.random.default_rng(6)
    sample = _synthetic_sample(rng)
    cut = 19_770
    clean = _by_name(audit(sample, cut, seed=7))
    assert list(clean) == [t.name for t in TRANSFORMS]
    assert all(r["passed"] for r in clean.values() if r["kind"] == ARTEFACT)
    leaky = dataclasses.replace(
        sample, transaction_id=(sample.transaction_id >> 1 << 1) | sample.is_fraud
    )
    records = _by_name(audit(leaky, cut, seed=7))
    assert records["transaction_id.mod2"]["passed"] is False
    assert records["transaction_id.low16"]["passed"] is False
    assert records["ts.second"]["passed"] is True


def test_an_accounts_own_repeated_fraud_is_not_a_leak_of_its_ids_bits() -> None:
    """Accounts struck in both parts make the account (behavioural) predictive; its id's
    low bits, fitted and scored on different accounts, are not."""
    rng = np.random.default_rng(8)
    sample = _synthetic_sample(rng)
    victims = np.unique(sample.customer_id[sample.is_fraud])
    again = np.isin(sample.customer_id, victims[: victims.shape[0] // 2])
    # half the victims' other transactions turn fraud too: their accounts are compromised
    fraud = sample.is_fraud | (again & (rng.random(sample.rows) < 0.5))
    records = _by_name(audit(dataclasses.replace(sample, is_fraud=fraud), 19_770, seed=7))
    assert records["customer_id"]["kind"] == BEHAVIOURAL
    assert float(records["customer_id"]["roc_auc"]) > 0.7
    assert records["customer_id.low16"]["passed"] is True
    assert float(records["customer_id.low16"]["roc_auc"]) < 0.6


def test_the_small_world_passes_and_reports_every_transform(small_dataset: Path) -> None:
    text = (small_dataset / "_fidelity" / "report.json").read_text()
    report = load_report(text)
    section = report.leakage
    assert isinstance(section, LeakageAudit), section
    records = section.transforms
    assert [r.name for r in records] == [t.name for t in TRANSFORMS]
    assert {r.kind for r in records} == {ARTEFACT, BEHAVIOURAL}
    # fraud lines take the day's discounts like any line, so every transform is scored
    # (line_items.discount_cents was not while fraud lines were never discounted)
    assert all(r.roc_auc is not None for r in records)
    assert all(r.passed for r in records if r.kind == ARTEFACT)
    assert all(r.passed is None for r in records if r.kind == BEHAVIOURAL)
    # and report.json leaves the key out for them (it is not null)
    written = json.loads(text)["leakage"]["transforms"]
    assert all("passed" not in r for r in written if r["kind"] == BEHAVIOURAL)
    checks = {t.name: t for t in report.tests if t.group == "leakage"}
    assert list(checks) == [f"leakage.{c}" for c in COLUMNS]
    assert all(c.passed and c.value is not None and c.value <= AUC_GATE for c in checks.values())
    html = (small_dataset / "_fidelity" / "report.html").read_text()
    assert "transaction_id.sequence_top6" in html


def test_the_sample_is_bounded_and_seeded(
    small_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the first blocks' files are read; a block holding more than the bound gives a
    seeded share of its rows, the same at every run."""
    bound = 2_000
    monkeypatch.setattr(leakage, "MAX_TRANSACTIONS", bound)
    location = Location(str(small_dataset))
    spec, manifest = load_dataset_spec(location)
    listing = manifest.listing()
    paths = leakage.chosen_files(listing)
    block_0 = {f.path for f in listing.files if f.partition.block == 0}
    assert set(paths) <= block_0
    assert len(paths) == 2 * len(month_ranges(spec))  # each month's transactions and lines
    first = leakage.leakage_audit(spec, location, paths)
    assert first == leakage.leakage_audit(spec, location, paths)
    rows = sum(f.rows for f in listing.of_table("transactions") if f.path in paths)
    assert rows > bound
    expected_sd = (bound * (1 - bound / rows)) ** 0.5
    assert abs(first["sample"]["transactions"] - bound) <= 6 * expected_sd


MICROS_MARK = 777  # a fraud transaction's microseconds end in it; a legitimate one's in 0


def label_in_microseconds(root: Path) -> None:
    """Store is_fraud in the microseconds of ts (within the millisecond: nothing else moves)."""

    def change(table: pa.Table) -> pa.Table:
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        fraud = table.column("is_fraud").to_numpy(zero_copy_only=False)
        marked = ts - ts % 1_000 + np.where(fraud, MICROS_MARK, 0)
        index = table.column_names.index("ts")
        return table.set_column(
            index, table.schema.field("ts"), pa.array(marked, pa.timestamp("us"))
        )

    for relative in parquet_files(root, "transactions"):
        rewrite_table(root, relative, change)


def _renumbered(old: np.ndarray, new: np.ndarray) -> Callable[[pa.Table], pa.Table]:
    """A table change: transaction ids ``old`` become ``new`` (others stay)."""
    order = np.argsort(old)

    def change(table: pa.Table) -> pa.Table:
        ids = table.column("transaction_id").to_numpy()
        position = order[np.clip(np.searchsorted(old, ids, sorter=order), 0, old.shape[0] - 1)]
        moved = np.where(old[position] == ids, new[position], ids)
        return table.set_column(0, table.schema.field(0), pa.array(moved, pa.int64()))

    return change


def label_in_id_low_bit(root: Path) -> None:
    """Store is_fraud in the lowest bit of transaction_id (the line items follow)."""
    for relative in parquet_files(root, "transactions"):
        table = pq.read_table(root / relative)
        old = table.column("transaction_id").to_numpy()
        new = (old >> 1 << 1) | table.column("is_fraud").to_numpy(zero_copy_only=False)
        change = _renumbered(old, new)
        rewrite_table(root, relative, change)
        rewrite_table(root, relative.replace("transactions/", "line_items/"), change)


PLANTED: list[tuple[Callable[[Path], None], str, str]] = [
    (label_in_microseconds, "leakage.ts", "ts.micros_mod1000"),
    (label_in_id_low_bit, "leakage.transaction_id", "transaction_id.mod2"),
]


@pytest.mark.parametrize(("plant", "check", "transform"), PLANTED, ids=[c for _, c, _ in PLANTED])
def test_a_planted_leak_fails_its_columns_check_naming_the_transform(
    dataset_copy: Path,
    plant: Callable[[Path], None],
    check: str,
    transform: str,
) -> None:
    plant(dataset_copy)
    assert main(["validate", str(dataset_copy)]) == EXIT_FAILURE
    report = load_report((dataset_copy / "_fidelity" / "report.json").read_text())
    assert check in report.summary.failed_tests
    verdict = next(t for t in report.tests if t.name == check)
    assert verdict.value is not None
    assert verdict.value > AUC_GATE
    assert transform in verdict.explanation
    assert isinstance(report.leakage, LeakageAudit), report.leakage
    leaky = next(r for r in report.leakage.transforms if r.name == transform)
    assert leaky.passed is False
    assert leaky.roc_auc is not None
    assert leaky.roc_auc > 0.95
    # the transaction ids carry the label only in their low bits; the time only below
    # the millisecond: nothing else in the audit moves
    others = {t.name for t in report.tests if t.group == "leakage" and not t.passed}
    assert others == {check}
