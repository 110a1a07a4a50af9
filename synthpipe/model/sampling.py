"""Vectorised sampling helpers that consume exactly one uniform per draw.

Consuming a fixed number of uniforms per draw keeps every stream prefix-stable: the draws
for the first n rows never depend on how many rows come after them.
"""

from __future__ import annotations

import numpy as np


def cumulative(weights: np.ndarray) -> np.ndarray:
    """Normalised cumulative distribution of non-negative weights along the last axis."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w, axis=-1)
    total = cdf[..., -1:]
    return np.divide(cdf, total, out=np.zeros_like(cdf), where=total > 0)


def categorical(uniforms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn from ``weights`` for each uniform in [0, 1)."""
    cdf = cumulative(weights)
    index = np.searchsorted(cdf, uniforms, side="right")
    return np.asarray(np.minimum(index, cdf.shape[-1] - 1))


def grouped_categorical(
    uniforms: np.ndarray, groups: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Index drawn from row ``groups[i]`` of the (G, K) weight table, for each uniform.

    One searchsorted over the flattened table: row g's cumulative distribution is shifted
    into [g, g + 1], so the draw ``g + u`` can only land inside row g.
    """
    cdf = cumulative(weights)
    n_groups, n_values = cdf.shape
    shifted = (cdf + np.arange(n_groups, dtype=np.float64)[:, None]).ravel()
    target = groups.astype(np.float64) + uniforms
    position = np.searchsorted(shifted, target, side="right")
    value = position - groups.astype(np.int64) * n_values
    return np.asarray(np.clip(value, 0, n_values - 1))


def stochastic_round(values: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Round down or up with probability equal to the fractional part (unbiased)."""
    floor = np.floor(values)
    return np.asarray(floor + (uniforms < values - floor), dtype=np.int64)


def group_offsets(counts: np.ndarray) -> np.ndarray:
    """Start offset of each group in a flat array, given per-group counts."""
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def rank_within_groups(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[g]-1 for each group g, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(group_offsets(counts)[:-1], counts)
    return np.asarray(np.arange(total, dtype=np.int64) - starts)
