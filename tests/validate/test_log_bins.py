"""LogBins places every int64 exactly where a log10 and a search would."""

from __future__ import annotations

import numpy as np
import pytest

from synthpipe.validate.binning import (
    AMBIGUOUS,
    EXPONENT_BIAS,
    LOG_AMOUNT_EDGES,
    SLICE_BITS,
    SLICE_SHIFT,
    LogBins,
)

RANDOM_VALUES = 1_000_000


def reference_bins(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The definition: the right-side search of log10(max(v, 1)) among the edges."""
    return np.searchsorted(edges, np.log10(np.maximum(values, 1).astype(np.float64)), "right")


@pytest.mark.parametrize(
    "edges",
    [LOG_AMOUNT_EDGES, np.linspace(0.0, 18.5, 38), np.array([0.5]), np.array([2.0, 2.0, 3.0])],
    ids=["amount-edges", "wide", "one-edge", "repeated-edge"],
)
def test_log_bins_match_log10_search(edges: np.ndarray) -> None:
    bins = LogBins(edges)
    rng = np.random.default_rng(20261123)
    # log-uniform values over the whole int64 range, where the slices are narrow and wide
    spread = (10.0 ** rng.uniform(0.0, 18.9, RANDOM_VALUES)).astype(np.int64)
    # every value one below, at and one above each edge's integer threshold: the values
    # a bit-pattern shortcut would get wrong
    around = (bins.thresholds[:, None] + np.arange(-1, 2)[None, :]).ravel()
    extremes = np.array([np.iinfo(np.int64).min, -1, 0, 1, 2, np.iinfo(np.int64).max])
    values = np.concatenate([spread, around, extremes]).astype(np.int64)
    np.testing.assert_array_equal(bins(values), reference_bins(bins.edges, values))


def test_few_values_need_the_search() -> None:
    """The lookup answers almost every amount; the search is the exception it is meant to be."""
    bins = LogBins(LOG_AMOUNT_EDGES)
    rng = np.random.default_rng(7)
    cents = (10.0 ** rng.uniform(2.0, 6.0, RANDOM_VALUES)).astype(np.int64)
    key = (cents.astype(np.float64).view(np.int64) >> SLICE_SHIFT) - (EXPONENT_BIAS << SLICE_BITS)
    searched_share = float(np.mean(bins.lookup[key] == AMBIGUOUS))
    assert searched_share < 0.05
