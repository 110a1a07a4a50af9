"""What every estimator family of ``synthpipe fit`` shares: the values it returns, the
rows' bootstrap weights and the spec's form of a profile."""

from __future__ import annotations

import numpy as np

from synthpipe.fit.sample import Sample

PROFILE_FLOOR = 1e-3  # a profile cell with no purchase keeps this much weight (spec: > 0)
# an estimate clipped to an open end of its spec range (``gt``) is kept this far inside it
OPEN_BOUND_MARGIN = 0.01

Values = dict[str, object]


def row_weights(sample: Sample, weights: np.ndarray) -> np.ndarray:
    """Each row's bootstrap weight; 0 for a row labelled fraud (the legitimate behaviour
    is what these estimators describe)."""
    row = np.asarray(weights[sample.customer], dtype=np.float64)
    return row if sample.fraud is None else np.where(sample.fraud, 0.0, row)


def spec_profile(values: np.ndarray) -> list[float]:
    """Scaled to mean 1, no cell below PROFILE_FLOOR, rounded for the spec."""
    scaled = values / max(float(values.mean()), 1e-300)
    return [round(float(v), 4) for v in np.maximum(scaled, PROFILE_FLOOR)]
