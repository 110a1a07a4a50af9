"""Clean stops: Ctrl-C (SIGINT) and SIGTERM end a command at once, with one line.

A terminal sends Ctrl-C to the whole process group: the command, Prefect's temporary
server, Dask's fork server and its workers all receive it. Left to Python's default, each
of them raised ``KeyboardInterrupt`` wherever it happened to be: the workers and the fork
server printed tracebacks, the temporary server died first, and the command then hung
retrying to report the interrupt to it. SIGTERM (``kill``, a scheduler's timeout) killed
the command silently and left its children running.

Inside ``stopping_cleanly`` the first stop signal instead:

1. says one line on stderr (what the signal means for the dataset), and runs the
   registered preparations (``before_stopping``): Dask's nannies stop replacing workers;
2. kills every descendant process, in sweeps until none is left, so that no worker
   writes after the command has gone;
3. runs the registered cleanups (``on_stop``), newest first: the dataset lock is released;
4. exits with 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).

Nothing half-written is left for a reader: every file is written under a hidden name and
renamed into place whole (``synthpipe.storage``), and a commit is one atomic object; the
next run completes the dataset. Further stop signals during the stop are ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

import psutil

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CHILD_GRACE_SECONDS = 2.0  # how long to wait for a killed child to be reaped
STOP_SWEEPS = 4  # rounds of stopping descendants, for those started during a round
SIGNAL_EXIT_BASE = 128  # the shell's convention: a command ended by signal N exits 128 + N

# Python's resource tracker is left to exit by itself when this process does (it reads a
# pipe this process holds): killed, it was started again by the next semaphore released
# in this process, and the new one printed a traceback for every semaphore it never saw.
RESOURCE_TRACKER_MARK = "multiprocessing.resource_tracker"

STOPPED_DATASET_NOTE = (
    "whole files only: a run leaves its dataset unpublished, and the next run completes it"
)

Cleanup = Callable[[], None]
_preparations: dict[int, Cleanup] = {}
_cleanups: dict[int, Cleanup] = {}
_next_key = iter(range(1 << 62))


def stop_message(signum: int) -> str:
    """The one line a command says when SIGINT or SIGTERM stops it."""
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    return f"synthpipe: {how} ({STOPPED_DATASET_NOTE})"


def stop_exit_code(signum: int) -> int:
    """The exit status of a command stopped by ``signum`` (130 for SIGINT, 143 for SIGTERM)."""
    return SIGNAL_EXIT_BASE + int(signum)


@contextlib.contextmanager
def on_stop(cleanup: Cleanup) -> Iterator[None]:
    """Run ``cleanup`` if a stop signal ends the process while inside the block, after the
    descendants are stopped (releasing what they were writing under, such as a lock)."""
    with _registered(_cleanups, cleanup):
        yield


@contextlib.contextmanager
def before_stopping(preparation: Cleanup) -> Iterator[None]:
    """Run ``preparation`` if a stop signal ends the process while inside the block,
    before the descendants are stopped (telling a process pool not to replace them)."""
    with _registered(_preparations, preparation):
        yield


@contextlib.contextmanager
def _registered(registry: dict[int, Cleanup], callback: Cleanup) -> Iterator[None]:
    key = next(_next_key)
    registry[key] = callback
    try:
        yield
    finally:
        registry.pop(key, None)


def _run_all(registry: dict[int, Cleanup]) -> None:
    for callback in reversed(list(registry.values())):
        with contextlib.suppress(Exception):  # a failed callback must not block the exit
            callback()


def _stoppable(process: psutil.Process) -> bool:
    try:
        return RESOURCE_TRACKER_MARK not in " ".join(process.cmdline())
    except psutil.Error:
        return False


def stop_descendants(grace: float = CHILD_GRACE_SECONDS, sweeps: int = STOP_SWEEPS) -> int:
    """Kill every descendant of this process (but Python's resource tracker) and reap it,
    in sweeps until none is left (a Dask nanny in this process restarts a worker it sees
    die, unless ``before_stopping`` told it not to); how many were stopped.

    SIGKILL, not SIGTERM first: whatever a child was writing is a hidden temporary the
    next run removes, and a grace period only gave the nannies time to start new workers
    (and their resource tracker time to print warnings about the old ones)."""
    stopped = 0
    for _ in range(sweeps):
        try:
            children = [c for c in psutil.Process().children(recursive=True) if _stoppable(c)]
        except psutil.Error:
            break
        if not children:
            break
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(children, timeout=grace)
        stopped += len(children)
    return stopped


def _say(line: str) -> None:
    # os.write, not print: the signal may arrive while the main thread is inside a print
    # to stderr, and a buffered writer refuses a reentrant call.
    with contextlib.suppress(OSError):
        os.write(sys.stderr.fileno(), (line.rstrip("\n") + "\n").encode("utf-8", "replace"))


def _stop(message: Callable[[int], str], signum: int) -> None:
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    _say(message(signum))
    _run_all(_preparations)
    stop_descendants()
    _run_all(_cleanups)
    os._exit(stop_exit_code(signum))


@contextlib.contextmanager
def stopping_cleanly(message: Callable[[int], str]) -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM stop the process as the module says, with the
    line ``message(signum)``. Outside the main thread (where Python allows no handler)
    nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        _stop(message, signum)

    previous = {each: signal.signal(each, handler) for each in STOP_SIGNALS}
    try:
        yield
    finally:
        for each, old in previous.items():
            signal.signal(each, old)


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Ignore SIGINT inside the block: a process started here (exec'd or forked) inherits
    the ignored signal and keeps it ignored, so Ctrl-C in the terminal leaves it to the
    command, which stops it (``stop_descendants``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
