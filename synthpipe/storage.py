"""Output locations (any fsspec URL: local path, s3://, gs://, abfs://) and atomic writes.

A leaf utility: the sink writes through it and the validator reads through it.

Atomic writes: a reader never sees a half-written file. On local disk a file is written
under a hidden temporary name in its final folder and renamed into place (rename is
atomic). On object stores each file is uploaded as one whole object under its final name,
which stores make visible only once complete. Hidden names start with '.', which pyarrow,
DuckDB, Polars and Spark all skip.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from synthpipe.errors import OutputError, StorageError


@dataclass(frozen=True)
class Location:
    """A dataset root: the URL the user gave, and the options to open it."""

    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def filesystem(self) -> tuple[fsspec.AbstractFileSystem, str]:
        """The fsspec filesystem and the root path inside it."""
        fs, root = fsspec.core.url_to_fs(self.url, **self.options)
        return fs, root.rstrip("/") or "/"

    def join(self, relative: str) -> str:
        """Path of ``relative`` (a '/'-separated path) inside the root, for ``filesystem()``."""
        _, root = self.filesystem()
        return posixpath.join(root, relative)

    def display(self, relative: str = "") -> str:
        """A path or URL a person can paste (local: absolute path; remote: the URL)."""
        fs, root = self.filesystem()
        path = posixpath.join(root, relative) if relative else root
        if is_local(fs):
            return path
        protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
        return f"{protocol}://{path}"


def is_local(fs: fsspec.AbstractFileSystem) -> bool:
    """True for the local disk, where rename is atomic and cheap."""
    return isinstance(fs, LocalFileSystem)


TEMP_PREFIX = ".tmp-"
# Write errors no retry mends: no space, over quota, read-only file system.
FINAL_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def temporary_name(path: str) -> str:
    """A hidden sibling of ``path`` for an in-progress write."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f"{TEMP_PREFIX}{uuid.uuid4().hex}-{name}")


