"""Comparison with a real sample of transactions the user supplies (``--reference``).

In the manner of SDMetrics' quality report, at full scale: each compared column gets a
shape score (1 - KS distance for numbers, 1 - total variation distance for categories),
each pair of numeric columns a trend score (1 - |correlation difference| / 2), and the
report gates the mean shape score and the mean trend score. The synthetic side is read
as mergeable histograms and moment sums over every transactions file, never sampled.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_HOUR, weekday_of
from synthpipe.errors import InputError
from synthpipe.model.money import CENTS, decimal_to_cents
from synthpipe.samples import read_user_table
from synthpipe.validate import statistics as st
from synthpipe.validate.gates import Check, at_least
from synthpipe.validate.merge import Stats
from synthpipe.validate.reading import FileRead

NUMERIC = ("amount", "items", "hour", "weekday")
CATEGORICAL = ("channel", "payment_method", "transaction_type", "is_fraud")
SOURCE_COLUMNS = (
    "ts",
    "amount",
    "items",
    "channel",
    "payment_method",
    "transaction_type",
    "is_fraud",
)
# Amount bins: signed log10 of |cents|, fine enough for a KS distance to 1e-3.
AMOUNT_EDGES = np.concatenate(
    [-(10 ** np.linspace(8, 0, 801)), [0.0], 10 ** np.linspace(0, 8, 801)]
)
SMALL_INT_BINS = 200  # items / hour / weekday are counted exactly below this
SHAPE_GATE = 0.8  # mean shape score a sample must reach
TREND_GATE = 0.8  # mean correlation-similarity score
COLUMN_GATE = 0.6  # shape score of each single column
TRUE_LABELS = ("true", "True", "TRUE", "1")
# the mean KS distance of a sample of n from its own distribution is about this / sqrt(n)
# (sqrt(pi / 2) ln 2, the asymptotic mean of sqrt(n) D)
KS_SAMPLING = 0.8687
VARIANCE_FLOOR = 1e-12  # relative variance below this: the column is constant (rounding)
SPREAD_ALLOWANCE = 3.0  # gates are lowered by this many sampling spreads of the sample


@dataclass(frozen=True)
class SampleReview:
    """What the sample can be compared on: the columns left out, and why, in notes."""

    rows: int
    columns: Columns  # the sample's compared columns, extracted once
    left_out: frozenset[str]  # compared column names not judged (hour, amount, channel...)
    notes: tuple[str, ...]


def review_sample(table: pa.Table) -> SampleReview:
    """The sample's columns a comparison would be meaningless on: a date-only time (no
    hour), a column with one value or none (no shape, no correlation)."""
    columns = extract(table)
    left_out: set[str] = set()
    notes: list[str] = []
    if "hour" in columns.numeric and _date_only(table):
        left_out.add("hour")
        notes.append("ts holds dates without a time of day: hours are not compared")
    for name, values in columns.numeric.items():
        if name not in left_out and np.unique(values).shape[0] < 2:
            left_out.add(name)
            notes.append(f"{name} has a single value in the sample: left out")
    for name, labels in columns.categorical.items():
        present = labels[labels != "<null>"]
        if np.unique(present).shape[0] < 2:
            left_out.add(name)
            notes.append(f"{name} has {'no value' if present.size == 0 else 'a single value'}"
                         " in the sample: left out")  # fmt: skip
    rows = table.num_rows
    notes.append(
        f"{rows:,} sample rows: scores are allowed their sampling spread"
        f" (a KS distance of about {KS_SAMPLING / max(rows, 1) ** 0.5:.3f})"
    )
    return SampleReview(rows, columns, frozenset(left_out), tuple(notes))


def _date_only(table: pa.Table) -> bool:
    """True when every time in ``ts`` falls on midnight (or the column is a date)."""
    column = table.column("ts")
    if pa.types.is_date(column.type):
        return True
    micros = _converted(column, pa.timestamp("us"), "ts", "an ISO 8601 time")
    return bool(micros.size) and bool(np.all(micros % MICROS_PER_DAY == 0))


@dataclass(frozen=True)
class Columns:
    """The compared columns of one table, as numpy arrays (currency units for amount)."""

    numeric: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]  # string labels


def _labels(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    values = column.cast(pa.string()) if not pa.types.is_dictionary(column.type) else column
    if pa.types.is_dictionary(values.type):
        values = values.cast(pa.string())
    return np.asarray(values.fill_null("<null>").to_numpy(zero_copy_only=False), dtype=object)


def _converted(
    column: pa.ChunkedArray, target: pa.DataType, name: str, expected: str
) -> np.ndarray:
    """``column`` cast to ``target`` (nulls as 0) as numpy (timestamps as int64 counts of
    the unit); a value that does not convert is the user's input error, named with its
    column."""
    try:
        values = column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(
            f"--reference column {name!r} must hold {expected}: {str(exc).splitlines()[0]}"
        ) from None
    if pa.types.is_timestamp(target):
        values = values.cast(pa.int64())
    return np.asarray(values.fill_null(0))


def extract(table: pa.Table) -> Columns:
    """Numeric and categorical columns of a transactions-like table (those present)."""
    numeric: dict[str, np.ndarray] = {}
    categorical: dict[str, np.ndarray] = {}
    names = table.column_names
    if "amount" in names:
        column = table.column("amount")
        if pa.types.is_decimal(column.type):
            numeric["amount"] = decimal_to_cents(column) / CENTS
        else:
            numeric["amount"] = _converted(column, pa.float64(), "amount", "a number")
    if "items" in names:
        numeric["items"] = _converted(table.column("items"), pa.float64(), "items", "a number")
    if "ts" in names:
        ts = table.column("ts")
        if pa.types.is_date(ts.type):
            ts = ts.cast(pa.timestamp("us"))
        micros = _converted(ts, pa.timestamp("us"), "ts", "an ISO 8601 time")
        numeric["hour"] = ((micros % MICROS_PER_DAY) // MICROS_PER_HOUR).astype(np.float64)
        numeric["weekday"] = weekday_of(micros // MICROS_PER_DAY).astype(np.float64)
    for name in CATEGORICAL:
        if name in names:
            categorical[name] = _labels(table.column(name))
    return Columns(numeric, categorical)


def synthetic_stats(read: FileRead, matrix_names: list[str]) -> Stats:
    """Mergeable statistics of one synthetic transactions file; correlations are summed
    over ``matrix_names`` (the numeric columns the reference has)."""
    columns = extract(read.table)
    stats: Stats = {}
    for name, values in columns.numeric.items():
        stats[st.reference_histogram(name)] = _histogram(name, values)
    for name, labels in columns.categorical.items():
        unique, counts = np.unique(labels, return_counts=True)
        for label, count in zip(unique, counts, strict=True):
            stats[st.reference_count(name, label)] = int(count)
    matrix = _numeric_matrix(columns, matrix_names)
    stats[st.REFERENCE_N] = int(matrix.shape[0])
    stats[st.REFERENCE_SUM] = matrix.sum(axis=0)
    stats[st.REFERENCE_CROSS] = matrix.T @ matrix
    return stats


def _histogram(name: str, values: np.ndarray) -> np.ndarray:
    if name == "amount":
        return np.bincount(
            np.searchsorted(AMOUNT_EDGES, values * CENTS, side="right"),
            minlength=AMOUNT_EDGES.shape[0] + 1,
        )
    return np.bincount(
        np.clip(values.astype(np.int64), 0, SMALL_INT_BINS - 1), minlength=SMALL_INT_BINS
    )


def _numeric_matrix(columns: Columns, names: list[str]) -> np.ndarray:
    derived = dict(columns.numeric)
    if "channel" in columns.categorical:
        derived["is_online"] = (columns.categorical["channel"] == "online").astype(np.float64)
    if "is_fraud" in columns.categorical:
        derived["is_fraud"] = np.isin(columns.categorical["is_fraud"], TRUE_LABELS).astype(
            np.float64
        )
    rows = len(next(iter(derived.values()))) if derived else 0
    if not names:
        return np.zeros((rows, 0))
    return np.stack([derived[n] for n in names], axis=1)


INDICATOR_SOURCE = {"is_online": "channel", "is_fraud": "is_fraud"}


def matrix_names(columns: Columns, left_out: frozenset[str] = frozenset()) -> list[str]:
    """Numeric columns (and 0/1 indicators) a table offers for the correlation matrix,
    less those left out (see ``review_sample``)."""
    names = [n for n in NUMERIC if n in columns.numeric]
    if "channel" in columns.categorical:
        names.append("is_online")
    if "is_fraud" in columns.categorical:
        names.append("is_fraud")
    return [n for n in names if INDICATOR_SOURCE.get(n, n) not in left_out]


def compared_matrix_names(review: SampleReview) -> list[str]:
    """The correlation matrix's columns for a reviewed reference sample."""
    return matrix_names(review.columns, review.left_out)


