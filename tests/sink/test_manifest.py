"""The manifest is a typed model: it reads back what it writes, its partitions are typed
values, a pending refresh's staged paths stay inside the sink, and a file that is not a
manifest is refused with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import small_spec

from synthpipe.errors import OutputError
from synthpipe.plan import PartitionId, make_plan
from synthpipe.sink.manifest import MANIFEST_NAME, read_manifest
from synthpipe.storage import Location


def test_the_written_document_reads_back_to_the_same_model(small_dataset: Path) -> None:
    text = (small_dataset / MANIFEST_NAME).read_text()
    manifest = read_manifest(Location(str(small_dataset)))
    assert manifest is not None
    assert manifest.document() == json.loads(text)
    assert manifest.published is True
    listing = manifest.listing()
    assert {f.path for f in listing.files} == set(manifest.files)
    assert all(
        f.partition == PartitionId.parse(manifest.files[f.path].partition) for f in listing.files
    )


def test_partition_keys_round_trip_and_bad_keys_are_refused() -> None:
    for task in make_plan(small_spec()):
        assert PartitionId.parse(task.key) == task.partition
        assert task.partition.key == task.key
    for bad in ("sales-2024-1-00001", "orders-00001", "customers-", "sales-2024-01"):
        with pytest.raises(ValueError, match="not a partition key"):
            PartitionId.parse(bad)


def test_validation_reads_a_staged_file_from_staging(small_dataset: Path) -> None:
    manifest = read_manifest(Location(str(small_dataset)))
    assert manifest is not None
    path = next(iter(manifest.files))
    manifest.files[path].staged = f"_staging/abc/{path}"
    listed = {f.path for f in manifest.listing().files}
    assert f"_staging/abc/{path}" in listed
    assert path not in listed
    assert "staged" not in json.dumps(manifest.listing().__dict__, default=str)


def test_a_file_that_is_not_a_manifest_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text('{"files": 3}')
    with pytest.raises(OutputError, match="is not a synthpipe manifest") as caught:
        read_manifest(Location(str(tmp_path)))
    assert "\n" not in str(caught.value)