def write_atomic(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that it appears whole or not at all. A full disk, a
    quota or a read-only file system is a StorageError naming the path."""
    if not is_local(fs):
        fs.pipe_file(path, data)
        return
    with open_atomic(fs, path) as handle:
        handle.write(data)


@contextmanager
def open_atomic(fs: fsspec.AbstractFileSystem, path: str) -> Iterator[BinaryIO]:
    """A file to write ``path`` through, appearing whole when the block ends and not at all
    if it raises: on local disk a hidden temporary renamed into place, on an object store
    one upload (a multipart upload is aborted on failure). A full disk, a quota or a
    read-only file system is a StorageError naming the path."""
    if not is_local(fs):
        remote = fs.open(path, "wb")
        try:
            yield remote
        except BaseException:
            discard = getattr(remote, "discard", None)
            if discard is not None:
                discard()
            raise
        remote.close()
        return
    temporary = temporary_name(path)
    try:
        os.makedirs(posixpath.dirname(path), exist_ok=True)
        with open(temporary, "wb") as handle:
            yield handle
        os.replace(temporary, path)
    except BaseException as exc:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(exc, OSError) and exc.errno in FINAL_WRITE_ERRORS:
            raise StorageError(f"cannot write {path}: {os.strerror(exc.errno)}") from None
        raise


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(fs: fsspec.AbstractFileSystem, path: str, chunk: int = 8 * 2**20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# Limits of a local path, checked before anything is written: a name (one component) may
# have NAME_MAX bytes (asked of the file system; this where it does not say) and a whole
# path PATH_MAX (Linux's limit on a path handed to the kernel).
DEFAULT_NAME_MAX = 255
PATH_MAX = 4096
# Bytes kept below a dataset's root for its own names: the longest, a hidden temporary of
# a table format's file (".tmp-<32 hex>-" and a name in a partition folder), is about 150.
DATASET_NAMES_RESERVE = 256
SHOWN_PATH_CHARS = 80  # a path longer than this is shown cut, keeping the line readable


def shown_path(path: str) -> str:
    """``path`` quoted for an error line, cut to SHOWN_PATH_CHARS characters."""
    return repr(path) if len(path) <= SHOWN_PATH_CHARS else repr(path[:SHOWN_PATH_CHARS] + "...")


def error_reason(exc: BaseException) -> str:
    """An exception's type and the first line of its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def check_location(location: Location, option: str, must_exist: bool = False) -> None:
    """Refuse (OutputError: exit 2, naming ``option`` and the URL) a dataset location that
    cannot be used, before anything is written or started. Local: a name or the path too
    long for the file system, a file where a folder is needed, a folder that cannot be
    written. Remote: the store's refusal while probing it (no bucket, access denied, no
    credentials). With ``must_exist``, a location that does not exist is refused too."""
    try:
        fs, root = location.filesystem()
    except Exception as exc:  # each fsspec implementation raises its own kinds
        raise OutputError(
            f"{option} {shown_path(location.url)} cannot be opened: {error_reason(exc)}"
        ) from None
    if is_local(fs):  # write access: sink.output's checks, which tell read-only apart
        named = f"{option} {shown_path(location.url)}"
        check_local_path(root, named, must_exist=must_exist, writable=False)
    else:
        _probe_remote(fs, root, f"{option} {location.url!r}", must_exist)


def check_local_path(
    path: str,
    named: str,
    folder: bool = True,
    must_exist: bool = False,
    make_parents: bool = True,
    writable: bool = True,
) -> None:
    """Refuse (OutputError starting with ``named``, e.g. "--out '/data/x'") a local path
    to write: a name longer than its file system's NAME_MAX, a path longer than PATH_MAX
    (less DATASET_NAMES_RESERVE bytes for the names below a folder), a file where a
    folder is needed or the reverse, a missing parent folder when ``make_parents`` is
    false, or (``writable``) a folder this process cannot write."""
    absolute = os.path.abspath(path)
    ancestor = _nearest_existing(absolute)
    name_max = _name_max(ancestor)
    for name in absolute.split(os.sep):
        size = len(os.fsencode(name))
        if size > name_max:
            raise OutputError(
                f"{named} has a name of {size:,} bytes ({shown_path(name[:20])}), over the"
                f" {name_max} its file system allows (NAME_MAX)"
            )
    kept = DATASET_NAMES_RESERVE if folder else 0
    size = len(os.fsencode(absolute))
    if size + kept > PATH_MAX:
        below = f", with {kept} kept for the names below it" if kept else ""
        raise OutputError(
            f"{named} is {size:,} bytes long, over the {PATH_MAX:,} a path may have"
            f" (PATH_MAX){below}"
        )
    if ancestor == absolute:
        if folder and not os.path.isdir(absolute):
            raise OutputError(f"{named} is a file, not a folder")
        if not folder and os.path.isdir(absolute):
            raise OutputError(f"{named} is a folder, not a file")
    elif must_exist:
        raise OutputError(f"{named} does not exist")
    elif not os.path.isdir(ancestor):
        raise OutputError(f"{named} is below a file, not a folder")
    elif not make_parents and ancestor != os.path.dirname(absolute):
        parent = shown_path(os.path.dirname(absolute))
        raise OutputError(f"{named} cannot be written: folder {parent} does not exist")
    writes_in = ancestor if os.path.isdir(ancestor) else os.path.dirname(ancestor)
    if writable and not os.access(writes_in, os.W_OK | os.X_OK):
        reason = "a read-only file system" if _read_only(writes_in) else "not writable by this user"
        raise OutputError(f"{named} cannot be written: {shown_path(writes_in)} is {reason}")


def _nearest_existing(path: str) -> str:
    """``path`` or its nearest ancestor that exists (a path too long to ask about, or below
    a file, does not)."""
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _name_max(folder: str) -> int:
    """The longest name, in bytes, the file system holding ``folder`` allows."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return DEFAULT_NAME_MAX
    return limit if limit > 0 else DEFAULT_NAME_MAX


def _read_only(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _probe_remote(fs: fsspec.AbstractFileSystem, root: str, named: str, must_exist: bool) -> None:
    """Ask the store about ``root``, and about its first component (the bucket or
    container) when the root is not there yet: what the store refuses (no such bucket,
    access denied, no credentials, no network) is an OutputError starting with ``named``."""
    top = "" if root.startswith("/") else root.split("/", 1)[0]  # "/x": no bucket
    asked = root
    try:
        if fs.exists(root):
            return
        if top:
            asked = top
            fs.info(top)  # S3: HEAD of the bucket, 404 without it and 403 without access
    except Exception as exc:  # each store raises its own kinds
        raise OutputError(f"{named} cannot be reached: {_remote_reason(exc, asked)}") from None
    if must_exist:
        raise OutputError(f"{named} does not exist")


def _remote_reason(exc: BaseException, asked: str) -> str:
    """What a store's refusal means, then its own words."""
    if isinstance(exc, FileNotFoundError):
        return f"{asked!r} does not exist ({error_reason(exc)})"
    if isinstance(exc, PermissionError) or "credential" in type(exc).__name__.lower():
        return f"access refused ({error_reason(exc)}); check the credentials"
    return error_reason(exc)
