"""The vectorised shortcuts inside the per-file statistics agree with their definitions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from synthpipe.validate.dimensions import (
    LOG_PRICE_EDGES,
    PRICE_BINS,
    ages_from_birth,
    ages_on,
    duplicate_count,
    price_cells,
)
from synthpipe.validate.measures.baskets import QUANTITY_TABLE, quantity_sums
from synthpipe.validate.measures.index import IdIndex, LineOwners
from synthpipe.validate.reading import column_codes

UNIX_EPOCH = dt.date(1970, 1, 1)
SAMPLE = 20_000


def python_age(on: dt.date, born: dt.date) -> int:
    """Whole years between two dates, the way a person counts birthdays."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@pytest.mark.parametrize("start", ["2024-01-01", "2024-02-29", "2023-03-01", "2025-12-31"])
def test_ages_by_table_are_birthday_ages(start: str) -> None:
    rng = np.random.default_rng(11)
    on = dt.date.fromisoformat(start)
    first = (on - UNIX_EPOCH).days - 100 * 366
    span = 82 * 366
    birth = rng.integers(first, first + span, 2 * span)  # denser than the span: the table
    leap_days = [(dt.date(y, 2, 29) - UNIX_EPOCH).days for y in (1940, 1960, 1980, 2000)]
    birth = np.concatenate([birth, leap_days, np.asarray(leap_days) + 1])
    start_day = np.datetime64(start, "D")
    expected = [python_age(on, UNIX_EPOCH + dt.timedelta(days=int(d))) for d in birth]
    np.testing.assert_array_equal(ages_on(start_day, birth), expected)
    np.testing.assert_array_equal(ages_from_birth(start_day, birth), expected)
    # a range wider than the data takes the direct path, with the same answer
    sparse = birth[:10]
    np.testing.assert_array_equal(ages_on(start_day, sparse), expected[:10])


@pytest.mark.parametrize(
    "ids",
    [
        np.arange(1, 1001),
        np.arange(1, 1001)[::-1].copy(),
        np.asarray([5, 5, 5, 1, 2, 2]),
        np.random.default_rng(3).integers(0, 500, 2_000),
        np.asarray([7]),
        np.asarray([], dtype=np.int64),
    ],
    ids=["increasing", "decreasing", "runs", "random", "one", "empty"],
)
def test_duplicate_count_is_rows_minus_distinct(ids: np.ndarray) -> None:
    assert duplicate_count(ids) == ids.shape[0] - np.unique(ids).shape[0]


def test_quantity_sums_match_weighted_bincounts() -> None:
    rng = np.random.default_rng(5)
    categories = 7
    category = rng.integers(0, categories, SAMPLE)
    quantity = rng.integers(1, 9, SAMPLE)
    np.testing.assert_array_equal(
        quantity_sums(category, quantity, categories),
        np.bincount(category, quantity.astype(np.float64), categories),
    )
    # values a valid basket never has, which the table does not hold
    quantity[:5] = [-3, 0, QUANTITY_TABLE, 999, -QUANTITY_TABLE]
    np.testing.assert_array_equal(
        quantity_sums(category, quantity, categories),
        np.bincount(category, quantity.astype(np.float64), categories),
    )


def test_unit_price_cells_follow_the_log_price_bins() -> None:
    rng = np.random.default_rng(8)
    categories = 5
    price = rng.integers(1, 10**9, SAMPLE)
    price[:4] = [0, 1, 10**8, 10**10]  # below one cent, on edges, past the last edge
    category = rng.integers(-1, categories, SAMPLE)
    cells = price_cells(category, price, categories)
    bins = np.searchsorted(LOG_PRICE_EDGES, np.log10(np.maximum(price, 1)), side="right")
    expected = np.where(category >= 0, category * PRICE_BINS + bins, categories * PRICE_BINS)
    np.testing.assert_array_equal(cells, expected)


def test_line_totals_by_running_sum_match_reduceat() -> None:
    rng = np.random.default_rng(9)
    items = rng.integers(1, 12, 5_000)
    starts = np.concatenate([[0], np.cumsum(items)[:-1]])
    net = rng.integers(-(10**12), 10**12, int(items.sum()))
    owners = LineOwners(items, np.ones(net.shape[0], bool), np.zeros(0, np.int64), starts)
    np.testing.assert_array_equal(owners.totals(net), np.add.reduceat(net, starts))


def test_id_index_resolves_like_a_dictionary() -> None:
    table = np.asarray([10, 20, 30, 40])
    ids = np.asarray([1, 4, 0, 5, -2, 3])
    index = IdIndex.of(ids, table.shape[0])
    expected = [{1: 10, 2: 20, 3: 30, 4: 40}.get(int(i), -1) for i in ids]
    np.testing.assert_array_equal(index.take(table, -1), expected)
    np.testing.assert_array_equal(index.resolvable, [e != -1 for e in expected])
    complete = IdIndex.of(np.asarray([2, 3]), table.shape[0])
    assert complete.complete
    np.testing.assert_array_equal(complete.take(table, -1), [20, 30])
    np.testing.assert_array_equal(IdIndex.of(ids, 0).take(table[:0], -7), [-7] * ids.shape[0])


@pytest.mark.parametrize(
    "dictionary",
    [["a", "b", "c"], ["c", "a", "b"], ["a", "zz", "b"]],
    ids=["labels-order", "permuted", "unknown-label"],
)
@pytest.mark.parametrize("with_nulls", [False, True])
def test_column_codes_follow_the_labels(dictionary: list[str], with_nulls: bool) -> None:
    labels = ("a", "b", "c")
    rng = np.random.default_rng(1)
    indices = rng.integers(0, len(dictionary), 1_000).astype(np.int32)
    mask = (rng.random(1_000) < 0.1) if with_nulls else None
    column = pa.DictionaryArray.from_arrays(
        pa.array(indices, mask=mask), pa.array(dictionary, pa.string())
    )
    codes, unknown = column_codes(pa.table({"x": column}), "x", labels)
    values = column.to_pylist()
    expected = [labels.index(v) if v in labels else -1 for v in values]
    np.testing.assert_array_equal(codes, expected)
    assert unknown == sum(v is not None and v not in labels for v in values)


def test_the_validation_task_loads_without_statistical_tests() -> None:
    """A worker unpickling the validation task imports its module; scipy.stats would cost
    each worker about a second before its first unit. (numba, which the compiled kernels
    import, loads scipy.linalg's BLAS bindings, 0.14 s, not scipy.stats.)"""
    import pickle
    import subprocess
    import sys

    from synthpipe.validate.units import packed_batch_stats

    probe = (
        "import pickle, sys; pickle.loads(sys.stdin.buffer.read()); "
        "print(sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'prefect'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        input=pickle.dumps(packed_batch_stats),
        capture_output=True,
        check=True,
    )
    assert result.stdout.decode().strip() == "[]"
