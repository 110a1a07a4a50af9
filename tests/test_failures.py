"""Failures speak in one line and leave nothing misleading: an unreachable scheduler is
refused at once, validation refuses a dataset a run is writing, a corrupted file is named
and its dataset unpublished, a run holds its dataset's lock before its runner starts."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import small_document

from synthpipe.cli import EXIT_BAD_INPUT, EXIT_FAILURE, RunRequest, main
from synthpipe.engine.summary import RunSummary
from synthpipe.errors import InputError
from synthpipe.formats.parquet import SUCCESS_NAME
from synthpipe.sink.lock import LOCK_NAME, acquire, holding, read_lock
from synthpipe.storage import Location
from synthpipe.validate.results import load_report


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("tcp://127.0.0.1:99999", "port must be between 1 and 65535, got 99999"),
        ("tcp://127.0.0.1:{free}", "nothing listens there (connection refused)"),
        ("tcp://no-such-host.invalid:8786", "is not known"),
    ],
)
def test_an_unusable_scheduler_is_refused_in_one_line(
    dataset_copy: Path, address: str, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: port 99999 passed the check, a refused connection waited out 30 s of
    Dask's connect timeout and ended in exit 1 with two tracebacks."""
    address = address.format(free=_free_port())
    code = main(["validate", str(dataset_copy), "--scheduler", address])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT
    assert len(err) == 1
    assert fragment in err[0]


def test_validate_refuses_a_dataset_a_run_is_writing(
    dataset_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {p: p.stat().st_mtime_ns for p in dataset_copy.rglob("*") if p.is_file()}
    lock = acquire(Location(str(dataset_copy)))  # a live run of this very process
    try:
        code = main(["validate", str(dataset_copy)])
    finally:
        lock.release()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT
    assert len(err) == 1
    assert "is being written by another run" in err[0]
    assert f"pid {os.getpid()}" in err[0]
    after = {p: p.stat().st_mtime_ns for p in dataset_copy.rglob("*") if p.is_file()}
    assert after == before  # the report was not rewritten


def test_a_corrupted_file_is_named_and_its_dataset_unpublished(
    dataset_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupted = sorted((dataset_copy / "transactions").rglob("*.parquet"))[0]
    data = bytearray(corrupted.read_bytes())
    data[100] ^= 0xFF
    corrupted.write_bytes(bytes(data))
    name = str(corrupted.relative_to(dataset_copy))
    assert (dataset_copy / SUCCESS_NAME).exists()
    code = main(["validate", str(dataset_copy)])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert len(err.strip().splitlines()) == 1
    assert f"files.checksum (every file's SHA-256 matches the manifest; not so: {name})" in err
    # its sibling line-items file was checksummed, not reported missing
    assert "files.present" not in err
    assert not (dataset_copy / SUCCESS_NAME).exists()
    assert json.loads((dataset_copy / "_manifest.json").read_text())["published"] is False
    report = load_report((dataset_copy / "_fidelity" / "report.json").read_text())
    assert any(name in issue for issue in report.issues)
    assert not (dataset_copy / LOCK_NAME).exists()  # validate held the lock, and let go


def test_run_holds_the_lock_before_its_runner_starts(tmp_path: Path) -> None:
    """Before, the flow took the lock about 10 s after the command started, so a second
    run started in between passed every check and started Prefect before being refused."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    out = tmp_path / "data"
    seen: list[dict[str, Any] | None] = []

    def runner(request: RunRequest) -> RunSummary:
        seen.append(read_lock(request.location))
        with holding(request.location):  # the flow takes the lock again: it is its own
            seen.append(read_lock(request.location))
        seen.append(read_lock(request.location))
        return RunSummary(
            rows={}, seconds=0.0, data=str(out), report="-", partitions=0, generated=0,
            skipped=0, timings={},
        )  # fmt: skip

    assert main(["run", str(spec), "--out", str(out)], runner=runner) == 0
    assert [info is not None and info["pid"] == os.getpid() for info in seen] == [True] * 3
    assert read_lock(Location(str(out))) is None  # released when the command ends


def test_nothing_is_left_when_the_lock_is_taken_and_the_run_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    out = tmp_path / "fresh"
    code = main(["run", str(spec), "--out", str(out), "--scheduler", "tcp://127.0.0.1:99999"])
    assert code == EXIT_BAD_INPUT
    assert not out.exists()


def test_a_dataset_without_its_manifest_is_explained_and_overwrite_takes_it(
    dataset_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before, removing _manifest.json left a folder that even --mode overwrite refused."""
    from synthpipe.sink.output import check_output
    from synthpipe.sink.refresh import prepare
    from synthpipe.spec import spec_from_dict

    (dataset_copy / "_manifest.json").unlink()
    orphan = dataset_copy / "transactions" / "month=2030-01" / "part-00000.parquet"
    orphan.parent.mkdir()
    orphan.write_bytes(b"left from an older calendar")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    code = main(["run", str(spec), "--out", str(dataset_copy)], runner=lambda _r: {})
    err = capsys.readouterr().err.strip().splitlines()
    assert code == EXIT_BAD_INPUT
    assert len(err) == 1
    assert "holds synthpipe's folders but no _manifest.json" in err[0]
    assert "--mode overwrite" in err[0]
    location = Location(str(dataset_copy))
    check_output(location, "overwrite")  # taken
    plan = prepare(spec_from_dict(small_document()), location, "overwrite")
    assert plan.stale == ("transactions/month=2030-01/part-00000.parquet",)
    (dataset_copy / "notes.txt").write_text("someone else's file")
    with pytest.raises(InputError, match="non-empty folder without a synthpipe dataset"):
        check_output(location, "overwrite")  # anything foreign: still refused


def test_a_run_prints_its_summary_on_stdout_and_only_progress_on_stderr(
    tmp_path: Path, prefect_api: str
) -> None:
    """Before, Prefect's INFO lines (flow run began, each task finished, the temporary
    server stopping) went to stderr around and after the command's own lines."""
    import subprocess
    import sys

    from helpers import ROOT, cli_environment

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**{"customers.count": 1_000})))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("synthpipe")), "run", str(spec), "--out",
         str(tmp_path / "data")],
        cwd=ROOT, env=cli_environment(prefect_api), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first = done.stdout.splitlines()[0]
    assert first.startswith("wrote ")
    assert ", 1,000 customers, " in first
    stderr = done.stderr.strip().splitlines()
    assert stderr
    assert all(line.startswith(("generate: ", "validate: ")) for line in stderr), stderr


