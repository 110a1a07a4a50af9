"""One writer per dataset: a live lock refuses a second run; a dead owner's is taken over."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import small_document

import synthpipe.sink.lock as lock_module
from synthpipe.cli import EXIT_BAD_INPUT, EXIT_OK, RunRequest, main
from synthpipe.engine.summary import RunSummary
from synthpipe.errors import OutputError
from synthpipe.sink.lock import (
    LOCK_NAME,
    STALE_AFTER_SECONDS,
    acquire,
    check_unlocked,
    holding,
    process_start,
    read_lock,
)
from synthpipe.storage import Location


def test_a_held_lock_refuses_a_second_writer(tmp_path: Path) -> None:
    location = Location(str(tmp_path / "data"))
    with holding(location) as lock:
        assert read_lock(location)["token"] == lock.token  # type: ignore[index]
        with pytest.raises(OutputError, match="is being written by another run"):
            acquire(location)
        with pytest.raises(OutputError, match=f"pid {lock.info['pid']}"):
            check_unlocked(location)
    assert read_lock(location) is None
    acquire(location).release()


def _write_lock(location: Location, **fields: object) -> None:
    path = Path(location.join(LOCK_NAME))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"token": "old", "started_at": "earlier", **fields}))


def test_a_dead_owners_lock_is_taken_over(tmp_path: Path) -> None:
    location = Location(str(tmp_path / "data"))
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    now = dt.datetime.now(dt.UTC).isoformat()
    _write_lock(location, host=socket.gethostname(), pid=int(gone.stdout), heartbeat_at=now)
    check_unlocked(location)
    lock = acquire(location)
    assert lock.token != "old"
    lock.release()


def test_a_remote_owner_is_judged_by_its_heartbeat(tmp_path: Path) -> None:
    location = Location(str(tmp_path / "data"))
    fresh = dt.datetime.now(dt.UTC).isoformat()
    _write_lock(location, host="another-host", pid=1, heartbeat_at=fresh)
    with pytest.raises(OutputError, match="host another-host"):
        acquire(location)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    _write_lock(location, host="another-host", pid=1, heartbeat_at=old)
    acquire(location).release()


def test_the_cli_refuses_a_locked_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    location = Location(str(tmp_path / "data"))
    with holding(location):
        assert main(["run", str(spec), "--out", location.url]) == EXIT_BAD_INPUT
    line = capsys.readouterr().err.strip()
    assert line.startswith("synthpipe: error: ")
    assert "is being written by another run" in line


def _old(hours: float = 1.0) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat()


def test_a_heartbeat_replaces_the_lock_whole(tmp_path: Path) -> None:
    """Before, the heartbeat truncated the lock and wrote it again: a reader polling it
    saw it empty, and an empty lock counted as a dead owner's. Now the new document is
    renamed over the old one: a reader that opened the lock reads one whole document."""
    location = Location(str(tmp_path / "data"))
    lock = acquire(location)
    path = Path(lock.path())
    before = path.read_bytes()
    with path.open("rb") as reader:  # opened before the heartbeat, read after it
        lock.heartbeat()
        assert reader.read() == before
    after = read_lock(location)
    assert after is not None
    assert after["token"] == lock.token
    assert after["heartbeat_at"] >= json.loads(before)["heartbeat_at"]
    assert sorted(p.name for p in path.parent.iterdir()) == [LOCK_NAME]  # no temporary
    lock.release()
    assert not path.exists()


def test_an_unreadable_lock_is_held_until_the_file_itself_is_stale(tmp_path: Path) -> None:
    """Before, a lock that did not parse (caught half-written) was taken over at once."""
    location = Location(str(tmp_path / "data"))
    path = Path(location.join(LOCK_NAME))
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"token": "li')
    with pytest.raises(OutputError, match=r"_lock\.json cannot be read"):
        check_unlocked(location)
    with pytest.raises(OutputError, match=r"_lock\.json cannot be read"):
        acquire(location)
    assert path.read_bytes() == b'{"token": "li'  # left as it was
    stale = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(path, (stale, stale))
    check_unlocked(location)
    lock = acquire(location)
    assert read_lock(location) == lock.info
    lock.release()


def test_a_take_over_leaves_the_lock_another_run_just_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While this run judges a dead owner's lock, another run takes it over and writes its
    own: this run must not remove that one (before, it did, and both ran)."""
    location = Location(str(tmp_path / "data"))
    _write_lock(location, host="another-host", pid=1, heartbeat_at=_old())
    path = Path(location.join(LOCK_NAME))
    now = dt.datetime.now(dt.UTC).isoformat()
    live = {"token": "live", "host": "third-host", "pid": 7, "started_at": now, "heartbeat_at": now}
    judge = lock_module._owner_alive
    judged: list[str] = []

    def judging(info: dict[str, object]) -> bool:
        dead = not judge(info)
        if not judged:  # the other run takes over while this one decides
            path.write_text(json.dumps(live))
        judged.append(str(info.get("token")))
        return not dead

    monkeypatch.setattr(lock_module, "_owner_alive", judging)
    with pytest.raises(OutputError, match="host third-host, pid 7"):
        acquire(location)
    assert json.loads(path.read_text()) == live
    assert sorted(p.name for p in path.parent.iterdir()) == [LOCK_NAME]  # nothing aside


@pytest.mark.parametrize(
    ("started", "heartbeat", "held"),
    [
        ("other", "fresh", False),  # the pid now belongs to another process
        ("same", "old", False),  # the process lives but has not beaten for an hour
        ("same", "fresh", True),
    ],
)
def test_a_live_pid_holds_the_lock_only_if_it_is_the_owner_and_beats(
    tmp_path: Path, started: str, heartbeat: str, held: bool
) -> None:
    """Before, any live process with the recorded pid held the lock forever."""
    ours = process_start(os.getpid())
    if ours is None:
        pytest.skip("no /proc: process start times are unknown here")
    location = Location(str(tmp_path / "data"))
    _write_lock(
        location,
        host=socket.gethostname(),
        pid=os.getpid(),
        pid_start=ours if started == "same" else str(int(ours) + 1),
        heartbeat_at=dt.datetime.now(dt.UTC).isoformat() if heartbeat == "fresh" else _old(),
    )
    if held:
        with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
            acquire(location)
        return
    check_unlocked(location)
    lock = acquire(location)
    assert lock.info["pid_start"] == ours
    assert read_lock(location) == lock.info
    lock.release()


def test_run_takes_over_a_stale_lock_of_a_live_pid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The promise of docs/refresh.md: a lock silent for 90 s is taken over, even when its pid has
    been reused by a live process of this host (before: `run` refused, exit 2)."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    location = Location(str(tmp_path / "data"))
    _write_lock(location, host=socket.gethostname(), pid=os.getpid(), heartbeat_at=_old())
    seen: list[dict[str, object] | None] = []

    def runner(request: RunRequest) -> RunSummary:
        seen.append(read_lock(request.location))
        return RunSummary(
            rows={}, seconds=0.0, data=location.url, report="-", partitions=0, generated=0,
            skipped=0, timings={},
        )  # fmt: skip

    assert main(["run", str(spec), "--out", location.url], runner=runner) == EXIT_OK
    assert capsys.readouterr().err == ""
    assert seen[0] is not None
    assert seen[0]["token"] != "old"
    assert read_lock(location) is None
