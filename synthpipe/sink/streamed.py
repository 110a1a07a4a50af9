"""One table file written as its rows arrive, so that the client never holds it whole.

The per-customer ground truth (one row per customer, one per staple) grows with the
dataset: at a billion rows it was gigabytes in the command's process when the blocks'
pieces were concatenated before writing. ``StreamedTable`` takes the pieces in order and
writes a row group each time a whole one has arrived. The bytes are those of encoding the
concatenated table at once (``encoded_file``): the same row groups, the same column chunks,
the same metadata (tested).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from contextlib import ExitStack, suppress
from typing import Any

import pyarrow as pa

from synthpipe.formats import TableWriter, output_format
from synthpipe.sink.labels import file_metadata
from synthpipe.sink.partitions import FileRecord, table_name
from synthpipe.spec import Spec
from synthpipe.storage import Location, open_atomic


def _unchanged(table: pa.Table) -> pa.Table:
    return table


class _Hashing:
    """A binary file that hashes and counts what is written through it."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        self.size += view.nbytes
        self.handle.write(view)
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.handle.flush()

    def close(self) -> None:
        self.closed = True  # the file itself is closed (and committed) by open_atomic


class StreamedTable:
    """A table file under ``location`` at ``relative``, written row group by row group as
    ``add`` receives its pieces (in order; at least one, even if empty: it gives the
    schema); ``finish`` turns each row group's rows into the written columns (applied per
    row group, as it would be to the whole table)."""

    def __init__(
        self,
        spec: Spec,
        location: Location,
        relative: str,
        label: str,
        finish: Callable[[pa.Table], pa.Table] = _unchanged,
    ) -> None:
        self.spec = spec
        self.relative = relative
        self.name = table_name(relative)
        self.metadata = file_metadata(spec, self.name, label)
        self.label = label
        self.finish = finish
        self.fs, _ = location.filesystem()
        self.path = location.join(relative)
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.rows = 0
        self.group_rows = spec.output.row_group_size  # the writer splits at the same size
        self.files = ExitStack()
        self.sink: _Hashing | None = None
        self.writer: TableWriter | None = None

    def add(self, piece: pa.Table) -> None:
        """Append ``piece``'s rows; every whole row group so far is written."""
        self.pending.append(piece)
        self.pending_rows += piece.num_rows
        while self.pending_rows >= self.group_rows:
            rows = pa.concat_tables(self.pending)
            self._write(rows.slice(0, self.group_rows))
            rest = rows.slice(self.group_rows)
            self.pending, self.pending_rows = [rest], rest.num_rows

    def __enter__(self) -> StreamedTable:
        return self

    def __exit__(self, kind: Any, value: Any, trace: Any) -> bool | None:
        """On success, write the last row group (or the empty table, if no row came) and
        put the file in place; on failure, leave nothing behind."""
        if kind is None:
            try:
                if self.pending_rows or self.rows == 0:
                    self._write(pa.concat_tables(self.pending))
                assert self.writer is not None
                self.writer.close()
            except BaseException:
                self.files.__exit__(*sys.exc_info())
                raise
        elif self.writer is not None:
            with suppress(Exception):  # its footer goes to the file about to be dropped
                self.writer.close()
        return self.files.__exit__(kind, value, trace)

    @property
    def record(self) -> FileRecord:
        """The written file, as the manifest lists it (once the block has ended)."""
        assert self.sink is not None
        digest = self.sink.digest.hexdigest()
        return FileRecord(self.relative, self.name, self.rows, self.sink.size, digest, self.label)

    def _write(self, rows: pa.Table) -> None:
        if self.writer is None:
            self.sink = _Hashing(self.files.enter_context(open_atomic(self.fs, self.path)))
            self.writer = output_format(self.spec.output.format).stream(self.sink, self.spec.output)
        table = self.finish(rows)
        self.writer.write(table, self.metadata)
        self.rows += table.num_rows
