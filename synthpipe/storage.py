"""Output locations: any fsspec URL (local path, s3://, gs://, abfs://).

A leaf utility: the sink writes through it and the validator reads through it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem


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
