"""Where two runs' tables first differ: the file, the row and the column.

A pinned hash says only that some byte moved; these helpers read the reference copy and
the new run and name the first cell that differs, so a failing pin says where to look.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def _decoded(column: pa.ChunkedArray) -> pa.Array:
    """One array of plain values: dictionaries are compared by what they decode to, since
    two writers may number the same values differently."""
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        return array.dictionary_decode()
    return array


def _differing_rows(expected: pa.Array, actual: pa.Array) -> np.ndarray:
    """Row indices (within the shorter array) whose values differ; two nulls are equal."""
    n = min(len(expected), len(actual))
    left, right = expected.slice(0, n), actual.slice(0, n)
    same = pc.fill_null(pc.equal(left, right), False)
    both_null = pc.and_(pc.is_null(left), pc.is_null(right))
    differ = pc.invert(pc.or_(same, both_null))
    return np.flatnonzero(np.asarray(differ.to_numpy(zero_copy_only=False), dtype=bool))


def table_difference(name: str, expected: pa.Table, actual: pa.Table) -> str | None:
    """The first row (then the first column in schema order) at which ``actual`` differs
    from ``expected``, as one sentence naming ``name``; None when every value is equal."""
    if expected.schema.names != actual.schema.names:
        return f"{name}: columns {actual.schema.names}, expected {expected.schema.names}"
    first: tuple[int, str] | None = None
    for column in expected.schema.names:
        left, right = _decoded(expected[column]), _decoded(actual[column])
        if left.type != right.type:
            return f"{name}: column {column!r} has type {right.type}, expected {left.type}"
        rows = _differing_rows(left, right)
        if rows.size and (first is None or int(rows[0]) < first[0]):
            first = (int(rows[0]), column)
    if first is not None:
        row, column = first
        want, got = expected[column][row].as_py(), actual[column][row].as_py()
        return (
            f"{name}: first difference at row {row}, column {column!r}: {got!r}, expected {want!r}"
        )
    if expected.num_rows != actual.num_rows:
        return (
            f"{name}: {actual.num_rows} rows, expected {expected.num_rows} "
            f"(equal up to row {min(expected.num_rows, actual.num_rows)})"
        )
    return None


def first_difference(expected_root: Path, actual_root: Path, suffix: str = ".parquet") -> str:
    """The first file below the two roots (sorted by relative path) whose tables differ,
    and where; or which file is missing, or that every value is equal (only the encoding
    or the metadata moved)."""
    expected = {str(p.relative_to(expected_root)) for p in expected_root.rglob(f"*{suffix}")}
    actual = {str(p.relative_to(actual_root)) for p in actual_root.rglob(f"*{suffix}")}
    for path in sorted(expected | actual):
        if path not in actual:
            return f"{path}: missing from the run"
        if path not in expected:
            return f"{path}: not in the reference copy"
        found = table_difference(
            path, pq.read_table(expected_root / path), pq.read_table(actual_root / path)
        )
        if found is not None:
            return found
    return "every table holds the reference values: only the encoding or metadata moved"
