"""Reading a written file back: one read of its bytes gives the checksum and the columns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synthpipe.storage import Location


@dataclass(frozen=True)
class FileRead:
    """A file's bytes summary, its schema and metadata, and the projected columns."""

    path: str
    size: int
    sha256: str
    schema: pa.Schema
    metadata: dict[str, str]
    table: pa.Table


def read_file(
    location: Location, relative: str, columns: list[str], checksum: bool = True
) -> FileRead:
    """Read ``relative`` once: hash all bytes (unless ``checksum`` is False: the sha256 is
    then empty), decode only ``columns``."""
    fs, _ = location.filesystem()
    data = fs.cat_file(location.join(relative))
    reader = pq.ParquetFile(pa.BufferReader(data))
    schema = reader.schema_arrow
    present = [c for c in columns if c in schema.names]
    table = reader.read(columns=present, use_threads=False)  # workers already fill the cores
    raw = reader.metadata.metadata or {}
    metadata = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in raw.items()}
    digest = hashlib.sha256(data).hexdigest() if checksum else ""
    return FileRead(relative, len(data), digest, schema, metadata, table)


def column_codes(
    table: pa.Table, name: str, labels: list[str] | tuple[str, ...]
) -> tuple[np.ndarray, int]:
    """Codes of a dictionary (or string) column in the order of ``labels``.

    Returns (codes, unknown_count): nulls and labels not in ``labels`` get code -1.
    """
    column = table.column(name).combine_chunks() if table.num_rows else pa.array([], pa.string())
    if pa.types.is_dictionary(column.type):
        dictionary = column.dictionary.to_pylist()
        remap = np.asarray(
            [labels.index(v) if v in labels else -1 for v in dictionary] + [-1], dtype=np.int64
        )
        if column.null_count == 0 and np.array_equal(remap[:-1], np.arange(len(dictionary))):
            # the file's dictionary is the labels' order (as synthpipe writes it)
            return np.asarray(column.indices, dtype=np.int64), 0
        indices = column.indices.fill_null(len(dictionary))
        codes = remap[np.asarray(indices, dtype=np.int64)]
    else:
        codes = np.asarray(
            pc.index_in(column, value_set=pa.array(list(labels))).fill_null(-1), dtype=np.int64
        )
    unknown = int(np.count_nonzero(codes < 0)) - column.null_count
    return codes, unknown
