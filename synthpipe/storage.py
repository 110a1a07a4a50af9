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

from synthpipe.errors import StorageError


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
