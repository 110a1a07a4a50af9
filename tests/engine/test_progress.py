"""Progress: a live bar on a terminal, a few plain lines in a log, and listeners (the
flow's Prefect progress artifact) hear every update."""

from __future__ import annotations

import io

from synthpipe.engine.progress import ConsoleProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_partitions_and_time_left() -> None:
    heard: list[tuple[int, int]] = []
    stream = Terminal()
    progress = ConsoleProgress("generate", stream, listeners=(lambda d, t: heard.append((d, t)),))
    for done in range(9):
        progress(done, 8)
    text = stream.getvalue()
    assert "generate" in text
    assert "8/8" in text
    assert "partitions" in text
    assert "left" in text
    assert heard == [(d, 8) for d in range(9)]


def test_a_log_gets_plain_lines_first_and_last() -> None:
    stream = io.StringIO()
    progress = ConsoleProgress("validate", stream)
    for done in range(5):
        progress(done, 4)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("validate: 0/4 partitions (0%)")
    assert lines[-1].startswith("validate: 4/4 partitions (100%)")
    assert "\x1b" not in stream.getvalue()  # no terminal control codes in a log
