"""Atomic writes, the synthetic label in every file, the manifest, and output checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fsspec import AbstractFileSystem
from helpers import parquet_files

from synthpipe.errors import OutputError
from synthpipe.formats.parquet import SUCCESS_NAME
from synthpipe.sink.manifest import MANIFEST_NAME
from synthpipe.sink.output import check_output
from synthpipe.storage import TEMP_PREFIX, Location, write_atomic


def test_atomic_write_leaves_no_partial_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec

    fs = fsspec.filesystem("file")
    target = tmp_path / "a" / "part-00000.parquet"
    write_atomic(fs, str(target), b"first")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        write_atomic(fs, str(target), b"second version")
    assert target.read_bytes() == b"first"
    assert [p.name for p in target.parent.iterdir()] == ["part-00000.parquet"]


def test_every_file_is_labelled_synthetic(small_dataset: Path) -> None:
    manifest = json.loads((small_dataset / MANIFEST_NAME).read_text())
    for table in ("customers", "products", "stores", "transactions", "line_items"):
        for relative in parquet_files(small_dataset, table):
            metadata = pq.read_metadata(small_dataset / relative).metadata
            assert metadata[b"synthpipe.synthetic"] == b"true"
            assert metadata[b"synthpipe.world_sha256"].decode() == manifest["world_sha256"]
            assert metadata[b"synthpipe.table"].decode() == table
            label = metadata[b"synthpipe.partition"].decode()
            entry = manifest["files"][relative]
            assert label.split(" ")[0] == entry["partition"]
            if "days" in entry and len(entry["days"]) == 2:  # sales: the days they cover
                assert label.endswith(f" {entry['days'][0]}..{entry['days'][1]}")
            elif "days" in entry:  # customers: the day they are as of (calendar.end)
                assert label.endswith(f" as of {entry['days'][0]}")
                assert entry["days"] == [manifest["spec"]["calendar"]["end"]]
            assert b"describes no real person" in metadata[b"synthpipe.notice"]


def test_integer_columns_are_delta_encoded_and_categories_dictionary_encoded(
    small_dataset: Path,
) -> None:
    integer_kinds = {"INT32", "INT64"}
    for table in ("customers", "products", "stores", "transactions", "line_items"):
        relative = parquet_files(small_dataset, table)[0]
        parquet = pq.ParquetFile(small_dataset / relative)
        arrow_schema = parquet.schema_arrow
        for group in range(parquet.metadata.num_row_groups):
            for index in range(parquet.metadata.num_columns):
                chunk = parquet.metadata.row_group(group).column(index)
                field = arrow_schema.field(chunk.path_in_schema)
                if pa.types.is_dictionary(field.type):
                    assert "RLE_DICTIONARY" in chunk.encodings, (relative, field.name)
                elif chunk.physical_type in integer_kinds:
                    # money (decimal as integer), ids, dates and timestamps alike
                    assert "DELTA_BINARY_PACKED" in chunk.encodings, (relative, field.name)
                    assert "PLAIN" not in chunk.encodings, (relative, field.name)


def test_manifest_lists_every_file_with_rows_and_checksums(small_dataset: Path) -> None:
    import hashlib

    manifest = json.loads((small_dataset / MANIFEST_NAME).read_text())
    on_disk = {str(p.relative_to(small_dataset)) for p in small_dataset.rglob("*.parquet")}
    truth = {p for p in on_disk if p.startswith("_truth/")}
    assert set(manifest["files"]) == on_disk - truth
    assert set(manifest["truth"]) == truth
    for relative, info in manifest["files"].items():
        data = (small_dataset / relative).read_bytes()
        assert info["sha256"] == hashlib.sha256(data).hexdigest()
        assert info["rows"] == pq.read_metadata(small_dataset / relative).num_rows
    assert manifest["published"] is True
    assert (small_dataset / SUCCESS_NAME).exists()
    assert not any(p.name.startswith(TEMP_PREFIX) for p in small_dataset.rglob("*"))
    fraud = manifest["fraud_counts"]
    assert sorted(fraud) == ["2024-01", "2024-02", "2024-03"]
    assert all(sum(month.values()) > 0 for month in fraud.values())


def test_output_checks(tmp_path: Path, small_dataset: Path) -> None:
    check_output(Location(str(tmp_path / "new" / "folder")))
    check_output(Location(str(small_dataset)))
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_output(Location(str(tmp_path / "file.txt")))
    with pytest.raises(OutputError, match="non-empty folder without a synthpipe dataset"):
        check_output(Location(str(tmp_path)))
    with pytest.raises(OutputError, match="below a file"):
        check_output(Location(str(tmp_path / "file.txt" / "sub")))
    with pytest.raises(OutputError, match="is this process's memory"):
        check_output(Location("memory://retail"))
    with pytest.raises(OutputError, match="'nosuchstore://x' cannot be opened: ValueError"):
        check_output(Location("nosuchstore://x"))


class _NoCredentials(AbstractFileSystem):
    """A store that refuses every call, as S3 does without credentials."""

    protocol = "nocredentials"

    def exists(self, path: str, **kwargs: object) -> bool:
        raise PermissionError("no credentials for this bucket")


def test_an_unreachable_store_is_refused_in_one_line() -> None:
    fsspec.register_implementation(_NoCredentials.protocol, _NoCredentials, clobber=True)
    with pytest.raises(OutputError) as caught:
        check_output(Location("nocredentials://bucket/retail"))
    assert str(caught.value) == (
        "--out 'nocredentials://bucket/retail' cannot be reached:"
        " PermissionError: no credentials for this bucket"
    )


def test_plain_integer_encoding_for_older_readers_keeps_the_values(tmp_path: Path) -> None:
    from helpers import small_spec

    from synthpipe.plan import make_plan
    from synthpipe.sink.partitions import write_partition

    tables = {}
    for encoding in ("delta", "plain"):
        spec = small_spec(output__integer_encoding=encoding)
        task = next(t for t in make_plan(spec) if t.kind == "sales")
        result = write_partition(spec, task, Location(str(tmp_path / encoding)))
        relative = next(f.path for f in result.files if f.path.startswith("line_items"))
        parquet = pq.ParquetFile(tmp_path / encoding / relative)
        encodings = set().union(
            *(parquet.metadata.row_group(0).column(i).encodings for i in range(7))
        )
        assert ("DELTA_BINARY_PACKED" in encodings) == (encoding == "delta")
        tables[encoding] = parquet.read()
    assert tables["delta"].equals(tables["plain"])  # the same values, types and order
