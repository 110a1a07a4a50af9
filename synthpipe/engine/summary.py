"""The summary of a run, as the flow returns it and ``synthpipe run`` prints it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

from synthpipe.validate.results import Document

SUMMARY_INDENT = 2  # the indent of the file ``synthpipe run --summary FILE`` writes


class RunSummary(Document):
    """Rows per table, seconds, where data and report are, what was generated and kept.

    A run with nothing to regenerate has no ``generated_rows``, ``busy`` or ``workers``:
    those keys are left out of its JSON, as they always were."""

    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset({"generated_rows", "busy", "workers"})

    rows: Mapping[str, int]
    seconds: float
    data: str
    report: str
    partitions: int
    generated: int
    skipped: int
    generated_rows: Mapping[str, int] | None = None
    timings: Mapping[str, float]
    busy: Mapping[str, float] | None = None  # core-seconds each stage's Dask tasks worked
    workers: int | None = None

    def lines(self) -> list[str]:
        """What ``synthpipe run`` prints when the run is done."""
        rows = _counted(self.rows)
        seconds = f"{self.seconds:.1f}s"
        if self.generated == 0:
            lines = [f"up to date: {rows}, nothing regenerated ({seconds})"]
        elif self.skipped:
            # a refresh: say what was made and what was kept, then what the dataset holds
            made_rows = _counted(self.generated_rows or {}) or "no rows"
            lines = [
                f"generated {self.generated} of {self.partitions} partitions"
                f" ({made_rows}) in {seconds}; kept {self.skipped} unchanged",
                f"dataset: {rows}",
            ]
        else:
            lines = [f"wrote {rows} in {seconds}"]
        return [*lines, f"data:   {self.data}", f"report: {self.report}"]


def _counted(rows: Mapping[str, int]) -> str:
    """``1,200 customers, 3,400 transactions``."""
    return ", ".join(f"{n:,} {table}" for table, n in rows.items())


def summary_json(summary: RunSummary) -> str:
    """The summary's JSON, as ``--summary FILE`` holds it (no newline at the end)."""
    return json.dumps(summary.model_dump(mode="json"), indent=SUMMARY_INDENT)
