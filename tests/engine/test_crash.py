"""Crash safety: a run killed at any moment (SIGKILL of its whole process group) leaves no
file a reader can mistake for data, and the next run completes the dataset, byte for
byte what an uninterrupted run writes, keeping the partitions the killed run recorded in
its checkpoint and regenerating only the others."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import ROOT, build, cli_environment, file_hashes, small_document, small_spec

from synthpipe.engine.summary import RunSummary
from synthpipe.plan import make_plan

CHANGES = {
    "customers__count": 30_000,
    "customers__block_size": 5_000,
    "calendar__end": "2024-06-30",
}
KILL_AFTER_FILES = 8  # sales files on disk before the kill: mid-generation
DEADLINE_SECONDS = 180


def _sales_files(out: Path) -> list[Path]:
    return (
        list((out / "transactions").rglob("*.parquet")) if (out / "transactions").exists() else []
    )


def _recorded(out: Path) -> dict[str, str]:
    """Path -> partition of every file the manifest on disk lists (atomic: never partial)."""
    try:
        files = json.loads((out / "_manifest.json").read_text())["files"]
    except FileNotFoundError:
        return {}
    return {path: entry["partition"] for path, entry in files.items()}


def _unrecorded_sales(out: Path) -> list[Path]:
    """Whole transactions files on disk that the checkpoint does not list (yet)."""
    recorded = _recorded(out)
    return [
        p
        for p in _sales_files(out)
        if not p.name.startswith(".") and str(p.relative_to(out)) not in recorded
    ]


def _mid_generation(out: Path) -> bool:
    """Enough sales files, a checkpoint listing some, and whole files it does not list."""
    return (
        len(_sales_files(out)) >= KILL_AFTER_FILES
        and any(p.startswith("transactions/") for p in _recorded(out))
        and bool(_unrecorded_sales(out))
    )


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


@pytest.mark.slow  # two runs and a clean build; the fault-injection harness's kin
def test_killed_run_leaves_nothing_misleading_and_the_next_run_completes(
    tmp_path: Path, prefect_api: str
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**CHANGES)))
    out = tmp_path / "data"
    command = [
        str(Path(sys.executable).with_name("synthpipe")),
        "run",
        str(spec),
        "--out",
        str(out),
        "--workers",
        "2",
    ]
    environment = cli_environment(prefect_api)
    run = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not _mid_generation(out) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert run.poll() is None, "the run finished before it could be killed"
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    time.sleep(1)  # let orphaned workers notice their nanny is gone
    assert not (out / "_SUCCESS").exists()
    visible = [p for p in out.rglob("*.parquet") if not p.name.startswith(".")]
    assert len(visible) >= KILL_AFTER_FILES
    for path in visible:  # every file a reader can see is a whole Parquet file
        assert pq.read_metadata(path).num_rows >= 0
    assert all(p.name.startswith(".") for p in out.rglob("*") if p.is_file() and ".tmp-" in p.name)
    recorded = _recorded(out)
    kept = {path: _identity(out / path) for path in recorded}
    unrecorded = {str(p.relative_to(out)): _identity(p) for p in _unrecorded_sales(out)}
    partitions = len(make_plan(small_spec(**CHANGES)))
    checkpointed = len(set(recorded.values()))
    assert 0 < checkpointed < partitions
    assert unrecorded  # whole files the checkpoint does not vouch for
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [*command, "--summary", str(summary)],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "_SUCCESS").exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    made = RunSummary.model_validate_json(summary.read_text())
    assert made.skipped == checkpointed  # before checkpoints: 0, all regenerated
    assert made.generated == partitions - checkpointed
    assert {path: _identity(out / path) for path in kept} == kept  # not rewritten
    for path, before in unrecorded.items():  # never trusted: rewritten whole
        assert _identity(out / path) != before, path
    reference = tmp_path / "reference"
    build(small_spec(**CHANGES), reference)
    assert file_hashes(out) == file_hashes(reference)


def test_ctrl_c_stops_the_run_with_one_line_and_leaves_no_worker(
    tmp_path: Path, prefect_api: str
) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) mid-generation:
    exit 130 and the command's one line, no traceback from the Dask workers (they leave
    Ctrl-C to the command), no process left behind, and the dataset not published."""
    import psutil

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**CHANGES)))
    out = tmp_path / "data"
    run = subprocess.Popen(
        [str(Path(sys.executable).with_name("synthpipe")), "run", str(spec), "--out", str(out)],
        cwd=ROOT,
        env=cli_environment(prefect_api),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not _sales_files(out) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert run.poll() is None, "the run finished before it could be interrupted"
    family = [run.pid, *(p.pid for p in psutil.Process(run.pid).children(recursive=True))]
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=DEADLINE_SECONDS)
    assert run.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1].startswith("synthpipe: interrupted"), err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    time.sleep(1)
    left = [pid for pid in family if psutil.pid_exists(pid)]
    assert all(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE for pid in left), left
    assert not (out / "_SUCCESS").exists()
