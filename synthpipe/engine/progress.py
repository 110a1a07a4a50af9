"""Console progress: "generate 12/24 partitions" on stderr while a run works."""

from __future__ import annotations

import sys
import time
from typing import TextIO

REPORT_EVERY_SECONDS = 2.0  # when stderr is not a terminal, print at most this often


class ConsoleProgress:
    """A progress callback that rewrites one line on a terminal, or prints a few lines."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.last = 0.0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        """Report ``done`` of ``total``."""
        now = time.monotonic()
        finished = done == total
        if not finished and not self.terminal and now - self.last < REPORT_EVERY_SECONDS and done:
            return
        self.last = now
        percent = 100.0 * done / total if total else 100.0
        text = (
            f"{self.label}: {done}/{total} partitions ({percent:.0f}%), {now - self.started:.1f}s"
        )
        if self.terminal:
            self.stream.write("\r" + text + ("\n" if finished else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
