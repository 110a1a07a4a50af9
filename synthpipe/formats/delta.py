"""Delta Lake: each table of the world is a Delta table (``OUT/<table>/_delta_log``), its
data files the same Parquet files the workers write, committed through delta-rs.

A run makes at most one commit per table, listing the files it adds and the files it
replaces; a table whose files are already what the run publishes gets no commit, so an
up-to-date re-run or a retried publish changes nothing. Every commit records the run as
an application transaction (``synthpipe``, run number: ``DeltaTable.transaction_version``)
and the spec's hash, rows and verdict in its commit info. Files are named by what they
hold (``immutable_files``), so a replaced file stays on disk for time travel until the
user vacuums the table.

Timestamps are local wall-clock times without a zone (``timestamp[us]``), which Delta
calls ``timestamp_ntz``: the tables need reader version 3 and writer version 7 with the
``timestampNtz`` feature (Spark 3.4+ with Delta 2.4+, delta-rs, Polars, DuckDB's delta
extension read them).
"""

from __future__ import annotations

import json
import os
import posixpath
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthpipe.errors import StorageError
from synthpipe.formats.base import Release, TableRelease, plain_schema
from synthpipe.formats.parquet import ParquetTableFormat
from synthpipe.storage import Location, is_local
from synthpipe.vocabulary import TABLES

APP_ID = "synthpipe"  # the application transaction every commit records
LOG_FOLDER = "_delta_log"
COMMIT_KEY_PREFIX = "synthpipe."
FOOTER_READERS = 8  # footers read at once for the commit's statistics (I/O bound)
# delta-rs storage options from fsspec's S3 ones
S3_OPTION_NAMES = {
    "key": "AWS_ACCESS_KEY_ID",
    "secret": "AWS_SECRET_ACCESS_KEY",
    "token": "AWS_SESSION_TOKEN",
    "endpoint_url": "AWS_ENDPOINT_URL",
    "region_name": "AWS_REGION",
}
MILLISECONDS = 1000


def _import_deltalake() -> Any:
    try:
        import deltalake
    except ImportError:
        raise StorageError(
            "output.format delta needs the deltalake package: pip install 'synthpipe[delta]'"
        ) from None
    return deltalake


def table_uri(location: Location, table: str) -> str:
    """The URI delta-rs opens for one table of the dataset."""
    fs, _ = location.filesystem()
    if is_local(fs):
        return os.path.abspath(location.join(table))
    return posixpath.join(location.url.rstrip("/"), table)


def storage_options(location: Location) -> dict[str, str]:
    """delta-rs storage options for the dataset's location (S3 keys and endpoint from the
    fsspec options or the AWS environment; plain http allowed for an http endpoint)."""
    options = dict(location.options)
    options.update(options.pop("client_kwargs", None) or {})
    mapped = {S3_OPTION_NAMES[k]: str(v) for k, v in options.items() if k in S3_OPTION_NAMES}
    endpoint = mapped.get("AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL", ""))
    if endpoint.startswith("http://"):
        mapped["AWS_ALLOW_HTTP"] = "true"
    return mapped


def partition_values(relative: str, partition_by: Sequence[str]) -> dict[str, str | None]:
    """``{"month": "2024-01"}`` from ``month=2024-01/part-00000-<tag>.parquet``."""
    found = dict(part.split("=", 1) for part in relative.split("/")[:-1] if "=" in part)
    return {name: found.get(name) for name in partition_by}


def file_statistics(fs: Any, path: str) -> dict[str, Any]:
    """Delta file statistics from a Parquet footer: the row count, and null counts, minima
    and maxima of the integer columns (ids, counts: what readers skip files by)."""
    metadata = pq.read_metadata(fs.open(path, "rb"))
    stats: dict[str, Any] = {"numRecords": metadata.num_rows}
    nulls: dict[str, int] = {}
    minima: dict[str, int] = {}
    maxima: dict[str, int] = {}
    schema = metadata.schema.to_arrow_schema()
    for index, field in enumerate(schema):
        columns = [metadata.row_group(g).column(index) for g in range(metadata.num_row_groups)]
        column_stats = [c.statistics for c in columns]
        if not column_stats or any(s is None or not s.has_null_count for s in column_stats):
            continue
        nulls[field.name] = sum(s.null_count for s in column_stats)
        exact = all(s.has_min_max for s in column_stats)
        if pa.types.is_integer(field.type) and exact:
            minima[field.name] = min(int(s.min) for s in column_stats)
            maxima[field.name] = max(int(s.max) for s in column_stats)
    stats.update(nullCount=nulls, minValues=minima, maxValues=maxima)
    return stats


