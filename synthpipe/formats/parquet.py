"""Parquet: the output format of today. Integer-stored columns DELTA_BINARY_PACKED, money
as integers with the DECIMAL annotation, dictionaries kept; a dataset is published by a
``_SUCCESS`` marker written last."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthpipe.formats.base import Decoded, Release
from synthpipe.spec.models import Output
from synthpipe.storage import Location, write_atomic

DELTA = "DELTA_BINARY_PACKED"
MAX_INT64_DECIMAL_DIGITS = 18
SUCCESS_NAME = "_SUCCESS"


def delta_encoded(schema: pa.Schema) -> dict[str, str]:
    """DELTA_BINARY_PACKED for every column stored as a Parquet integer (ids, counts,
    timestamps, dates, money as cents); the writer's default for the rest. Used unless
    the spec says ``output.integer_encoding: plain``.

    Measured on a month of the default spec (1 MB files, zstd): the sales files come out
    the same size, encoding is a fifth faster and decoding twice as fast. Sorted ids and
    timestamps become small deltas that need no general-purpose compressor. pyarrow,
    DuckDB, Polars, Trino and Spark (3.3 on, vectorised) read it; some older readers do
    not, hence the spec's ``plain``.
    """
    return {field.name: DELTA for field in schema if _stored_as_integer(field.type)}


def _stored_as_integer(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(data_type)
        or pa.types.is_timestamp(data_type)
        or pa.types.is_date(data_type)
        # store_decimal_as_integer: INT32 / INT64 up to 18 digits, fixed-length bytes above
        or (pa.types.is_decimal(data_type) and data_type.precision <= MAX_INT64_DECIMAL_DIGITS)
    )


def writer_options(schema: pa.Schema, output: Output) -> dict[str, Any]:
    """The keyword arguments of ``pyarrow.parquet.write_table`` for a table of ``schema``
    under the spec's output settings."""
    return {
        "compression": None if output.compression == "none" else output.compression,
        "compression_level": output.compression_level,
        "row_group_size": output.row_group_size,
        # categories are already dictionaries; trying it on ids, amounts and e-mails is
        # wasted work (they rarely repeat enough to keep it)
        "use_dictionary": [f.name for f in schema if pa.types.is_dictionary(f.type)],
        "column_encoding": delta_encoded(schema) if output.integer_encoding == "delta" else None,
        "write_statistics": True,
        # money as INT32/INT64 with the DECIMAL annotation, not 16-byte fixed-length
        # binary: half the decode time for readers, and every engine reads it as decimal
        "store_decimal_as_integer": True,
    }


def labelled(table: pa.Table, metadata: Mapping[str, str]) -> pa.Table:
    """``table`` with ``metadata`` merged into its schema's key-value metadata."""
    merged = dict(table.schema.metadata or {})
    merged.update({k.encode(): v.encode() for k, v in metadata.items()})
    return table.replace_schema_metadata(merged)


class RowGroupWriter:
    """A Parquet file written to ``sink`` (a binary file) a table at a time, each table
    split into row groups of the spec's size: given tables that end on whole row groups,
    the bytes are those ``ParquetFormat.encode`` gives their concatenation."""

    def __init__(self, sink: Any, output: Output) -> None:
        self.sink = sink
        self.output = output
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table, metadata: Mapping[str, str]) -> None:
        """Write ``table`` (labelled with ``metadata``) as the next row groups."""
        table = labelled(table, metadata)
        if self.writer is None:
            options = writer_options(table.schema, self.output)
            self.writer = pq.ParquetWriter(
                self.sink,
                table.schema,
                **{k: v for k, v in options.items() if k != "row_group_size"},
            )
        self.writer.write_table(table, self.output.row_group_size)

    def close(self) -> None:
        """Write the footer (nothing happens if no table was written)."""
        if self.writer is not None:
            self.writer.close()


class ParquetFormat:
    """Parquet files, published by ``_SUCCESS``."""

    name = "parquet"
    extension = ".parquet"
    root_names = (SUCCESS_NAME,)
    immutable_files = False  # a refresh replaces a partial month's file under its name

    def encode(self, table: pa.Table, metadata: Mapping[str, str], output: Output) -> bytes:
        """Parquet bytes of ``table`` with ``metadata`` merged into its key-value metadata."""
        sink = pa.BufferOutputStream()
        pq.write_table(labelled(table, metadata), sink, **writer_options(table.schema, output))
        return bytes(sink.getvalue().to_pybytes())

    def stream(self, sink: Any, output: Output) -> RowGroupWriter:
        """A Parquet file written into ``sink`` a table at a time."""
        return RowGroupWriter(sink, output)

    def decode(self, data: bytes, columns: Sequence[str]) -> Decoded:
        """The schema, metadata and the present ones of ``columns`` of a Parquet file."""
        reader = pq.ParquetFile(pa.BufferReader(data))
        schema = reader.schema_arrow
        present = [c for c in columns if c in schema.names]
        table = reader.read(columns=present, use_threads=False)  # workers fill the cores
        raw = reader.metadata.metadata or {}
        metadata = {
            k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in raw.items()
        }
        return Decoded(schema, metadata, table)

    def check(self, location: Location, output: Mapping[str, Any]) -> None:
        """Nothing to check beyond the location itself."""

    def publish(self, location: Location, release: Release) -> None:
        """Write ``_SUCCESS`` (the release's small JSON summary) last."""
        fs, _ = location.filesystem()
        data = (json.dumps(dict(release.summary)) + "\n").encode("utf-8")
        write_atomic(fs, location.join(SUCCESS_NAME), data)

    def unpublish(self, location: Location) -> None:
        """Remove ``_SUCCESS``, so no reader trusts a partial state."""
        fs, _ = location.filesystem()
        path = location.join(SUCCESS_NAME)
        if fs.exists(path):
            fs.rm(path)

    def is_published(self, location: Location) -> bool:
        """True when the dataset carries its ``_SUCCESS`` marker."""
        fs, _ = location.filesystem()
        return bool(fs.exists(location.join(SUCCESS_NAME)))


FORMAT = ParquetFormat()


class ParquetTableFormat:
    """The part every table format shares: its data files are this module's Parquet files
    (same codec, same extension); a table format adds its own commit."""

    extension = FORMAT.extension
    immutable_files = True  # named by content: a committed name never holds other bytes

    def encode(self, table: pa.Table, metadata: Mapping[str, str], output: Output) -> bytes:
        """The Parquet bytes of a data file (the same codec as the Parquet format)."""
        return FORMAT.encode(table, metadata, output)

    def decode(self, data: bytes, columns: Sequence[str]) -> Decoded:
        """Read a data file back (the Parquet codec)."""
        return FORMAT.decode(data, columns)

    def stream(self, sink: Any, output: Output) -> RowGroupWriter:
        """A data file written a table at a time (the Parquet codec)."""
        return FORMAT.stream(sink, output)
