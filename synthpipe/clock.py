"""Units of time on the data path: timestamps are integer microseconds since midnight,
days are numpy datetime64[D] (or whole days since UNIX_EPOCH), rates are per 365.25 days."""

from __future__ import annotations

import datetime as dt

import numpy as np

UNIX_EPOCH = np.datetime64("1970-01-01", "D")
UNIX_EPOCH_DATE = dt.date(1970, 1, 1)
UNIX_EPOCH_ORDINAL = UNIX_EPOCH_DATE.toordinal()
DAYS_PER_WEEK = 7
THURSDAY_OFFSET = 3  # 1970-01-01 was a Thursday: (days since UNIX_EPOCH + 3) % 7, Monday = 0
NIGHT_END_HOUR = 6  # night-time online sales fall between midnight and this hour
DAYS_PER_YEAR = 365.25

MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
MICROS_PER_DAY = 24 * MICROS_PER_HOUR
HOURS_PER_DAY = 24


def weekday_of(days: np.ndarray) -> np.ndarray:
    """The weekday (Monday = 0) of each day number (days since UNIX_EPOCH)."""
    return np.asarray((np.asarray(days, dtype=np.int64) + THURSDAY_OFFSET) % DAYS_PER_WEEK)
