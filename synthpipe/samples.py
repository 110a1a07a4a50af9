"""Reading a user's own table of transactions (CSV or Parquet): the one place outside
``synthpipe.formats`` that names a file format, because the user's files are theirs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from synthpipe.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")


def read_user_table(path: str, what: str) -> pa.Table:
    """The CSV or Parquet file at ``path`` (Parquet by its suffix), or a one-line
    InputError that names it as ``what`` (an option or an argument)."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{what} {path!r} is not a file")
    try:
        if file.suffix.lower() in PARQUET_SUFFIXES:
            return pq.read_table(file)
        return pv.read_csv(file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{what} {path!r} cannot be read: {str(exc).splitlines()[0]}") from None
