"""The Iceberg format's settings: where its catalog is, refusals before a run writes
anything, and the S3 FileIO settings it derives from the dataset's options."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import small_document, small_spec

from synthpipe.errors import OutputError, SpecError
from synthpipe.formats import output_format
from synthpipe.formats.iceberg import CATALOG_FILE, catalog_uri, file_io_properties
from synthpipe.spec import spec_from_dict
from synthpipe.storage import Location


def test_the_default_catalog_is_a_sqlite_file_beside_a_local_dataset(tmp_path: Path) -> None:
    assert catalog_uri(Location(str(tmp_path)), {}) == f"sqlite:///{tmp_path / CATALOG_FILE}"


def test_object_storage_needs_a_catalog_uri_and_says_so_before_writing() -> None:
    with pytest.raises(OutputError, match=r"`output.catalog_uri` is required for iceberg"):
        output_format("iceberg").check(Location("s3://lake/data", {"anon": True}), {})


def test_env_references_in_the_catalog_uri_are_filled_or_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = {"catalog_uri": "postgresql://synthpipe:${env:CATALOG_PW}@db/lake"}
    monkeypatch.delenv("CATALOG_PW", raising=False)
    with pytest.raises(OutputError, match=r"\$\{env:CATALOG_PW\}, which is not set"):
        catalog_uri(Location(str(tmp_path)), given)
    monkeypatch.setenv("CATALOG_PW", "pa55")
    assert catalog_uri(Location(str(tmp_path)), given) == "postgresql://synthpipe:pa55@db/lake"


def test_a_literal_password_in_the_catalog_uri_is_refused() -> None:
    document = small_document(output__catalog_uri="postgresql://u:hunter2@db/lake")
    with pytest.raises(SpecError, match=r"output.catalog_uri.*write \$\{env:NAME\}"):
        spec_from_dict(document)
    assert small_spec(output__catalog_uri="postgresql://u:${env:PW}@db/lake").output.catalog_uri


def test_s3_file_io_settings_come_from_the_options_and_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    options = {"key": "k", "secret": "s"}
    assert file_io_properties(Location("s3://lake/data", options)) == {
        "s3.access-key-id": "k",
        "s3.secret-access-key": "s",
        "s3.endpoint": "http://127.0.0.1:9",
    }
    assert file_io_properties(Location("/tmp/anywhere")) == {}
