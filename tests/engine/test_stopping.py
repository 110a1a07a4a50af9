"""Clean stops (synthpipe.stopping): a stop signal ends the command with one line and the
shell's exit status, stops every descendant, and runs the registered cleanups."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from synthpipe.cli import stop_message
from synthpipe.stopping import stop_exit_code

DEADLINE_SECONDS = 30

# A command in miniature: a stop handler, a cleanup, and two children (one plain, one
# started with Ctrl-C ignored, as the Dask fork server is).
SCRIPT = textwrap.dedent(
    """
    import subprocess, sys, time
    from pathlib import Path
    from synthpipe.cli import stop_message
    from synthpipe.stopping import ignoring_interrupts, on_stop, stopping_cleanly

    marker = Path(sys.argv[1])
    # a child that dies quietly on Ctrl-C (as Prefect's server does) or stays (ignoring)
    quiet = "import contextlib, time\\nwith contextlib.suppress(KeyboardInterrupt): time.sleep(120)"
    sleeper = [sys.executable, "-c", quiet]
    with stopping_cleanly(stop_message), on_stop(lambda: marker.write_text("cleaned")):
        with ignoring_interrupts():
            ignoring = subprocess.Popen(sleeper)
        plain = subprocess.Popen(sleeper)
        print(ignoring.pid, plain.pid, flush=True)
        time.sleep(120)
    """
)


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int], Path]:
    marker = tmp_path / "cleaned"
    command = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(marker)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert command.stdout is not None
    children = [int(pid) for pid in command.stdout.readline().split()]
    assert len(children) == 2
    return command, children, marker


def _gone(pids: list[int]) -> bool:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        alive = [
            p
            for p in pids
            if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        ]
        if not alive:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(("signum", "to_group"), [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_a_stop_signal_exits_with_one_line_and_leaves_nothing_running(
    tmp_path: Path, signum: signal.Signals, to_group: bool
) -> None:
    command, children, marker = _start(tmp_path)
    if to_group:  # as a terminal's Ctrl-C: every process of the group receives it
        os.killpg(command.pid, signum)
    else:  # as `kill PID` or a scheduler's timeout: only the command receives it
        os.kill(command.pid, signum)
    _, err = command.communicate(timeout=DEADLINE_SECONDS)
    assert command.returncode == stop_exit_code(signum) == 128 + signum
    assert err.strip().splitlines() == [stop_message(signum)], err
    assert marker.read_text() == "cleaned"
    assert _gone(children)


def test_the_stop_lines_say_what_happened() -> None:
    assert stop_message(signal.SIGINT).startswith("synthpipe: interrupted (whole files only")
    assert stop_message(signal.SIGTERM).startswith("synthpipe: stopped by SIGTERM (whole files")
    assert stop_exit_code(signal.SIGINT) == 130
    assert stop_exit_code(signal.SIGTERM) == 143


def test_handlers_are_restored_after_the_block() -> None:
    from synthpipe.stopping import ignoring_interrupts, stopping_cleanly

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with stopping_cleanly(stop_message):
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
        with ignoring_interrupts():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert {s: signal.getsignal(s) for s in before} == before
