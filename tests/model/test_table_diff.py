"""The comparer behind the pinned-bytes failures names the first cell that differs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from table_diff import first_difference, table_difference


def _table(amount: list[int | None], kind: list[str]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(len(amount)), pa.int64()),
            "amount": pa.array(amount, pa.int64()),
            "kind": pa.array(kind).dictionary_encode(),
        }
    )


def test_one_differing_cell_is_named_by_table_row_and_column(tmp_path: Path) -> None:
    expected, actual = tmp_path / "expected", tmp_path / "actual"
    for root, amounts in ((expected, [1, None, 3, 4]), (actual, [1, None, 3, 5])):
        (root / "sales").mkdir(parents=True)
        pq.write_table(_table([7], ["a"]), root / "sales" / "a.parquet")
        pq.write_table(_table(amounts, ["a", "b", "a", "b"]), root / "sales" / "b.parquet")
    message = first_difference(expected, actual)
    assert message == "sales/b.parquet: first difference at row 3, column 'amount': 5, expected 4"


def test_the_earliest_row_wins_over_the_earlier_column() -> None:
    message = table_difference("t", _table([1, 2], ["a", "a"]), _table([1, 9], ["b", "a"]))
    assert message == "t: first difference at row 0, column 'kind': 'b', expected 'a'"


def test_equal_tables_and_missing_rows() -> None:
    assert (
        table_difference("t", _table([1, None], ["a", "b"]), _table([1, None], ["a", "b"])) is None
    )
    shorter = table_difference("t", _table([1, 2], ["a", "b"]), _table([1], ["a"]))
    assert shorter == "t: 1 rows, expected 2 (equal up to row 1)"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "expected").mkdir()
    (tmp_path / "actual").mkdir()
    pq.write_table(_table([1], ["a"]), tmp_path / "expected" / "x.parquet")
    assert first_difference(tmp_path / "expected", tmp_path / "actual") == (
        "x.parquet: missing from the run"
    )
