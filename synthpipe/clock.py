"""Units of time on the data path: timestamps are integer microseconds since midnight,
days are numpy datetime64[D] (or whole days since UNIX_EPOCH), rates are per 365.25 days."""

from __future__ import annotations

import numpy as np

UNIX_EPOCH = np.datetime64("1970-01-01", "D")
DAYS_PER_YEAR = 365.25

MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
MICROS_PER_DAY = 24 * MICROS_PER_HOUR
HOURS_PER_DAY = 24
