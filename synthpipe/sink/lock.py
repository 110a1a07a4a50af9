"""One writer per dataset: a lock object next to the data.

The lock is created exclusively (O_EXCL on local disk, If-None-Match on S3) and carries
its owner and a heartbeat the owner refreshes. A second run is refused with a clear
message while the owner lives; a lock whose owner is gone (a dead process on this host,
or no heartbeat for STALE_AFTER_SECONDS) is taken over, so a killed run never blocks the
next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fsspec

from synthpipe.errors import OutputError
from synthpipe.storage import Location, is_local

LOCK_NAME = "_lock.json"
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 90.0  # several missed heartbeats: the owner is gone


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_exclusive(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> bool:
    """Create ``path`` with ``data`` only if it does not exist; False if it does."""
    if is_local(fs):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        return True
    try:
        fs.pipe_file(path, data, mode="create")
    except FileExistsError:
        return False
    except TypeError:  # a filesystem without exclusive create: best effort
        if fs.exists(path):
            return False
        fs.pipe_file(path, data)
    except Exception as exc:  # S3 answers a failed precondition with HTTP 412
        if "PreconditionFailed" in repr(exc) or "412" in str(exc):
            return False
        raise
    return True


def _owner_alive(info: dict[str, Any]) -> bool:
    if info.get("host") == socket.gethostname():
        pid = int(info.get("pid", 0))
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    beat = dt.datetime.fromisoformat(str(info.get("heartbeat_at")))
    return (_now() - beat).total_seconds() < STALE_AFTER_SECONDS


@dataclass
class DatasetLock:
    """A held lock; ``release()`` removes it if it is still ours."""

    location: Location
    token: str
    info: dict[str, Any]

    def path(self) -> str:
        """Where the lock object lives."""
        return self.location.join(LOCK_NAME)

    def heartbeat(self) -> None:
        """Refresh the heartbeat (only while the lock is still ours)."""
        fs, _ = self.location.filesystem()
        current = read_lock(self.location)
        if current is None or current.get("token") != self.token:
            return
        self.info["heartbeat_at"] = _now().isoformat()
        fs.pipe_file(self.path(), json.dumps(self.info).encode("utf-8"))

    def release(self) -> None:
        """Remove the lock if it is still ours."""
        fs, _ = self.location.filesystem()
        current = read_lock(self.location)
        if current is not None and current.get("token") == self.token:
            fs.rm(self.path())


def read_lock(location: Location) -> dict[str, Any] | None:
    """The current lock's contents, or None."""
    fs, _ = location.filesystem()
    path = location.join(LOCK_NAME)
    try:
        with fs.open(path, "rb") as handle:
            document: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError):
        return {"host": "?", "pid": 0, "heartbeat_at": "1970-01-01T00:00:00+00:00"}
    return document


def check_unlocked(location: Location) -> None:
    """Refuse (OutputError) when a live run holds the dataset's lock."""
    info = read_lock(location)
    if info is not None and _owner_alive(info):
        raise OutputError(_held_message(location, info))


def _held_message(location: Location, info: dict[str, Any]) -> str:
    return (
        f"{location.display()} is being written by another run (host {info.get('host')},"
        f" pid {info.get('pid')}, since {info.get('started_at')}); wait for it to finish"
    )


def acquire(location: Location) -> DatasetLock:
    """Take the dataset's lock, taking over a dead owner's; OutputError if it is held."""
    fs, _ = location.filesystem()
    now = _now().isoformat()
    info = {
        "token": uuid.uuid4().hex,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": now,
        "heartbeat_at": now,
    }
    data = json.dumps(info).encode("utf-8")
    for _ in range(2):
        if create_exclusive(fs, location.join(LOCK_NAME), data):
            return DatasetLock(location, str(info["token"]), info)
        current = read_lock(location)
        if current is not None and _owner_alive(current):
            raise OutputError(_held_message(location, current))
        with contextlib.suppress(FileNotFoundError):
            fs.rm(location.join(LOCK_NAME))  # the owner is gone: take over
    raise OutputError(f"could not take the lock of {location.display()}; another run raced for it")


_HELD: dict[str, DatasetLock] = {}  # locks this process holds, by lock path


@contextlib.contextmanager
def holding(location: Location) -> Iterator[DatasetLock]:
    """Hold the dataset's lock, with a heartbeat, for the duration of a block. Re-entrant
    within a process: the command takes the lock before anything slow, and the flow it
    runs holds the same lock again without a second acquisition."""
    key = location.join(LOCK_NAME)
    if key in _HELD:
        yield _HELD[key]
        return
    lock = acquire(location)
    _HELD[key] = lock
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(Exception):  # a missed beat only ages the lock
                lock.heartbeat()

    thread = threading.Thread(target=beat, name="synthpipe-lock-heartbeat", daemon=True)
    thread.start()
    try:
        yield lock
    finally:
        stop.set()
        thread.join()
        del _HELD[key]
        lock.release()
