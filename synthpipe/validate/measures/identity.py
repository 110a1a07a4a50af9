"""Statistics of a customer block's identity tables (``devices``, ``cards``,
``addresses``: ``synthpipe.model.identity``): their files, rows, nulls and duplicate keys."""

from __future__ import annotations

from synthpipe.model.schema import SCHEMAS
from synthpipe.validate import statistics as st
from synthpipe.validate.dimensions import count_nulls, duplicate_count, file_record, numpy_column
from synthpipe.validate.merge import Stats
from synthpipe.validate.reading import FileRead
from synthpipe.vocabulary import IDENTITY_TABLES

# the columns each identity table's file is read with: its key and its owner
IDENTITY_COLUMNS = {table: list(SCHEMAS[table].names) for table in IDENTITY_TABLES}


def identity_stats(reads: dict[str, FileRead]) -> Stats:
    """Statistics of one block's identity files, by table: each file's record, its rows,
    its null counts and its duplicate keys."""
    stats: Stats = {st.FILES: []}
    duplicates = 0
    for table, read in reads.items():
        schema = SCHEMAS[table]
        stats[st.FILES].append(file_record(read, table, schema))
        count_nulls(stats, table, read, schema)
        stats[st.ROWS[table]] = int(read.table.num_rows)
        duplicates += duplicate_count(numpy_column(read.table, schema.names[0]))
    stats[st.IDENTITY_KEY_DUPLICATES] = duplicates
    return stats
