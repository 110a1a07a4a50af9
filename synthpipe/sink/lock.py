"""One writer per dataset: a lock object next to the data.

The lock is created exclusively and whole (on local disk a hidden temporary file linked
to the lock's name, which fails if it exists; on S3 one PUT with If-None-Match) and carries
its owner and a heartbeat the owner refreshes by replacing it whole (a rename on disk, one
PUT on object stores), so a reader never sees it half-written. A second run is refused
with a clear message while the owner lives; a lock whose owner is gone is taken over, so a
killed run never blocks the next one. The owner is gone when its heartbeat is older than
STALE_AFTER_SECONDS, or, on its own host, when its process is gone or its pid now belongs
to another process (a different start time). A lock that cannot be parsed proves nothing:
it is held until the file itself is STALE_AFTER_SECONDS old. A take-over removes the lock
only if it is still the one judged dead (on disk it is renamed aside first, and put back
if another run had just taken it; on object stores it is read again just before).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import posixpath
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fsspec

from synthpipe.errors import OutputError, StorageError
from synthpipe.stopping import on_stop
from synthpipe.storage import FINAL_WRITE_ERRORS, Location, is_local, temporary_name

LOCK_NAME = "_lock.json"
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 90.0  # several missed heartbeats: the owner is gone
ASIDE_PREFIX = ".lock-aside-"  # a take-over's private name for the lock it judges
ACQUIRE_ATTEMPTS = 3  # create, or take over a dead owner's lock, this many times
PROC_STAT = "/proc/{pid}/stat"
STAT_START_FIELD = 19  # starttime (field 22 of proc(5)) counted after the ")" of comm
LOCK_MODE = 0o644
UNREADABLE = "unreadable"  # the key read_lock sets on a lock it could not parse


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None where
    /proc does not say (no such process, or no /proc)."""
    try:
        with open(PROC_STAT.format(pid=pid), "rb") as handle:
            stat = handle.read()
        return stat[stat.rindex(b")") + 2 :].split()[STAT_START_FIELD].decode("ascii")
    except (OSError, ValueError, IndexError):
        return None


def _write_new(path: str, data: bytes) -> None:
    """Write ``data`` to a new local file (one that exists already: FileExistsError)."""
    with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, LOCK_MODE), "wb") as stream:
        stream.write(data)


def _write_whole(path: str, data: bytes, replace: bool) -> bool:
    """Put ``data`` at the local ``path`` whole: written under a hidden temporary name,
    then linked into place (only if ``path`` does not exist: False if it does) or, with
    ``replace``, renamed over it. A full disk is a StorageError naming ``path``, and leaves
    nothing behind."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = temporary_name(path)
    try:
        _write_new(temporary, data)
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        if exc.errno in FINAL_WRITE_ERRORS:
            raise StorageError(f"cannot write {path}: {os.strerror(exc.errno)}") from None
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


def create_exclusive(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> bool:
    """Create ``path`` with ``data``, whole, only if it does not exist; False if it does."""
    if is_local(fs):
        return _write_whole(path, data, replace=False)
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


def _age_seconds(stamp: object) -> float:
    """Seconds since an ISO timestamp (one that does not parse: infinitely old)."""
    try:
        moment = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return float("inf")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return (_now() - moment).total_seconds()


def _owner_alive(info: dict[str, Any]) -> bool:
    """Whether the lock described by ``info`` belongs to a live run."""
    if _age_seconds(info.get("heartbeat_at")) >= STALE_AFTER_SECONDS:
        return False  # silent too long (for an unparsable lock: the file is that old)
    if info.get(UNREADABLE) or info.get("host") != socket.gethostname():
        return True
    pid = int(info.get("pid", 0) or 0)
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    recorded = info.get("pid_start")
    current = process_start(pid)
    # the pid was reused by another process when it started at another time
    return recorded is None or current is None or str(recorded) == current


def _modified(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """When ``path`` was last written (ISO); now when the store does not say."""
    try:
        if is_local(fs):
            return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.UTC).isoformat()
        moment = fs.modified(path)
    except FileNotFoundError:
        raise
    except Exception:  # a store that does not keep modification times
        return _now().isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return str(moment.isoformat())


def _parse(data: bytes, modified: str) -> dict[str, Any]:
    """A lock's document; one that does not parse is judged by the file's age."""
    try:
        document = json.loads(data.decode("utf-8"))
        if isinstance(document, dict):
            return document
    except (ValueError, UnicodeDecodeError):
        pass
    return {UNREADABLE: True, "host": "?", "pid": 0, "heartbeat_at": modified}


def _read_at(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, Any] | None:
    try:
        with fs.open(path, "rb") as handle:
            data = handle.read()
        return _parse(data, _modified(fs, path))
    except FileNotFoundError:
        return None


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
        """Refresh the heartbeat (only while the lock is still ours), replacing the lock
        whole: a rename on local disk, one PUT on object stores."""
        fs, _ = self.location.filesystem()
        current = read_lock(self.location)
        if current is None or current.get("token") != self.token:
            return
        self.info["heartbeat_at"] = _now().isoformat()
        data = json.dumps(self.info).encode("utf-8")
        if is_local(fs):
            _write_whole(self.path(), data, replace=True)
        else:
            fs.pipe_file(self.path(), data)

    def release(self) -> None:
        """Remove the lock if it is still ours."""
        current = read_lock(self.location)
        if current is not None and current.get("token") == self.token:
            _remove_if(self.location, current)


def read_lock(location: Location) -> dict[str, Any] | None:
    """The current lock's contents, or None. A lock that does not parse reads as
    ``{"unreadable": True, ...}`` with the file's modification time as its heartbeat."""
    fs, _ = location.filesystem()
    return _read_at(fs, location.join(LOCK_NAME))


