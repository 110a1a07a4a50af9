"""The flow against a real S3 API on loopback (moto_server): written as whole objects,
published with _SUCCESS, re-run and refreshed in place, and read back by pyarrow's own
S3 client and by DuckDB."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
import s3fs
from helpers import build, small_document, small_spec

from flows.retail import retail_flow

BUCKET = "lake"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, with one bucket."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> s3fs.S3FileSystem:
    """The standard AWS variables pointing at the loopback server (workers inherit them)."""
    for key, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(key, value)
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
    return fs


@pytest.mark.slow  # an S3 server and whole runs
def test_flow_writes_publishes_and_refreshes_on_s3(
    s3_env: s3fs.S3FileSystem, s3_endpoint: str, tmp_path: Path
) -> None:
    url = f"s3://{BUCKET}/retail"
    first = retail_flow(spec=small_document(calendar__end="2024-02-15"), out=url, workers=2)
    assert first["data"] == url
    assert first["report"] == f"{url}/_fidelity/report.html"
    assert s3_env.exists(f"{BUCKET}/retail/_SUCCESS")
    again = retail_flow(spec=small_document(calendar__end="2024-02-15"), out=url, workers=2)
    assert again["generated"] == 0
    extended = retail_flow(spec=small_document(), out=url, workers=2)
    assert extended["generated"] == 6 + 3  # and the customers as of the new end
    listing = {p.split("/", 2)[2] for p in s3_env.ls(f"{BUCKET}/retail", refresh=True)}
    tables = {"customers", "line_items", "products", "stores", "transactions"}
    tables |= {"customer_history", "customer_changes", "devices", "cards", "addresses"}
    assert listing == {"_SUCCESS", "_fidelity", "_manifest.json", "_truth", *tables}
    # pyarrow through its own S3 client
    host = s3_endpoint.removeprefix("http://")
    arrow_s3 = pafs.S3FileSystem(
        endpoint_override=host, scheme="http", access_key="testing", secret_key="testing"
    )
    root = f"{BUCKET}/retail/transactions"
    table = ds.dataset(root, filesystem=arrow_s3, format="parquet", partitioning="hive").to_table()
    # the same bytes as a local build of the same spec
    local = tmp_path / "local"
    build(small_spec(), local)
    assert table.num_rows == ds.dataset(local / "transactions", partitioning="hive").count_rows()
    for path in (local / "transactions").rglob("*.parquet"):
        relative = path.relative_to(local)
        assert s3_env.cat_file(f"{BUCKET}/retail/{relative}") == path.read_bytes()
    # DuckDB through the fsspec filesystem (its httpfs extension would need a download)
    connection = duckdb.connect()
    connection.register_filesystem(s3fs.S3FileSystem(skip_instance_cache=True))
    [(rows, months)] = connection.execute(
        "select count(*), count(distinct month) from read_parquet(?, hive_partitioning = true)",
        [f"s3://{BUCKET}/retail/transactions/*/*.parquet"],
    ).fetchall()
    assert rows == table.num_rows
    assert months == 3


@pytest.mark.slow  # an S3 server and whole runs
def test_delta_tables_on_s3_commit_refresh_and_read_back(
    s3_env: s3fs.S3FileSystem, s3_endpoint: str
) -> None:
    """Delta on the S3 API: delta-rs commits with S3's conditional put (no lock table),
    an extended calendar is one more version, and delta-rs and Polars read it back."""
    import polars as pl
    from deltalake import DeltaTable

    url = f"s3://{BUCKET}/lake-delta"
    first = small_document(calendar__end="2024-02-15", output__format="delta")
    retail_flow(spec=first, out=url, workers=2)
    again = retail_flow(spec=first, out=url, workers=2)
    assert again["generated"] == 0
    extended = retail_flow(spec=small_document(output__format="delta"), out=url, workers=2)
    options = {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ALLOW_HTTP": "true", **CREDENTIALS}
    table = DeltaTable(f"{url}/transactions", storage_options=options)
    assert table.version() == 1
    rows = extended["rows"]["transactions"]
    assert table.to_pyarrow_dataset().count_rows() == rows
    frame = pl.read_delta(f"{url}/transactions", storage_options=options)
    assert frame.height == rows
    old = DeltaTable(f"{url}/transactions", version=0, storage_options=options)
    assert old.to_pyarrow_dataset().count_rows() < rows
    assert not s3_env.exists(f"{BUCKET}/lake-delta/_SUCCESS")


@pytest.mark.slow  # make test-all
def test_iceberg_tables_on_s3_with_a_sql_catalog_commit_refresh_and_read_back(
    s3_env: s3fs.S3FileSystem, tmp_path: Path
) -> None:
    """Iceberg on the S3 API: data and metadata on S3 through pyiceberg's S3 FileIO, the
    SQL catalog in a local SQLite file named by output.catalog_uri."""
    from pyiceberg.catalog.sql import SqlCatalog

    from synthpipe.formats.iceberg import CATALOG_NAME, file_io_properties
    from synthpipe.storage import Location

    url = f"s3://{BUCKET}/lake-iceberg"
    uri = f"sqlite:///{tmp_path / 'catalog.db'}"
    changes = {"output__format": "iceberg", "output__catalog_uri": uri}
    retail_flow(spec=small_document(calendar__end="2024-02-15", **changes), out=url, workers=2)
    extended = retail_flow(spec=small_document(**changes), out=url, workers=2)
    catalog = SqlCatalog(CATALOG_NAME, uri=uri, **file_io_properties(Location(url)))
    table = catalog.load_table(("synthpipe", "transactions"))
    assert len(table.snapshots()) == 2
    assert table.scan().to_arrow().num_rows == extended["rows"]["transactions"]
    metadata = s3_env.ls(f"{BUCKET}/lake-iceberg/transactions/metadata")
    assert any(p.endswith(".metadata.json") for p in metadata)
