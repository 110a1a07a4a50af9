"""Atomic file writes: a reader never sees a half-written file.

On local disk a file is written under a hidden temporary name in its final folder and
renamed into place (rename is atomic). On object stores each file is uploaded as one
whole object under its final name, which stores make visible only once complete.
Hidden names start with '.', which pyarrow, DuckDB, Polars and Spark all skip.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import uuid

import fsspec

from synthpipe.storage import is_local

TEMP_PREFIX = ".tmp-"


def temporary_name(path: str) -> str:
    """A hidden sibling of ``path`` for an in-progress write."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f"{TEMP_PREFIX}{uuid.uuid4().hex}-{name}")


def write_atomic(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that it appears whole or not at all."""
    folder = posixpath.dirname(path)
    if is_local(fs):
        os.makedirs(folder, exist_ok=True)
        temporary = temporary_name(path)
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise
    else:
        fs.pipe_file(path, data)


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
