"""Compiled kernels: the loops that whole-column numpy expresses only as many passes.

Each kernel is compiled with numba for the one signature it is called with, when this
module is imported, and cached on disk (``cache=True``): the first import on a machine
compiles (about a second, see ``make bench``), every later one loads the cached machine
code. The fork server the Dask workers are forked from imports the generation modules, so
no worker ever compiles. There is one code path: no pure-numpy twin to keep in step. A
kernel returns exactly what the numpy expression it replaces returned, so the bytes of
the data do not depend on it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Signature of ``guided_search``: cumulative values, guide table, guide scale, targets.
GUIDED_SEARCH_SIGNATURE = "int64[::1](float64[::1], int64[::1], float64, float64[::1])"


@njit(GUIDED_SEARCH_SIGNATURE, cache=True, nogil=True)
def guided_search(
    values: np.ndarray, guide: np.ndarray, scale: float, targets: np.ndarray
) -> np.ndarray:  # pragma: no cover (compiled: coverage cannot see inside)
    """``numpy.searchsorted(values, targets, side="right")`` for a non-decreasing
    ``values``, starting each search at the guide table's guess for the target's bucket
    (``floor(target x scale)``, clipped to the table; NaN to bucket 0) and stepping back or
    ahead to the exact position: about one probe per target instead of a binary search."""
    n = values.shape[0]
    last_bucket = guide.shape[0] - 1
    found = np.empty(targets.shape[0], dtype=np.int64)
    for i in range(targets.shape[0]):
        target = targets[i]
        position = target * scale
        if position != position or position <= 0.0:  # NaN, negative or zero
            bucket = 0
        elif position >= last_bucket:
            bucket = last_bucket
        else:
            bucket = int(position)
        index = guide[bucket]
        while index > 0 and values[index - 1] > target:
            index -= 1
        while index < n and values[index] <= target:
            index += 1
        found[i] = index
    return found


# Signature of ``version_positions``: sorted keys, each row's first key, rows, wanted keys.
VERSION_POSITIONS_SIGNATURE = "int64[::1](int64[::1], int64[::1], int64[::1], int64[::1])"


@njit(VERSION_POSITIONS_SIGNATURE, cache=True, nogil=True)
def version_positions(
    keys: np.ndarray, first: np.ndarray, rows: np.ndarray, wanted: np.ndarray
) -> np.ndarray:  # pragma: no cover (compiled: coverage cannot see inside)
    """For each query (a row and its wanted key), the position of the row's last key at
    most the wanted one, or -1 where the row has none. ``keys`` is sorted, and row r's keys
    are ``keys[first[r]:first[r + 1]]``: a customer has a few versions, so each query scans
    them from the first instead of a binary search over the whole block's history."""
    found = np.empty(rows.shape[0], dtype=np.int64)
    last_row = first.shape[0] - 1
    for i in range(rows.shape[0]):
        row = rows[i]
        position = -1
        if 0 <= row < last_row:
            index = first[row]
            end = first[row + 1]
            while index < end and keys[index] <= wanted[i]:
                position = index
                index += 1
        found[i] = position
    return found