class DeltaFormat(ParquetTableFormat):
    """Delta Lake tables: Parquet files committed through delta-rs, one commit per table
    per run."""

    name = "delta"
    root_names: tuple[str, ...] = ()

    def check(self, location: Location, output: Mapping[str, Any]) -> None:
        """Nothing to check beyond the location itself."""

    def publish(self, location: Location, release: Release) -> None:
        """Commit every table whose files differ from what the run publishes."""
        for table, files in release.tables.items():
            commit_table(location, table, files, release)

    def unpublish(self, location: Location) -> None:
        """Nothing: readers keep reading the last committed version while a run writes."""

    def is_published(self, location: Location) -> bool:
        """True when every table of the dataset has a Delta log (a first commit)."""
        fs, _ = location.filesystem()
        return all(fs.exists(location.join(f"{table}/{LOG_FOLDER}")) for table in TABLES)


def commit_properties(release: Release, table: str) -> Any:
    """The commit's identity: the run as an application transaction, and the summary."""
    transaction = _import_deltalake().transaction
    info = {f"{COMMIT_KEY_PREFIX}{k}": v for k, v in release.summary.items() if k != "tables"}
    info[f"{COMMIT_KEY_PREFIX}run"] = release.run
    info[f"{COMMIT_KEY_PREFIX}rows"] = release.summary.get("tables", {}).get(table)
    return transaction.CommitProperties(
        custom_metadata=info,
        app_transactions=[transaction.Transaction(APP_ID, release.run)],
    )


def commit_table(location: Location, table: str, wanted: TableRelease, release: Release) -> int:
    """Make the table's current version list exactly ``wanted``'s files: create it, or
    commit the difference in one transaction. Returns the number of file actions
    committed; 0 when the table already is what the run publishes (an up-to-date run,
    or a retry of a run whose commit of this table landed before it was killed: it is
    recognised by content, so a different run that reuses the number is not skipped)."""
    deltalake = _import_deltalake()
    transaction = deltalake.transaction
    uri = table_uri(location, table)
    options = storage_options(location)
    fs, _ = location.filesystem()
    base = location.join(table)
    schema = deltalake.Schema.from_arrow(plain_schema(wanted.schema))
    now = int(time.time() * MILLISECONDS)
    partitions = list(wanted.partition_by)

    def added(relative: str) -> Any:
        path = posixpath.join(base, relative)
        stats = file_statistics(fs, path)
        size = int(fs.size(path))
        values = partition_values(relative, partitions)
        return transaction.AddAction(relative, size, values, now, True, json.dumps(stats))

    if not deltalake.DeltaTable.is_deltatable(uri, storage_options=options):
        with ThreadPoolExecutor(FOOTER_READERS) as pool:
            adds = list(pool.map(added, wanted.files))
        transaction.create_table_with_add_actions(
            uri,
            schema,
            adds,
            mode="error",
            partition_by=partitions or None,
            name=table,
            storage_options=options,
            commit_properties=commit_properties(release, table),
        )
        return len(adds)
    current = deltalake.DeltaTable(uri, storage_options=options)
    present = {_relative(u, uri) for u in current.file_uris()}
    new = sorted(set(wanted.files) - present)
    gone = sorted(present - set(wanted.files))
    if not new and not gone:
        return 0
    with ThreadPoolExecutor(FOOTER_READERS) as pool:
        actions: list[Any] = list(pool.map(added, new))
    actions += [
        transaction.RemoveAction(p, True, now, None, partition_values(p, partitions)) for p in gone
    ]
    try:
        current.create_write_transaction(
            actions,
            mode="append",
            schema=schema,
            partition_by=partitions or None,
            commit_properties=commit_properties(release, table),
        )
    except deltalake.exceptions.CommitFailedError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(
            f"{uri}: another writer changed the table first ({reason}); this run's commit"
            " was not applied and the table is as that writer left it: run again"
        ) from None
    return len(actions)


def _relative(uri: str, table: str) -> str:
    """A file URI of the table, relative to the table's folder."""
    prefix = table.rstrip("/") + "/"
    plain = uri.removeprefix("file://")
    return plain[len(prefix) :] if plain.startswith(prefix) else plain


FORMAT = DeltaFormat()
