"""Fault injection: the operator's probes of issue 31, kept as a standing harness.

A small world is run by the installed ``synthpipe`` command as a user runs it (no Prefect
API configured, so the command starts Prefect's temporary server itself), and a fault is
injected at a stage: a stop signal (Ctrl-C to the whole process group as a terminal sends
it, or SIGTERM to the command alone), at a random moment of start-up, mid-generation or
mid-validation. Each stop probe asserts the guarantees: the shell's exit status, exactly
one line from the command on stderr and no traceback, no process of the run left, no
lock, the dataset unpublished, and the next run completing it to the clean run's bytes.
Then a loop racing a live run for its lock, a stray copy in a published dataset, a dead
object-store endpoint and a full disk.

The stage moments are random but drawn from a seeded generator, so a failure names the
moment to replay.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import ROOT, build, file_hashes, small_document, small_spec

from synthpipe.sink.lock import LOCK_NAME
from synthpipe.stopping import stop_exit_code, stop_message

pytestmark = pytest.mark.slow

WORLD = {
    "customers__count": 30_000,
    "customers__block_size": 5_000,
    "calendar__end": "2024-06-30",
}
DEADLINE_SECONDS = 240
STOP_DEADLINE_SECONDS = 30  # a stopped command must be gone well within this
PROBE_SEED = 31  # the random start-up moments below are drawn from it
STARTUP_WINDOW_SECONDS = (0.1, 2.5)  # imports, fork server, Prefect's temporary server
PREFECT_NOTE = "synthpipe: no PREFECT_API_URL set"  # the command's note when it starts one
RACE_PAUSE_SECONDS = 0.002  # between a racer's tries: thousands a run, the run's CPU kept
SMALL_DISK_BYTES = 2 * 2**20  # a file system the world does not fit in


class Run:
    """The installed command in its own process group, its stderr read as it comes."""

    def __init__(self, spec: Path, out: Path, home: Path) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        environment |= {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        self.out = out
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("synthpipe")), "run", str(spec), "--out", str(out)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.started = time.monotonic()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_until(self, ready: Callable[[Run], bool]) -> None:
        """Wait for a stage; the run must still be going when it comes."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not ready(self) and self.process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.process.poll() is None, f"the run ended before the stage: {self.lines}"

    def family(self) -> list[int]:
        """The command and every process it started so far."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [self.process.pid, *(child.pid for child in children)]

    def finish(self, within: float = STOP_DEADLINE_SECONDS) -> int:
        """Wait for the command to exit; its status."""
        code = self.process.wait(timeout=within)
        self._reader.join(timeout=within)
        return code


def _after(seconds: float) -> Callable[[Run], bool]:
    return lambda run: time.monotonic() - run.started >= seconds


def _generating(run: Run) -> bool:
    folder = run.out / "transactions"
    return folder.exists() and any(folder.rglob("*.parquet"))


def _validating(run: Run) -> bool:
    return any(line.startswith("validate:") for line in run.lines)


def _still_running(pids: list[int]) -> list[int]:
    deadline = time.monotonic() + STOP_DEADLINE_SECONDS
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _startup_moments(count: int) -> list[float]:
    low, high = STARTUP_WINDOW_SECONDS
    return [round(float(x), 2) for x in np.random.default_rng(PROBE_SEED).uniform(low, high, count)]


STAGES: dict[str, Callable[[Run], bool]] = {
    **{f"start+{s}s": _after(s) for s in _startup_moments(2)},
    "generate": _generating,
    "validate": _validating,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The spec file, and the bytes of its clean run."""
    root = tmp_path_factory.mktemp("world")
    spec = root / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**WORLD)))
    reference = root / "reference"
    build(small_spec(**WORLD), reference)
    return spec, file_hashes(reference)


@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-to-group", "sigterm-to-command"],
)
def test_a_stop_at_any_stage_is_clean_and_the_next_run_completes(
    world: tuple[Path, dict[str, str]],
    tmp_path: Path,
    stage: str,
    signum: signal.Signals,
    to_group: bool,
) -> None:
    spec, clean = world
    out = tmp_path / "data"
    run = Run(spec, out, tmp_path / "prefect")
    run.wait_until(STAGES[stage])
    family = run.family()
    (os.killpg if to_group else os.kill)(run.process.pid, signum)
    code = run.finish()

    assert code == stop_exit_code(signum), run.lines
    ours = [line for line in run.lines if line.startswith("synthpipe:")]
    assert ours[-1] == stop_message(signum), run.lines
    assert not [line for line in run.lines if "Traceback" in line or "Error" in line], run.lines
    assert [line for line in ours if not line.startswith(PREFECT_NOTE)] == [ours[-1]]
    assert _still_running(family) == []
    assert not (out / LOCK_NAME).exists()
    assert not (out / "_SUCCESS").exists()

    again = Run(spec, out, tmp_path / "prefect")
    assert again.finish(DEADLINE_SECONDS) == 0, again.lines[-6:]
    assert file_hashes(out) == clean


