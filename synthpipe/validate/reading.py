"""Reading a written file back: one read of its bytes gives the checksum and the columns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.formats import output_format
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
    decoded = output_format().decode(data, columns)
    digest = hashlib.sha256(data).hexdigest() if checksum else ""
    return FileRead(relative, len(data), digest, decoded.schema, decoded.metadata, decoded.table)


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
        indices = dictionary_indices(column)
        # the file's dictionary in the labels' order (as synthpipe writes it): the indices
        # are the codes; else remapped (a null's -1 picks the remap's last entry, -1)
        identity = np.array_equal(remap[:-1], np.arange(len(dictionary)))
        codes = indices if identity else remap[indices]
    else:
        codes = np.asarray(
            pc.index_in(column, value_set=pa.array(list(labels))).fill_null(-1), dtype=np.int64
        )
    unknown = int(np.count_nonzero(codes < 0)) - column.null_count
    return codes, unknown


def dictionary_indices(column: pa.DictionaryArray) -> np.ndarray:
    """The indices of a dictionary array as int64, -1 where null (read from its buffers:
    ``fill_null`` would copy the column twice)."""
    indices = column.indices
    count = indices.offset + len(indices)
    data = indices.buffers()[1]
    if data is None:  # an empty array
        return np.zeros(0, dtype=np.int64)
    values = np.frombuffer(data, dtype=indices.type.to_pandas_dtype(), count=count)
    codes = values[indices.offset :].astype(np.int64)
    if indices.null_count:
        bitmap = np.frombuffer(indices.buffers()[0], dtype=np.uint8)
        valid = np.unpackbits(bitmap, count=count, bitorder="little")[indices.offset :]
        codes[valid == 0] = -1
    return codes
