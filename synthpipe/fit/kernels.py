"""The compiled kernel of ``synthpipe fit``: the per-customer sum of the seasonal Pareto/NBD
likelihood, a loop over each customer's possible dropout days that whole-column numpy
would have to spell as a customers x days matrix per likelihood evaluation.

Compiled with numba for its one signature when this module is imported, and cached on
disk (``cache=True``), like ``synthpipe.model.kernels``; only ``synthpipe fit`` imports it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# Signature of ``dropout_day_sums``: r + x, last purchase day, watched days, start row,
# before row, log(alpha + exposure) per start row and day, staying per before row and day.
DROPOUT_DAY_SUMS_SIGNATURE = (
    "float64[::1](float64[::1], int64[::1], int64[::1], int64[::1], int64[::1],"
    " float64[:, ::1], float64[:, ::1])"
)


@njit(DROPOUT_DAY_SUMS_SIGNATURE, cache=True, nogil=True)
def dropout_day_sums(
    power: np.ndarray,
    last: np.ndarray,
    watched: np.ndarray,
    start_row: np.ndarray,
    before_row: np.ndarray,
    log_rate: np.ndarray,
    staying: np.ndarray,
) -> np.ndarray:  # pragma: no cover (compiled: coverage cannot see inside)
    """For each customer history g, log of sum over the days k it may have stopped on
    (after its last purchase day, or still buying at the end of its T watched days) of
    P(stops on day k) x (alpha + exposure of its first k days)^-(r + x):
    staying[b, T] (alpha + E_T)^-(r + x) + sum_{k = last + 1}^{T - 1} (staying[b, k] -
    staying[b, k + 1]) (alpha + E_k)^-(r + x), with log(alpha + E_k) = log_rate[s, k] for
    the history's start row s and staying row b. The largest term (the first: the log rate
    grows with k) is factored out, so no term overflows."""
    out = np.empty(power.shape[0])
    for g in range(power.shape[0]):
        rates = log_rate[start_row[g]]
        stay = staying[before_row[g]]
        end = watched[g]
        shift = -power[g] * rates[last[g] + 1]
        total = stay[end] * math.exp(-power[g] * rates[end] - shift)
        for k in range(last[g] + 1, end):
            total += (stay[k] - stay[k + 1]) * math.exp(-power[g] * rates[k] - shift)
        out[g] = math.log(max(total, 1e-300)) + shift
    return out
