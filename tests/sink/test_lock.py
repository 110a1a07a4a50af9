"""One writer per dataset: a live lock refuses a second run; a dead owner's is taken over."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import small_document

from synthpipe.cli import EXIT_BAD_INPUT, main
from synthpipe.errors import OutputError
from synthpipe.sink.lock import LOCK_NAME, acquire, check_unlocked, holding, read_lock
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
