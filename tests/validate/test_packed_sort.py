"""The validator's packed-key sort of integer triples equals numpy's three-key lexsort."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from synthpipe.validate.measures.baskets import sorted_triples

SMALL = st.integers(min_value=0, max_value=40)
ANY_INT64 = st.integers(min_value=-(2**62), max_value=2**62)


def _lexsorted(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> list[np.ndarray]:
    order = np.lexsort((c, b, a))
    return [a[order], b[order], c[order]]


def _assert_sorted_like_lexsort(rows: list[tuple[int, int, int]]) -> None:
    a, b, c = (np.asarray(column, dtype=np.int64) for column in zip(*rows, strict=True))
    for got, want in zip(sorted_triples(a, b, c), _lexsorted(a, b, c), strict=True):
        np.testing.assert_array_equal(got, want)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(SMALL, SMALL, SMALL), min_size=1, max_size=300))
def test_packed_sort_equals_lexsort(rows: list[tuple[int, int, int]]) -> None:
    _assert_sorted_like_lexsort(rows)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(ANY_INT64, SMALL, ANY_INT64), min_size=1, max_size=100))
def test_values_too_spread_to_pack_still_sort_exactly(rows: list[tuple[int, int, int]]) -> None:
    _assert_sorted_like_lexsort(rows)


def test_narrow_integer_columns_are_widened_before_packing() -> None:
    customers = np.array([70_000, 5, 70_000, 5], dtype=np.int64)
    categories = np.array([120, 3, 2, 3], dtype=np.int8)  # int8 arithmetic would wrap
    brands = np.array([30_000, 1, 7, 0], dtype=np.int16)
    got = sorted_triples(customers, categories, brands)
    want = _lexsorted(customers, categories.astype(np.int64), brands.astype(np.int64))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
