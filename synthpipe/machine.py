"""What this machine offers a run."""

from __future__ import annotations

import os


def available_cores() -> int:
    """CPU cores available to this process (its affinity on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
