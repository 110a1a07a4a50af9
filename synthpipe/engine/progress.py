"""Console progress while a run works: a live bar per stage on a terminal (partitions,
rate, time left), or a few plain lines in a log ("generate: 12/24 partitions")."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

REPORT_EVERY_SECONDS = 2.0  # when stderr is not a terminal, print at most this often
Listener = Callable[[int, int], None]


class ConsoleProgress:
    """A progress callback: a rich bar on a terminal, plain lines otherwise; ``listeners``
    hear every update too (the flow's Prefect progress artifact)."""

    def __init__(
        self, label: str, stream: TextIO | None = None, listeners: tuple[Listener, ...] = ()
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self.listeners = listeners
        self.last = 0.0
        self.started = time.monotonic()
        self._bar: Progress | None = None
        self._task = TaskID(0)

    def __call__(self, done: int, total: int) -> None:
        """Report ``done`` of ``total``."""
        for listener in self.listeners:
            listener(done, total)
        if self.terminal:
            self._draw(done, total)
        else:
            self._line(done, total)

    def _draw(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("partitions"),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("left"),
                console=Console(file=self.stream),
            )
            self._task = self._bar.add_task(self.label, total=total)
            self._bar.start()
        self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self._bar.stop()

    def _line(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done == total
        if not finished and now - self.last < REPORT_EVERY_SECONDS and done:
            return
        self.last = now
        percent = 100.0 * done / total if total else 100.0
        self.stream.write(
            f"{self.label}: {done}/{total} partitions ({percent:.0f}%), {now - self.started:.1f}s\n"
        )
        self.stream.flush()
