"""A table streamed row group by row group has the bytes of the table encoded at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from helpers import small_spec

from synthpipe.model.catalogue_truth import staples_with_categories
from synthpipe.sink.labels import encoded_file
from synthpipe.sink.streamed import StreamedTable
from synthpipe.storage import Location, sha256_hex

ROW_GROUP = 1_024  # the smallest row group a spec allows: many groups from few rows


def _pieces(sizes: list[int], seed: int) -> list[pa.Table]:
    rng = np.random.default_rng(seed)
    return [
        pa.table(
            {
                "customer_id": pa.array(rng.integers(0, 10**9, n)),
                "category_index": pa.array(rng.integers(0, 3, n), pa.int8()),
                "value": pa.array(rng.random(n)),
            }
        )
        for n in sizes
    ]


@pytest.mark.parametrize(
    "sizes",
    [[700, 700, 700], [1_024, 2_048], [5_000], [10, 0, 3_000, 1], [0], [3_072]],
    ids=["across-pieces", "whole-groups", "one-piece", "ragged", "empty", "exact-multiple"],
)
def test_streamed_file_has_the_bytes_of_the_whole_table(tmp_path: Path, sizes: list[int]) -> None:
    spec = small_spec(output__row_group_size=ROW_GROUP)
    pieces = _pieces(sizes, seed=len(sizes))

    def finish(rows: pa.Table) -> pa.Table:
        return staples_with_categories(spec, rows)

    with StreamedTable(
        spec, Location(str(tmp_path)), "_truth/staples.parquet", "_truth", finish
    ) as stream:
        for piece in pieces:
            stream.add(piece)
    written = (tmp_path / "_truth" / "staples.parquet").read_bytes()
    expected = encoded_file(finish(pa.concat_tables(pieces)), spec, "staples", "_truth")
    assert written == expected
    record = stream.record
    assert (record.rows, record.bytes, record.sha256) == (
        sum(sizes),
        len(written),
        sha256_hex(written),
    )
    assert record.table == "staples"


def _stream_then_fail(stream: StreamedTable, piece: pa.Table) -> None:
    with stream:
        stream.add(piece)
        raise RuntimeError("worker lost")


def test_a_failed_stream_leaves_no_file(tmp_path: Path) -> None:
    spec = small_spec(output__row_group_size=ROW_GROUP)
    piece = _pieces([3_000], seed=1)[0]  # two row groups are written before the failure
    with pytest.raises(RuntimeError, match="worker lost"):
        _stream_then_fail(
            StreamedTable(spec, Location(str(tmp_path)), "_truth/t.parquet", "_truth"), piece
        )
    assert not list(tmp_path.rglob("*.parquet"))
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # no temporary left either