def test_a_full_disk_names_the_path_is_not_retried_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: 13 'Compute Failed' blocks while the task retried, and a last line that
    named no path."""
    import errno

    from flows.retail import worth_retrying
    from synthpipe.errors import StorageError
    from synthpipe.storage import write_atomic

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("synthpipe.storage.os.replace", full)
    target = tmp_path / "transactions" / "part-00000.parquet"
    fs, _ = Location(str(tmp_path)).filesystem()
    with pytest.raises(StorageError) as caught:
        write_atomic(fs, str(target), b"data")
    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert list(target.parent.iterdir()) == []  # the temporary file is gone
    assert worth_retrying(None, None, type("S", (), {"data": caught.value})()) is False
    assert worth_retrying(None, None, type("S", (), {"data": OSError("reset")})()) is True

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))

    def runner(_request: RunRequest) -> RunSummary:
        raise caught.value

    assert main(["run", str(spec), "--out", str(tmp_path / "data")], runner=runner) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"synthpipe: failed: cannot write {target}: No space left on device"]


def test_a_read_only_output_is_refused_before_anything_starts(
    dataset_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a run into a read-only mount failed in the flow after 13 s, 33 lines with a
    traceback; validate failed with exit 1 on the lock file."""
    import synthpipe.sink.output as output

    monkeypatch.setattr(output.os, "access", lambda *_: False)
    monkeypatch.setattr(output, "_read_only", lambda _path: True)
    spec = dataset_copy.parent / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    started: list[RunRequest] = []
    for argv in (["run", str(spec), "--out", str(dataset_copy)], ["validate", str(dataset_copy)]):
        assert main(argv, runner=lambda r: started.append(r) or {}) == EXIT_BAD_INPUT
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            f"synthpipe: error: {dataset_copy} cannot be written: a read-only file system"
        ]
    assert started == []


def test_validate_on_a_full_disk_names_the_lock_and_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the lock was created empty and then written, so a full disk left an empty
    `_lock.json` behind (which the next command took for a dead owner's) and the error
    line named no file. Every file opened for writing below the dataset writes to
    /dev/full, a device that is always full."""
    from synthpipe.sink.manifest import build_manifest, write_manifest
    from synthpipe.spec import spec_from_dict

    if not (os.path.exists("/dev/full") and os.path.isdir("/proc/self/fd")):
        pytest.skip("needs /dev/full and /proc")
    out = tmp_path / "data"
    write_manifest(Location(str(out)), build_manifest(spec_from_dict(small_document()), []))
    before = sorted(p.name for p in out.iterdir())
    real_fdopen = os.fdopen

    def full(fd: int, *args: Any, **kwargs: Any) -> Any:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(out)):
            os.close(fd)
            return open("/dev/full", "wb")  # the caller closes it
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", full)
    assert main(["validate", str(out)]) == EXIT_FAILURE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"synthpipe: failed: cannot write {out / LOCK_NAME}: No space left on device"]
    assert sorted(p.name for p in out.iterdir()) == before  # no lock, no temporary file
