"""What an output format provides: how a table becomes a file and back, and how a
finished dataset is published for readers.

A format is one module of ``synthpipe.formats`` defining ``FORMAT``, an object with this
shape; the package finds the modules itself. Everything that names a file extension,
encodes or decodes a data file, or marks a dataset readable goes through it, so adding
a format touches that module only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from synthpipe.spec.models import Output
from synthpipe.storage import Location


@dataclass(frozen=True)
class Decoded:
    """A data file read back: its full schema, its key-value metadata, and the columns
    asked for."""

    schema: pa.Schema
    metadata: dict[str, str]
    table: pa.Table


class OutputFormat(Protocol):
    """An output format: file codec and publish step."""

    name: str
    extension: str  # of every data file, with its dot
    root_names: tuple[str, ...]  # what its publish step keeps at the dataset's root

    def encode(self, table: pa.Table, metadata: Mapping[str, str], output: Output) -> bytes:
        """The file's bytes: ``table`` with ``metadata`` under the spec's output settings."""
        ...

    def decode(self, data: bytes, columns: Sequence[str]) -> Decoded:
        """Read a file's bytes back, decoding only ``columns`` (those it has)."""
        ...

    def publish(self, location: Location, summary: Mapping[str, Any]) -> None:
        """Make the finished dataset visible to readers (the last write of a run)."""
        ...

    def unpublish(self, location: Location) -> None:
        """Withdraw the published state before the dataset changes."""
        ...

    def is_published(self, location: Location) -> bool:
        """Whether readers may trust the dataset as it is."""
        ...
