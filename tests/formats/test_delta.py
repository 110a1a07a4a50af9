"""The Delta Lake format's parts: file statistics from footers, partition values from
paths, delta-rs storage options from fsspec's, and a commit that loses a race to another
writer (one line, the table as that writer left it)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from deltalake.transaction import RemoveAction
from helpers import build, small_spec

import synthpipe.formats.delta as delta
from synthpipe.errors import StorageError
from synthpipe.sink.manifest import read_manifest
from synthpipe.sink.publish import release
from synthpipe.storage import Location


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("delta") / "data"
    build(small_spec(output__format="delta", calendar__end="2024-02-15"), out)
    return out


def test_statistics_are_the_files_row_count_nulls_and_integer_bounds(dataset: Path) -> None:
    import fsspec

    path = sorted((dataset / "transactions").rglob("*.parquet"))[0]
    stats = delta.file_statistics(fsspec.filesystem("file"), str(path))
    table = pq.read_table(path)
    assert stats["numRecords"] == table.num_rows
    ids = table["transaction_id"]
    assert stats["minValues"]["transaction_id"] == pc.min(ids).as_py()
    assert stats["maxValues"]["transaction_id"] == pc.max(ids).as_py()
    assert stats["nullCount"]["store_id"] == table["store_id"].null_count > 0
    assert "amount" not in stats["minValues"]  # decimals and timestamps: no bounds
    logged = pa.table(DeltaTable(str(dataset / "transactions")).get_add_actions(flatten=True))
    entry = logged.filter(pc.equal(logged["path"], str(path.relative_to(path.parents[1]))))
    assert entry["num_records"].to_pylist() == [table.num_rows]  # delta-rs reads them back
    assert entry["max.transaction_id"].to_pylist() == [pc.max(ids).as_py()]


def test_partition_values_come_from_the_hive_folders() -> None:
    relative = "month=2024-01/part-00000-0123456789abcdef.parquet"
    assert delta.partition_values(relative, ["month"]) == {"month": "2024-01"}
    assert delta.partition_values("part-00000.parquet", []) == {}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": "http://127.0.0.1:9"}},
            {
                "AWS_ACCESS_KEY_ID": "k",
                "AWS_SECRET_ACCESS_KEY": "s",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
                "AWS_ALLOW_HTTP": "true",
            },
        ),
        (
            {"endpoint_url": "https://s3.example.com"},
            {"AWS_ENDPOINT_URL": "https://s3.example.com"},
        ),
        ({}, {}),
    ],
)
def test_storage_options_map_fsspecs_s3_names(
    options: dict[str, Any], expected: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert delta.storage_options(Location("s3://bucket/data", options)) == expected


def test_a_commit_that_loses_a_race_fails_in_one_line_and_changes_nothing(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    out = Path(shutil.copytree(dataset, tmp_path / "data"))
    location = Location(str(out))
    manifest = read_manifest(location)
    assert manifest is not None
    published = release(manifest)
    table = published.tables["transactions"]
    victim = table.files[-1]
    wanted = replace(table, files=table.files[:-1])  # this run drops the file...
    real = DeltaTable.create_write_transaction

    def racing(self: DeltaTable, actions: list[Any], **kwargs: Any) -> None:
        other = DeltaTable(str(out / "transactions"))  # ...which another writer drops first
        month = victim.split("/")[0].split("=")[1]
        gone = RemoveAction(victim, True, int(time.time() * 1000), None, {"month": month})
        real(other, [gone], mode="append", schema=kwargs["schema"], partition_by=["month"])
        real(self, actions, **kwargs)

    monkeypatch.setattr(DeltaTable, "create_write_transaction", racing)
    with pytest.raises(StorageError, match="another writer changed the table first") as caught:
        delta.commit_table(location, "transactions", wanted, replace(published, run=2))
    assert "\n" not in str(caught.value)
    history = DeltaTable(str(out / "transactions")).history()
    assert [entry.get("synthpipe.run") for entry in history] == [None, 0]  # theirs, the build's
