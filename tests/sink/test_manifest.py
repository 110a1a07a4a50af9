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
from synthpipe.secrets import EXTERNAL_PREFIX, REDACTED, externalise
from synthpipe.sink.manifest import (
    MANIFEST_NAME,
    FileEntry,
    build_manifest,
    read_manifest,
    write_manifest,
)
from synthpipe.spec import public_document
from synthpipe.spec.loader import STORAGE_OPTIONS
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


def test_the_manifest_redacts_the_references_a_run_makes_for_literal_credentials(
    tmp_path: Path,
) -> None:
    """The flow gets each literal credential as a `${env:SYNTHPIPE_CREDENTIAL_...}`
    reference (flow_parameter); before, the manifest kept those references where the
    docs/object-storage.md promises `<redacted>`. A reference the user wrote names a variable, not a
    secret, and stays."""
    options = {
        "secret": "s3cr3t",
        "endpoint_url": "http://user:pa55@minio:9000",  # a password in a URL
        "key": "${env:MY_KEY}",
        "client_kwargs": {"region_name": "eu-west-1"},
    }
    environ: dict[str, str] = {}
    spec = small_spec(output__storage_options=externalise(options, environ, STORAGE_OPTIONS))
    assert len(environ) == 2  # what the flow's parameter refers to
    location = Location(str(tmp_path))
    write_manifest(location, build_manifest(spec, []))
    text = (tmp_path / MANIFEST_NAME).read_text()
    assert json.loads(text)["spec"]["output"]["storage_options"] == {
        "secret": REDACTED,
        "endpoint_url": REDACTED,
        "key": "${env:MY_KEY}",
        "client_kwargs": {"region_name": "eu-west-1"},
    }
    assert EXTERNAL_PREFIX not in text
    assert "pa55" not in text
    assert "s3cr3t" not in text
    # a re-run compares its spec with the same redaction: the dataset stays up to date
    manifest = read_manifest(location)
    assert manifest is not None
    assert manifest.spec == public_document(spec)


def test_the_listing_names_data_files_the_manifest_does_not_list(tmp_path: Path) -> None:
    """Data files in the table folders are the manifest's; anything else there is named
    (hidden names, files the run is about to remove and what lives outside the table
    folders aside). A table format's readers read only what its log lists: not named."""
    listed = "transactions/month=2024-01/part-00000.parquet"
    stray = "transactions/month=2024-01/part-09999.parquet"
    leaving = "customers/part-00003.parquet"
    ignored = [
        "transactions/month=2024-01/.tmp-0123-part-00000.parquet",
        "transactions/_delta_log/00000000000000000000.json",
        "_truth/daily_volume.parquet",
        "_fidelity/report.json",
        "_SUCCESS",
    ]
    for relative in (listed, stray, leaving, *ignored):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"data")
    manifest = build_manifest(small_spec(), [])
    manifest.files[listed] = FileEntry(
        table="transactions", rows=1, bytes=4, sha256="0" * 64, partition="sales-2024-01-00000"
    )
    location = Location(str(tmp_path))
    assert manifest.listing().unlisted == ()  # without the location: nothing looked at
    assert manifest.listing(location, (leaving,)).unlisted == (stray,)
    assert manifest.listing(location).unlisted == (leaving, stray)
    delta = build_manifest(small_spec(output__format="delta"), [])
    delta.files = manifest.files
    assert delta.listing(location).unlisted == ()
