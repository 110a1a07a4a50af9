"""Mergeable statistics: a dict of named counts, sums, histograms and extremes.

Keys ending in ``__min`` / ``__max`` merge by min / max, ``__first`` keeps the first
value (a table that should exist once), ``issues`` and ``files`` are lists that
concatenate (issues are capped), everything else adds element-wise. So
statistics of any number of files merge in any order to the same result, in memory
bounded by the spec (calendar days, categories), not by the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

Stats = dict[str, Any]
MAX_ISSUES = 50  # examples of integrity problems kept for the report


def merge_two(left: Stats, right: Stats) -> Stats:
    """Merge ``right`` into a copy of ``left``."""
    merged = dict(left)
    for key, value in right.items():
        if key not in merged:
            merged[key] = value.copy() if isinstance(value, (np.ndarray, list)) else value
        elif key == "issues":
            merged[key] = (merged[key] + value)[:MAX_ISSUES]
        elif key == "files":
            merged[key] = merged[key] + value
        elif key.endswith("__first"):
            continue
        elif key.endswith("__min"):
            merged[key] = min(merged[key], value)
        elif key.endswith("__max"):
            merged[key] = max(merged[key], value)
        else:
            merged[key] = merged[key] + value
    return merged


def merge_all(parts: Iterable[Stats]) -> Stats:
    """Merge any number of statistics."""
    merged: Stats = {}
    for part in parts:
        merged = merge_two(merged, part)
    return merged


def issue(stats: Stats, message: str) -> None:
    """Record an example integrity problem."""
    stats.setdefault("issues", [])
    if len(stats["issues"]) < MAX_ISSUES:
        stats["issues"].append(message)
