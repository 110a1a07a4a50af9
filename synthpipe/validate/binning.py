"""Histogram bins of integer amounts on a log10 scale, exact and without a logarithm per
value: the float64 bit pattern of a positive integer (exponent and leading mantissa bits)
already says which log bin it falls in, except in the few narrow slices that hold an
edge, where the value is placed by a search."""

from __future__ import annotations

import math

import numpy as np

MANTISSA_BITS = 52
SLICE_BITS = 10  # leading mantissa bits kept: slices 1/1024 of an octave wide
SLICE_SHIFT = MANTISSA_BITS - SLICE_BITS
EXPONENT_BIAS = 1023
MAX_OCTAVES = 64  # every int64 value, 2**63 - 1 rounding up to 2**63 included
AMBIGUOUS = -1


def integer_thresholds(log_edges: np.ndarray) -> np.ndarray:
    """The smallest integer ``v`` with ``log10(v) >= edge``, for each edge (as numpy's float
    log10 decides it)."""
    thresholds = []
    for edge in log_edges.tolist():
        value = max(1, math.ceil(10.0**edge))
        while value > 1 and np.log10(np.float64(value - 1)) >= edge:
            value -= 1
        while np.log10(np.float64(value)) < edge:
            value += 1
        thresholds.append(value)
    return np.asarray(thresholds, dtype=np.int64)


class LogBins:
    """``searchsorted(edges, log10(max(v, 1)), side="right")`` for int64 ``v``: 0 below the
    first edge, ``len(edges)`` from the last one on."""

    def __init__(self, log_edges: np.ndarray) -> None:
        self.edges = np.asarray(log_edges, dtype=np.float64)
        self.thresholds = integer_thresholds(self.edges)
        slices = MAX_OCTAVES << SLICE_BITS
        key = np.arange(slices, dtype=np.int64) + (EXPONENT_BIAS << SLICE_BITS)
        low = (key << SLICE_SHIFT).view(np.float64)  # smallest value of each slice
        high = ((key + 1) << SLICE_SHIFT).view(np.float64)  # first value past it
        low_bin = np.searchsorted(self.thresholds, np.ceil(low), side="right")
        high_bin = np.searchsorted(self.thresholds, np.ceil(high) - 1, side="right")
        self.lookup = np.where(low_bin == high_bin, low_bin, AMBIGUOUS)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Bin of each value (int64; values below 1 count as 1)."""
        clipped = np.maximum(values, 1)
        key = (clipped.astype(np.float64).view(np.int64) >> SLICE_SHIFT) - (
            EXPONENT_BIAS << SLICE_BITS
        )
        bins = self.lookup.take(key)
        ambiguous = np.flatnonzero(bins == AMBIGUOUS)  # few: index them, not mask them
        if ambiguous.size:
            bins[ambiguous] = np.searchsorted(self.thresholds, clipped[ambiguous], side="right")
        return np.asarray(bins)


# Log10 of an amount in cents, fixed bins: the histograms of line net amounts (per
# category) and of transaction amounts (per signature group) the report draws.
LOG_AMOUNT_EDGES = np.linspace(0.0, 7.0, 141)
AMOUNT_BINS = LogBins(LOG_AMOUNT_EDGES)
