"""Mergeable statistics: a dict of named counts, sums, histograms and extremes.

Each statistic merges by the rule declared with it in ``synthpipe.validate.statistics``
(sum, min, max, first, concatenation), so statistics of any number of files merge in any
order to the same result, in memory bounded by the spec (calendar days, categories), not
by the data.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from synthpipe.validate import statistics as st
from synthpipe.validate.statistics import MAX_ISSUES, Merge, Stats, merge_rule

__all__ = ["Stats", "issue", "merge_all", "merge_two"]


def merge_two(left: Stats, right: Stats) -> Stats:
    """Merge ``right`` into a copy of ``left``."""
    merged = dict(left)
    for key, value in right.items():
        if key not in merged:
            merged[key] = value.copy() if isinstance(value, (np.ndarray, list)) else value
            continue
        rule = merge_rule(key)
        if rule is Merge.ADD or rule is Merge.EXTEND:
            merged[key] = merged[key] + value
        elif rule is Merge.ISSUES:
            merged[key] = (merged[key] + value)[:MAX_ISSUES]
        elif rule is Merge.MIN:
            merged[key] = min(merged[key], value)
        elif rule is Merge.MAX:
            merged[key] = max(merged[key], value)
        # Merge.FIRST: the value already there stays
    return merged


def merge_all(parts: Iterable[Stats]) -> Stats:
    """Merge any number of statistics."""
    merged: Stats = {}
    for part in parts:
        merged = merge_two(merged, part)
    return merged


def issue(stats: Stats, message: str) -> None:
    """Record an example integrity problem."""
    stats.setdefault(st.ISSUES, [])
    if len(stats[st.ISSUES]) < MAX_ISSUES:
        stats[st.ISSUES].append(message)