def _remove_if(location: Location, judged: dict[str, Any]) -> bool:
    """Remove the lock if it still is ``judged``; False (the lock left as it is) when
    another run has replaced it meanwhile. On local disk it is renamed aside (atomic) and
    compared there, and put back if it is not the one judged; on an object store it is
    read again right before the delete."""
    fs, _ = location.filesystem()
    path = location.join(LOCK_NAME)
    if not is_local(fs):
        if _read_at(fs, path) != judged:
            return False
        with contextlib.suppress(FileNotFoundError):
            fs.rm(path)
        return True
    aside = posixpath.join(posixpath.dirname(path), f"{ASIDE_PREFIX}{uuid.uuid4().hex}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return True  # gone already
    try:
        if _read_at(fs, aside) == judged:
            return True
        with contextlib.suppress(FileExistsError):  # a third run took it: leave theirs
            os.link(aside, path)  # not the one judged: put it back, unless one is there
        return False
    finally:
        os.remove(aside)


def check_unlocked(location: Location) -> None:
    """Refuse (OutputError) when a live run holds the dataset's lock."""
    info = read_lock(location)
    if info is not None and _owner_alive(info):
        raise OutputError(_held_message(location, info))


def _held_message(location: Location, info: dict[str, Any]) -> str:
    if info.get(UNREADABLE):
        return (
            f"{location.display(LOCK_NAME)} cannot be read (written {info.get('heartbeat_at')});"
            f" it is taken over {STALE_AFTER_SECONDS:.0f} s after that, or remove it if no run"
            " is writing the dataset"
        )
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
        "pid_start": process_start(os.getpid()),
        "started_at": now,
        "heartbeat_at": now,
    }
    data = json.dumps(info).encode("utf-8")
    for _ in range(ACQUIRE_ATTEMPTS):
        try:
            if create_exclusive(fs, location.join(LOCK_NAME), data):
                return DatasetLock(location, str(info["token"]), info)
        except FileNotFoundError:  # our temporary file was cleaned away: try again
            continue
        current = read_lock(location)
        if current is None:
            continue  # released meanwhile
        if _owner_alive(current):
            raise OutputError(_held_message(location, current))
        _remove_if(location, current)  # the owner is gone: take over (if still theirs)
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
        with on_stop(lock.release):  # a stop signal ends the command: release on the way
            yield lock
    finally:
        stop.set()
        thread.join()
        del _HELD[key]
        lock.release()
