"""Vectorised sampling helpers that consume exactly one uniform per draw.

Consuming a fixed number of uniforms per draw keeps every stream prefix-stable: the draws
for the first n rows never depend on how many rows come after them.

Inverse-CDF sampling runs through ``InverseCdf``, a guide table (indexed search): it
returns exactly what ``numpy.searchsorted(cdf, x, side="right")`` returns, with a couple
of memory probes instead of a binary search over a large array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthpipe.model.kernels import guided_search

GUIDE_FACTOR = 2  # guide buckets per cdf entry: ~1 probe past the guess on average
POISSON_TAIL = 1e-16  # Poisson tables stop where the remaining mass is below this
POISSON_MAX_SUPPORT = 10_000  # largest value a Poisson table can hold


@dataclass(frozen=True)
class InverseCdf:
    """A non-decreasing cumulative array with a guide table for fast exact search."""

    cumulative: np.ndarray
    guide: np.ndarray
    scale: float  # guide buckets per unit of the cumulative scale

    @classmethod
    def build(cls, cumulative: np.ndarray) -> InverseCdf:
        """Index ``cumulative`` (non-decreasing, last value positive or all zero)."""
        values = np.ascontiguousarray(cumulative, dtype=np.float64)
        top = float(values[-1]) if values.size else 0.0
        buckets = max(GUIDE_FACTOR * values.shape[0], 1)
        scale = buckets / top if top > 0 else 0.0
        if not math.isfinite(scale) or scale <= 0:  # empty or subnormal total: plain scan
            return cls(values, np.zeros(buckets, dtype=np.int64), 0.0)
        # guide[j] = how many values fall in buckets below j: a guess for the first value
        # above bucket j's left edge, which search() corrects in either direction.
        with np.errstate(over="ignore"):
            bucket_of = np.clip(values * scale, 0, buckets - 1).astype(np.int64)
        below = np.cumsum(np.bincount(bucket_of, minlength=buckets))
        guide = np.concatenate([[0], below[:-1]]).astype(np.int64)
        return cls(values, guide, scale)

    def search(self, targets: np.ndarray) -> np.ndarray:
        """``numpy.searchsorted(self.cumulative, targets, side="right")``, exactly."""
        flat = np.ascontiguousarray(targets, dtype=np.float64).reshape(-1)
        found = guided_search(self.cumulative, self.guide, float(self.scale), flat)
        return np.asarray(found.reshape(np.shape(targets)))


def cumulative(weights: np.ndarray) -> np.ndarray:
    """Normalised cumulative distribution of non-negative weights along the last axis."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w, axis=-1)
    total = cdf[..., -1:]
    return np.divide(cdf, total, out=np.zeros_like(cdf), where=total > 0)


def categorical(uniforms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index drawn from ``weights`` for each uniform in [0, 1)."""
    cdf = cumulative(weights)
    index = InverseCdf.build(cdf).search(uniforms)
    return np.asarray(np.minimum(index, cdf.shape[-1] - 1))


def grouped_categorical(
    uniforms: np.ndarray, groups: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Index drawn from row ``groups[i]`` of the (G, K) weight table, for each uniform.

    Row g's cumulative distribution is shifted into [g, g + 1] and the rows are searched
    as one array, so the draw ``g + u`` can only land inside row g.
    """
    cdf = cumulative(weights)
    n_groups, n_values = cdf.shape
    shifted = (cdf + np.arange(n_groups, dtype=np.float64)[:, None]).ravel()
    target = groups.astype(np.float64) + uniforms
    position = InverseCdf.build(shifted).search(target)
    value = position - groups.astype(np.int64) * n_values
    return np.asarray(np.clip(value, 0, n_values - 1))


def poisson_table(means: np.ndarray) -> np.ndarray:
    """(groups, support) cumulative Poisson distributions, one row per mean, truncated
    where the remaining mass is below POISSON_TAIL (below a double uniform's resolution)."""
    means = np.asarray(means, dtype=np.float64)
    top = max((float(m) + 12.0 * math.sqrt(float(m)) + 40.0 for m in means), default=1.0)
    support = min(int(top), POISSON_MAX_SUPPORT)
    k = np.arange(support, dtype=np.float64)
    log_pmf = k[None, :] * np.log(np.maximum(means, 1e-300))[:, None] - means[:, None]
    log_pmf -= np.asarray([math.lgamma(x + 1.0) for x in k])[None, :]
    pmf = np.where(means[:, None] > 0, np.exp(log_pmf), (k[None, :] == 0).astype(np.float64))
    table = np.cumsum(pmf, axis=1)
    table[table > 1.0 - POISSON_TAIL] = 1.0
    return table


def poisson_by_group(uniforms: np.ndarray, groups: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Poisson draws by inverse CDF: row ``groups[i]`` of a ``poisson_table``."""
    return grouped_categorical(uniforms, groups, np.diff(table, axis=1, prepend=0.0))


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
