"""Exact money: amounts are integer cents in numpy and decimal128 in Arrow and Parquet."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

CENTS = 100
MONEY_PRECISION = 14  # digits; up to 999,999,999,999.99
PRICE_PRECISION = 10  # digits; up to 99,999,999.99
MONEY_SCALE = 2


def money_type(precision: int = MONEY_PRECISION) -> pa.Decimal128Type:
    """The Arrow type of a money column."""
    return pa.decimal128(precision, MONEY_SCALE)


def cents_to_decimal(cents: np.ndarray, precision: int = MONEY_PRECISION) -> pa.Array:
    """Wrap int64 cents as a decimal128 array without any per-value conversion."""
    values = np.ascontiguousarray(cents, dtype=np.int64)
    wide = np.empty(2 * values.shape[0], dtype=np.int64)
    wide[0::2] = values  # little-endian low word
    np.right_shift(values, 63, out=wide[1::2])  # sign extension into the high word
    return pa.Array.from_buffers(money_type(precision), values.shape[0], [None, pa.py_buffer(wide)])


def decimal_to_cents(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Read a decimal128 (scale 2) column back as int64 cents (nulls become 0)."""
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks == 0:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([decimal_to_cents(chunk) for chunk in array.chunks])
    if not pa.types.is_decimal128(array.type) or array.type.scale != MONEY_SCALE:
        raise TypeError(f"expected decimal128 with scale {MONEY_SCALE}, got {array.type}")
    data = array.buffers()[1]
    words = np.frombuffer(data, dtype=np.int64, count=2 * (array.offset + len(array)))
    cents = words[2 * array.offset :: 2].copy()
    if array.null_count:
        cents[~np.asarray(array.is_valid())] = 0
    return cents
