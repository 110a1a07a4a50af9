"""Mergeable statistics: a dict of named counts, sums, histograms and extremes.

Each statistic merges by the rule declared with it in ``synthpipe.validate.statistics``
(sum, min, max, first, concatenation), so statistics of any number of files merge in any
order to the same result, in memory bounded by the spec (calendar days, categories), not
by the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from synthpipe.validate import statistics as st
from synthpipe.validate.statistics import MAX_ISSUES, Merge, Stats, merge_rule

__all__ = ["Stats", "issue", "merge_all", "merge_owned", "merge_two"]


def merge_two(left: Stats, right: Stats) -> Stats:
    """Merge ``right`` into a copy of ``left``."""
    merged = dict(left)
    for key, value in right.items():
        if key not in merged:
            merged[key] = value.copy() if isinstance(value, (np.ndarray, list)) else value
        else:
            merged[key] = _combined(key, merged[key], value)
    return merged


def merge_owned(parts: Iterable[Stats]) -> Stats:
    """Merge statistics that no one else holds (computed for this merge alone): their
    values are taken as they are, where ``merge_two`` copies them."""
    merged: Stats = {}
    for part in parts:
        for key, value in part.items():
            merged[key] = _combined(key, merged[key], value) if key in merged else value
    return merged


def _combined(key: st.StatKey, left: Any, right: Any) -> Any:
    """Two values of one statistic, merged by its rule."""
    rule = merge_rule(key)
    if rule is Merge.ADD or rule is Merge.EXTEND:
        return left + right
    if rule is Merge.ISSUES:
        return (left + right)[:MAX_ISSUES]
    if rule is Merge.MIN:
        return min(left, right)
    if rule is Merge.MAX:
        return max(left, right)
    return left  # Merge.FIRST: the value already there stays


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
