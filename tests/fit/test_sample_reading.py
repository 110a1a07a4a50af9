"""Reading a `fit` sample: a CSV row longer than pyarrow's block, an identifier of a type
the fit cannot use, and times written with UTC offsets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from synthpipe.cli import EXIT_BAD_INPUT, EXIT_OK, main
from synthpipe.fit.sample import CSV_BLOCK_BYTES, read_sample

CUSTOMERS = 12
VISITS = 4
BIG_CELL_BYTES = 10 * 2**20  # the 10 MB cell


def _rows(offsets: tuple[str, ...] = ("",)) -> list[dict[str, object]]:
    """A small valid sample: each customer buys at 10:15 wall-clock time on a few days,
    the days' offsets taken in turn from ``offsets``."""
    return [
        {
            "customer_id": f"c{c}",
            "ts": f"2024-01-{1 + 3 * visit:02d}T10:15:00{offsets[visit % len(offsets)]}",
            "amount": 10.0 + c,
            "note": "x",
        }
        for c in range(CUSTOMERS)
        for visit in range(VISITS)
    ]


def test_a_cell_longer_than_a_csv_block_in_an_unused_column_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pyarrow refused it with "straddling object straddles two block boundaries"."""
    rows = _rows()
    rows[5]["note"] = "y" * BIG_CELL_BYTES
    assert BIG_CELL_BYTES > CSV_BLOCK_BYTES
    sample = tmp_path / "sample.csv"
    pv.write_csv(pa.Table.from_pylist(rows), sample)
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(sample), "--out", str(out)]) == EXIT_OK, capsys.readouterr().err
    assert out.is_file()
    report = json.loads((tmp_path / "fitted.fit.json").read_text())
    assert report["sample"]["rows"] == CUSTOMERS * VISITS
    assert report["notes"] == []


ID_TYPES = "an id must be text, a number or bytes (string, integer, floating point or binary)"
ROWS = CUSTOMERS * VISITS


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "customer_id",
            pa.array([{"id": i % CUSTOMERS} for i in range(ROWS)]),
            f"sample column 'customer_id' is struct<id: int64>; {ID_TYPES}",
        ),
        (
            "customer_id",
            pa.array([i % 2 == 0 for i in range(ROWS)]),
            f"sample column 'customer_id' is bool; {ID_TYPES}",
        ),
        (
            "channel",
            pa.array([[1, 2]] * ROWS),
            "sample column 'channel' is list<element: int64>; labels must be text, numbers or"
            " booleans",
        ),
    ],
    ids=["struct-id", "bool-id", "list-label"],
)
def test_a_column_of_an_unusable_type_is_one_line_naming_it_and_the_types(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    column: str,
    values: pa.Array,
    message: str,
) -> None:
    """A struct customer id stopped the fit with ArrowNotImplementedError (exit 1)."""
    table = pa.Table.from_pylist(_rows())
    if column in table.column_names:
        table = table.set_column(table.column_names.index(column), column, values)
    else:
        table = table.append_column(column, values)
    sample = tmp_path / "sample.parquet"
    pq.write_table(table, sample)
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(sample), "--out", str(out)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.err == f"synthpipe: error: {message}\n"
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.parquet"]


def test_ids_as_bytes_or_numbers_are_customers(tmp_path: Path) -> None:
    """UUIDs stored as 16 bytes, and ids a dataframe wrote as floats, still tell customers
    apart."""
    table = pa.Table.from_pylist(_rows())
    index = table.column_names.index("customer_id")
    numbers = [i // VISITS for i in range(ROWS)]
    for values in (
        pa.array([n.to_bytes(16, "big") for n in numbers], pa.binary(16)),
        pa.array([float(n) for n in numbers]),
    ):
        sample = tmp_path / "sample.parquet"
        pq.write_table(table.set_column(index, "customer_id", values), sample)
        assert read_sample(str(sample), {}, min_customers=2).customers == CUSTOMERS


def test_mixed_utc_offsets_are_read_as_wall_clock_times_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ts` is the local wall-clock time of a sale (docs/output.md): 10:15+05:00 is a
    purchase at 10:15, so every purchase here is in hour 10; the note names the column
    and the offsets seen, on stderr and in the report."""
    offsets = ("+00:00", "+05:00", "Z", "-0330")
    sample = tmp_path / "sample.csv"
    pv.write_csv(pa.Table.from_pylist(_rows(offsets)), sample)
    read = read_sample(str(sample), {}, min_customers=2)
    assert read.hour is not None
    assert np.unique(read.hour).tolist() == [10]
    assert np.unique(read.day).size == VISITS
    note = (
        "sample column 'ts' has times at UTC offsets +00:00, +05:00, -03:30: each is read as"
        " its local wall-clock time (the offset dropped), as synthpipe's ts is"
    )
    assert read.notes == (note,)
    out = tmp_path / "fitted.yaml"
    assert main(["fit", str(sample), "--out", str(out)]) == EXIT_OK
    assert capsys.readouterr().err == f"synthpipe: note: {note}\n"
    assert json.loads((tmp_path / "fitted.fit.json").read_text())["notes"] == [note]


@pytest.mark.parametrize(
    "offsets", [("Z",), ("+00:00", ""), ("",)], ids=["z", "utc-naive", "naive"]
)
def test_times_at_utc_or_without_an_offset_need_no_note(
    tmp_path: Path, offsets: tuple[str, ...]
) -> None:
    sample = tmp_path / "sample.csv"
    pv.write_csv(pa.Table.from_pylist(_rows(offsets)), sample)
    read = read_sample(str(sample), {}, min_customers=2)
    assert read.notes == ()
    assert read.hour is not None
    assert np.unique(read.hour).tolist() == [10]


def test_empty_times_in_a_csv_are_still_named_as_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CSV's time column is read as text (for its offsets): its empty cells stay
    empty values, not text that is "not a date"."""
    rows = _rows()
    rows[3]["ts"] = None
    sample = tmp_path / "sample.csv"
    pv.write_csv(pa.Table.from_pylist(rows), sample)
    assert main(["fit", str(sample), "--out", str(tmp_path / "x.yaml")]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == (
        "synthpipe: error: sample columns 'customer_id' and 'ts' must have no empty values\n"
    )
