"""The compiled kernels return what the numpy expressions they replaced returned."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthpipe.model.kernels import version_positions

SPAN = 1 << 26  # the validator's (row, day) key span


def _by_binary_search(keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The validator's former lookup: the last key at most the wanted one, if it is the
    row's."""
    position = np.searchsorted(keys, wanted, side="right") - 1
    safe = np.maximum(position, 0)
    same = (position >= 0) & (keys[safe] // SPAN == rows) if keys.size else position >= 0
    return np.where(same, position, -1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 30), st.integers(0, 400)), max_size=120),
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 420)), min_size=1, max_size=200),
)
def test_version_positions_equal_the_binary_search(
    versions: list[tuple[int, int]], queries: list[tuple[int, int]]
) -> None:
    rows_of_customers = 31
    keys = np.sort(np.asarray([r * SPAN + d for r, d in versions], dtype=np.int64))
    first = np.searchsorted(keys, np.arange(rows_of_customers + 1, dtype=np.int64) * SPAN)
    rows = np.asarray([r for r, _ in queries], dtype=np.int64)
    wanted = np.asarray([r * SPAN + d for r, d in queries], dtype=np.int64)
    got = version_positions(keys, first.astype(np.int64), rows, wanted)
    np.testing.assert_array_equal(got, _by_binary_search(keys, rows, wanted))


def test_a_row_outside_the_table_has_no_version() -> None:
    keys = np.asarray([0, 5, SPAN + 3], dtype=np.int64)
    first = np.asarray([0, 2, 3], dtype=np.int64)
    rows = np.asarray([-1, 2, 0, 1, 1], dtype=np.int64)
    wanted = np.asarray([10, 2 * SPAN + 9, 4, SPAN + 2, SPAN + 3], dtype=np.int64)
    np.testing.assert_array_equal(
        version_positions(keys, first, rows, wanted), np.asarray([-1, -1, 0, -1, 2])
    )
