"""Units of time on the data path: timestamps are integer microseconds since midnight."""

from __future__ import annotations

MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
MICROS_PER_DAY = 24 * MICROS_PER_HOUR
HOURS_PER_DAY = 24
