"""What an output format provides: how a table becomes a file and back, how files are
named, and how a finished dataset is published for readers.

A format is one module of ``synthpipe.formats`` defining ``FORMAT``, an object with this
shape; the package finds the modules itself. Everything that names a file extension,
encodes or decodes a data file, or marks a dataset readable goes through it, so adding
a format touches that module only.

Every format writes Parquet data files (workers write them in parallel); formats differ
in how a run makes them visible: a ``_SUCCESS`` marker, or one table-format commit per
table that lists the run's files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class TableRelease:
    """One table as a run publishes it: every data file (relative to the table's folder)
    with its partition values, and the table's Arrow schema (partition columns last)."""

    files: tuple[str, ...]
    schema: pa.Schema
    partition_by: tuple[str, ...] = ()  # hive folder columns (month=YYYY-MM), not in files
    # the timestamp column whose month is the partition, for a format that partitions by
    # a transform of a column in the files (Iceberg); None: the files have no such column
    time_column: str | None = None


@dataclass(frozen=True)
class Release:
    """What a run publishes: its tables, its number (one more than the last published
    run's), a small JSON summary (spec hash, rows, verdict) readers may look at, and the
    spec's output section (a table format's catalog settings)."""

    tables: Mapping[str, TableRelease]
    run: int
    summary: Mapping[str, Any]
    output: Mapping[str, Any] = field(default_factory=dict)


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with dictionaries as their values (table formats have no dictionary
    type; readers decode both alike)."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type, f.nullable, f.metadata)
            if pa.types.is_dictionary(f.type)
            else f
            for f in schema
        ]
    )


class TableWriter(Protocol):
    """One file written a table at a time (``OutputFormat.stream``)."""

    def write(self, table: pa.Table, metadata: Mapping[str, str]) -> None:
        """Write ``table`` (labelled with ``metadata``) as the next row groups."""
        ...

    def close(self) -> None:
        """Finish the file (nothing happens if no table was written)."""
        ...


class OutputFormat(Protocol):
    """An output format: file codec, file naming and publish step."""

    name: str
    extension: str  # of every data file, with its dot
    root_names: tuple[str, ...]  # what its publish step keeps at the dataset's root
    # True: a file's name says what it holds (a tag of its content's identity), so a name
    # once published never holds other bytes, and replaced files stay for older versions
    immutable_files: bool

    def encode(self, table: pa.Table, metadata: Mapping[str, str], output: Output) -> bytes:
        """The file's bytes: ``table`` with ``metadata`` under the spec's output settings."""
        ...

    def decode(self, data: bytes, columns: Sequence[str]) -> Decoded:
        """Read a file's bytes back, decoding only ``columns`` (those it has)."""
        ...

    def stream(self, sink: Any, output: Output) -> TableWriter:
        """A writer of one file into ``sink`` (a binary file), a table at a time: tables
        that end on whole row groups give the bytes ``encode`` gives their concatenation."""
        ...

    def check(self, location: Location, output: Mapping[str, Any]) -> None:
        """Refuse (OutputError) settings this format cannot publish with, before a run
        writes anything; ``output`` is the spec's output section."""
        ...

    def publish(self, location: Location, release: Release) -> None:
        """Make the finished dataset visible to readers (the last write of a run)."""
        ...

    def unpublish(self, location: Location) -> None:
        """Withdraw the published state before the dataset changes."""
        ...

    def is_published(self, location: Location) -> bool:
        """Whether readers may trust the dataset as it is."""
        ...