def read_reference(path: str, mapping: dict[str, str] | None = None) -> pa.Table:
    """Read a Parquet or CSV sample; ``mapping`` renames its columns to ours (ours=theirs)."""
    table = read_user_table(path, "--reference")
    if mapping:
        unknown = [ours for ours in mapping if ours not in SOURCE_COLUMNS]
        if unknown:
            raise InputError(
                f"--reference-map {unknown[0]!r} is not one of our columns"
                f" ({', '.join(SOURCE_COLUMNS)})"
            )
        missing = [theirs for theirs in mapping.values() if theirs not in table.column_names]
        if missing:
            raise InputError(f"--reference {path!r} has no column {missing[0]!r}")
        renames = {theirs: ours for ours, theirs in mapping.items()}
        table = table.rename_columns([renames.get(n, n) for n in table.column_names])
    if not set(SOURCE_COLUMNS) & set(table.column_names):
        raise InputError(
            f"--reference {path!r} has none of the columns {', '.join(SOURCE_COLUMNS)}"
        )
    extract(table)  # a column that does not convert is bad input: refuse it before any work
    return table


def _correlation(n: float, total: np.ndarray, cross: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The correlation matrix, and which columns vary (a column without spread has no
    correlation: its pairs are left out, never scored as a number)."""
    mean = total / max(n, 1.0)
    covariance = cross / max(n, 1.0) - np.outer(mean, mean)
    variance = np.maximum(np.diag(covariance), 0.0)
    varies = variance > VARIANCE_FLOOR * np.maximum(np.abs(mean) ** 2, 1.0)
    scale = np.sqrt(np.where(varies, variance, 1.0))
    correlation = np.clip(covariance / np.outer(scale, scale), -1.0, 1.0)
    return np.asarray(correlation), np.asarray(varies)


def _ks_distance(ours: np.ndarray, theirs: np.ndarray) -> float:
    size = max(ours.shape[0], theirs.shape[0])
    ours = np.pad(ours, (0, size - ours.shape[0]))
    theirs = np.pad(theirs, (0, size - theirs.shape[0]))
    return float(
        np.max(
            np.abs(np.cumsum(ours) / max(ours.sum(), 1) - np.cumsum(theirs) / max(theirs.sum(), 1))
        )
    )


def _tvd_sampling(shares: np.ndarray, rows: int) -> float:
    """The mean total variation distance of a sample of ``rows`` from its own categorical
    distribution: half the sum of E|p_hat - p| ~ sqrt(2 p (1 - p) / (pi n))."""
    return float(0.5 * np.sum(np.sqrt(2.0 * shares * (1.0 - shares) / (np.pi * max(rows, 1)))))


def compare(synthetic: Stats, review: SampleReview) -> list[Check]:
    """Shape and trend scores of the synthetic transactions against the reference sample.

    Columns the sample cannot speak for (``review_sample``) are left out. Each gate is
    lowered by SPREAD_ALLOWANCE times the score's sampling spread at the sample's size,
    so that a sample of a few hundred rows of the same process is not judged a bad fit.
    """
    ref = review.columns
    rows = max(review.rows, 1)
    checks: list[Check] = []
    shapes: list[float] = []
    spreads: list[float] = []
    ks_spread = KS_SAMPLING / rows**0.5
    for name, values in ref.numeric.items():
        if name in review.left_out:
            continue
        ours = np.asarray(
            synthetic.get(st.reference_histogram(name), np.zeros(1)), dtype=np.float64
        )
        distance = _ks_distance(ours, _histogram(name, values).astype(np.float64))
        shapes.append(1.0 - distance)
        spreads.append(ks_spread)
        checks.append(
            at_least(
                f"reference.shape_{name}",
                "reference",
                "1 - KS D",
                1.0 - distance,
                COLUMN_GATE - SPREAD_ALLOWANCE * ks_spread,
                f"distribution of {name} vs the reference sample (KS complement; sampling"
                f" spread of {rows:,} rows about {ks_spread:.3f})",
            )
        )
    for name, labels in ref.categorical.items():
        if name in review.left_out:
            continue
        prefix = f"reference.count.{name}."
        synthetic_counts = {
            k[len(prefix) :]: float(v) for k, v in synthetic.items() if k.startswith(prefix)
        }
        unique, counts = np.unique(labels, return_counts=True)
        reference_counts = {str(k): float(v) for k, v in zip(unique, counts, strict=True)}
        keys = sorted(set(synthetic_counts) | set(reference_counts))
        a = np.asarray([synthetic_counts.get(k, 0.0) for k in keys])
        b = np.asarray([reference_counts.get(k, 0.0) for k in keys])
        distance = 0.5 * float(np.abs(a / max(a.sum(), 1) - b / max(b.sum(), 1)).sum())
        spread = _tvd_sampling(b / max(b.sum(), 1), rows)
        shapes.append(1.0 - distance)
        spreads.append(spread)
        checks.append(
            at_least(
                f"reference.shape_{name}",
                "reference",
                "1 - TVD",
                1.0 - distance,
                COLUMN_GATE - SPREAD_ALLOWANCE * spread,
                f"categories of {name} vs the reference sample (TV complement; sampling"
                f" spread of {rows:,} rows about {spread:.3f})",
            )
        )
    names = matrix_names(ref, review.left_out)
    trend_scores: list[float] = []
    trend_spreads: list[float] = []
    if len(names) >= 2 and synthetic.get(st.REFERENCE_N, 0) > 1:
        matrix = _numeric_matrix(ref, names)
        ref_corr, ref_varies = _correlation(matrix.shape[0], matrix.sum(axis=0), matrix.T @ matrix)
        syn_corr, syn_varies = _correlation(
            float(synthetic[st.REFERENCE_N]),
            np.asarray(synthetic[st.REFERENCE_SUM]),
            np.asarray(synthetic[st.REFERENCE_CROSS]),
        )
        if syn_corr.shape == ref_corr.shape:
            varies = ref_varies & syn_varies
            for i, j in itertools.combinations(range(len(names)), 2):
                if varies[i] and varies[j]:
                    trend_scores.append(1.0 - abs(syn_corr[i, j] - ref_corr[i, j]) / 2.0)
                    # the standard error of a sample correlation: (1 - r^2) / sqrt(n - 1)
                    r = ref_corr[i, j]
                    trend_spreads.append((1.0 - r * r) / max(rows - 1, 1) ** 0.5 / 2.0)
    if shapes:
        spread = float(np.mean(spreads))
        checks.append(
            at_least(
                "reference.column_shapes",
                "reference",
                "mean shape score",
                float(np.mean(shapes)),
                SHAPE_GATE - SPREAD_ALLOWANCE * spread,
                "mean of the column shape scores (SDMetrics-style Column Shapes; sampling"
                f" spread about {spread:.3f})",
            )
        )
    if trend_scores:
        spread = float(np.mean(trend_spreads))
        checks.append(
            at_least(
                "reference.column_pair_trends",
                "reference",
                "mean correlation similarity",
                float(np.mean(trend_scores)),
                TREND_GATE - SPREAD_ALLOWANCE * spread,
                f"correlation similarity over {len(trend_scores)} pairs of {', '.join(names)}"
                f" (sampling spread about {spread:.3f})",
            )
        )
    return checks