def test_a_loop_taking_the_lock_never_wins_against_a_live_run(
    world: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Before: the heartbeat truncated and rewrote the lock, a lock that did not parse
    counted as a dead owner's, and a loop calling acquire took a live run's lock."""
    from synthpipe.errors import OutputError
    from synthpipe.sink.lock import acquire
    from synthpipe.storage import Location

    spec, _ = world
    out = tmp_path / "data"
    run = Run(spec, out, tmp_path / "prefect")
    run.wait_until(lambda r: (r.out / LOCK_NAME).exists())
    tries = refused = 0
    while run.process.poll() is None and (out / LOCK_NAME).exists():
        tries += 1
        try:
            stolen = acquire(Location(str(out)))
        except OutputError:
            refused += 1
            time.sleep(RACE_PAUSE_SECONDS)
            continue
        # the run releases its lock once published, a moment before it exits
        if run.process.poll() is None and not (out / "_SUCCESS").exists():
            stolen.release()
            pytest.fail(f"took a live run's lock after {tries} tries")
        stolen.release()
    assert run.finish(DEADLINE_SECONDS) == 0, run.lines[-6:]
    assert refused > 0


@pytest.fixture(scope="module")
def published(world: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset published by the command."""
    spec, _ = world
    root = tmp_path_factory.mktemp("published")
    run = Run(spec, root / "data", root / "prefect")
    assert run.finish(DEADLINE_SECONDS) == 0, run.lines[-6:]
    return root / "data"


def _validate(dataset: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("synthpipe")), "validate", str(dataset)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )


def test_a_stray_copy_fails_validation_by_name_and_unpublishes(
    published: Path, tmp_path: Path
) -> None:
    dataset = tmp_path / "data"
    shutil.copytree(published, dataset)
    original = sorted((dataset / "transactions").rglob("*.parquet"))[0]
    stray = original.with_name("part-09999.parquet")
    shutil.copyfile(original, stray)
    done = _validate(dataset)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "files.unlisted" in done.stderr, done.stderr[-2000:]
    assert not (dataset / "_SUCCESS").exists()
    assert not (dataset / LOCK_NAME).exists()


def test_a_dead_object_store_endpoint_is_one_line_exit_2_before_anything(
    world: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    pytest.importorskip("s3fs")
    spec, _ = world
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "AWS_"))},
        "AWS_ACCESS_KEY_ID": "probe",
        "AWS_SECRET_ACCESS_KEY": "probe",
    }
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("synthpipe")),
            "run",
            str(spec),
            "--out",
            "s3://probe-bucket/data",
            "--set",
            f"output.storage_options.endpoint_url=http://127.0.0.1:{port}",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("synthpipe: error: --out 's3://probe-bucket/data' cannot be reached")
    assert PREFECT_NOTE not in done.stderr  # refused before Prefect was started


def test_a_full_disk_mid_run_is_one_line_and_leaves_no_lock(
    world: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """A file system too small for the world (a 2 MiB tmpfs): the run fails with one line
    naming the file it could not write, and leaves no lock and no half-written file."""
    spec, _ = world
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_BYTES}", "tmpfs", str(disk)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs privileges this machine does not give")
    try:
        run = Run(spec, disk / "data", tmp_path / "prefect")
        code = run.finish(DEADLINE_SECONDS)
        ours = [line for line in run.lines if line.startswith("synthpipe:")]
        assert code == 1, run.lines[-6:]
        assert ours[-1].startswith("synthpipe: failed: cannot write "), run.lines[-6:]
        assert ours[-1].endswith("No space left on device"), run.lines[-6:]
        assert not [line for line in run.lines if "Traceback" in line], run.lines
        assert not (disk / "data" / LOCK_NAME).exists()
        assert not (disk / "data" / "_SUCCESS").exists()
        for path in (disk / "data").rglob("*.parquet"):
            if not path.name.startswith("."):
                assert pq.read_metadata(path).num_rows >= 0  # every visible file is whole
    finally:
        subprocess.run(["umount", str(disk)], check=False)
