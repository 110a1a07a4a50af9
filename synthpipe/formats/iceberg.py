"""Apache Iceberg: each table of the world is an Iceberg table in a SQL catalog, its data
files the same Parquet files the workers write, committed through pyiceberg.

A run makes at most one snapshot per table: the files it adds, and the files it
replaces, in one catalog commit (the catalog swaps the table's metadata pointer, so a
reader sees the old snapshot or the new one). A table whose files already are what the
run publishes gets no snapshot. Every snapshot's summary records the run, the spec's
hash and the report's verdict.

The catalog is pyiceberg's SQL catalog: a SQLite file ``_catalog.db`` beside the data by
default, or the spec's ``output.catalog_uri`` (any SQLAlchemy URI; required on object
storage, where a SQLite file cannot live). Tables are ``<output.namespace>.<table>``.

Iceberg partitions by transforms of columns in the files, not by folder names: the
transactions are partitioned by ``month(ts)``; the line items (no time column) and the
dimensions are unpartitioned, and readers skip line-item files by their
``transaction_id`` bounds. The files keep their hive folders, which Iceberg ignores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from synthpipe.errors import OutputError, StorageError
from synthpipe.formats.base import Release, TableRelease, plain_schema
from synthpipe.formats.delta import S3_OPTION_NAMES
from synthpipe.formats.parquet import ParquetTableFormat
from synthpipe.storage import Location, is_local
from synthpipe.vocabulary import TABLES

CATALOG_NAME = "synthpipe"
CATALOG_FILE = "_catalog.db"  # the default SQLite catalog, beside the data
DEFAULT_NAMESPACE = "synthpipe"
SUMMARY_PREFIX = "synthpipe."
MONTH_FIELD = "month"  # the partition field's name: month(ts)
ENV_PART = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
# pyiceberg's FileIO properties from the delta-rs names of the S3 settings
FILE_IO_NAMES = {
    "AWS_ACCESS_KEY_ID": "s3.access-key-id",
    "AWS_SECRET_ACCESS_KEY": "s3.secret-access-key",
    "AWS_SESSION_TOKEN": "s3.session-token",
    "AWS_ENDPOINT_URL": "s3.endpoint",
    "AWS_REGION": "s3.region",
}
ENVIRONMENT_S3 = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION")


def _import_pyiceberg() -> None:
    try:
        import pyiceberg  # noqa: F401
    except ImportError:
        raise StorageError(
            "output.format iceberg needs the pyiceberg package: pip install 'synthpipe[iceberg]'"
        ) from None


def catalog_uri(location: Location, output: Mapping[str, Any]) -> str:
    """The SQL catalog's URI: the spec's (``${env:NAME}`` parts filled from the
    environment), or a SQLite file beside a local dataset."""
    given = output.get("catalog_uri")
    if given:
        return ENV_PART.sub(lambda m: _environment(m.group(1)), str(given))
    fs, root = location.filesystem()
    if not is_local(fs):
        raise OutputError(
            f"`output.catalog_uri` is required for iceberg on {location.display()}: a SQLite"
            " catalog file cannot live in an object store"
        )
    return f"sqlite:///{os.path.abspath(os.path.join(root, CATALOG_FILE))}"


def _environment(name: str) -> str:
    if name not in os.environ:
        raise OutputError(f"`output.catalog_uri` names ${{env:{name}}}, which is not set")
    return os.environ[name]


def file_io_properties(location: Location) -> dict[str, str]:
    """pyiceberg's S3 FileIO settings from the dataset's fsspec options and the AWS
    environment (empty for a local dataset)."""
    fs, _ = location.filesystem()
    if is_local(fs):
        return {}
    options = dict(location.options)
    options.update(options.pop("client_kwargs", None) or {})
    named = {S3_OPTION_NAMES[k]: str(v) for k, v in options.items() if k in S3_OPTION_NAMES}
    for variable in ENVIRONMENT_S3:
        if variable not in named and variable in os.environ:
            named[variable] = os.environ[variable]
    return {FILE_IO_NAMES[k]: v for k, v in named.items()}


def open_catalog(location: Location, output: Mapping[str, Any]) -> Any:
    """The dataset's SQL catalog, its tables created on first use."""
    _import_pyiceberg()
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog(
        CATALOG_NAME, uri=catalog_uri(location, output), **file_io_properties(location)
    )


def file_uri(location: Location, relative: str) -> str:
    """A data file's absolute URI, as Iceberg metadata records it."""
    fs, _ = location.filesystem()
    if is_local(fs):
        return "file://" + os.path.abspath(location.join(relative))
    return location.url.rstrip("/") + "/" + relative


@contextlib.contextmanager
def _quiet_schema_notes() -> Iterator[None]:
    """pyiceberg logs a warning per dictionary column of every file it adds ("will be
    inferred as string"), which is what the table's schema already says."""
    logger = logging.getLogger("pyiceberg.io.pyarrow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class IcebergFormat(ParquetTableFormat):
    """Apache Iceberg tables: Parquet files committed through pyiceberg's SQL catalog,
    one snapshot per table per run."""

    name = "iceberg"
    root_names: tuple[str, ...] = (CATALOG_FILE,)

    def check(self, location: Location, output: Mapping[str, Any]) -> None:
        """Refuse, before anything is written, a catalog this run could not reach: no
        ``output.catalog_uri`` on object storage, or a ``${env:NAME}`` that is not set."""
        catalog_uri(location, output)

    def publish(self, location: Location, release: Release) -> None:
        """Commit every table whose files differ from what the run publishes."""
        catalog = open_catalog(location, release.output)
        namespace = str(release.output.get("namespace", DEFAULT_NAMESPACE))
        catalog.create_namespace_if_not_exists(namespace)
        for table, files in release.tables.items():
            commit_table(catalog, location, (namespace, table), files, release)

    def unpublish(self, location: Location) -> None:
        """Nothing: readers keep reading the last snapshot while a run writes."""

    def is_published(self, location: Location) -> bool:
        """True when the default catalog beside the data lists every table."""
        fs, _ = location.filesystem()
        if not fs.exists(location.join(CATALOG_FILE)):
            return False
        catalog = open_catalog(location, {})
        return all(catalog.table_exists((DEFAULT_NAMESPACE, t)) for t in TABLES)


def snapshot_properties(release: Release, table: str) -> dict[str, str]:
    """The snapshot summary's synthpipe entries: run, spec hash, rows, verdict."""
    properties = {
        f"{SUMMARY_PREFIX}{k}": str(v) for k, v in release.summary.items() if k != "tables"
    }
    properties[f"{SUMMARY_PREFIX}run"] = str(release.run)
    properties[f"{SUMMARY_PREFIX}rows"] = str(release.summary.get("tables", {}).get(table, ""))
    return properties


def commit_table(
    catalog: Any,
    location: Location,
    identifier: tuple[str, str],
    wanted: TableRelease,
    release: Release,
) -> int:
    """Make the table's current snapshot list exactly ``wanted``'s files, in one catalog
    commit (creating the table with it on the first run). Returns the number of files
    added and removed; 0 when the table already is what the run publishes."""
    from pyiceberg.exceptions import CommitFailedException
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    table = identifier[1]
    wanted_uris = {file_uri(location, f"{table}/{f}") for f in wanted.files}
    properties = snapshot_properties(release, table)
    with _quiet_schema_notes():
        if not catalog.table_exists(identifier):
            schema = plain_schema(wanted.schema)
            schema = pa.schema([f for f in schema if f.name not in wanted.partition_by])
            create = catalog.create_table_transaction(
                identifier, schema=schema, location=file_uri(location, table).rstrip("/")
            )
            if wanted.time_column is not None:
                from pyiceberg.transforms import MonthTransform

                with create.update_spec() as spec:
                    spec.add_field(wanted.time_column, MonthTransform(), MONTH_FIELD)
            create.add_files(sorted(wanted_uris), snapshot_properties=properties)
            create.commit_transaction()
            return len(wanted_uris)
        current = catalog.load_table(identifier)
        present = {task.file.file_path: task.file for task in current.scan().plan_files()}
        new = sorted(wanted_uris - set(present))
        gone = sorted(set(present) - wanted_uris)
        if not new and not gone:
            return 0
        try:
            with current.transaction() as transaction:
                update = transaction.update_snapshot(snapshot_properties=properties)
                producer = update.overwrite() if gone else update.fast_append()
                with producer as files:
                    for uri in new:
                        metadata = transaction.table_metadata
                        files.append_data_file(parquet_file_to_data_file(current.io, metadata, uri))
                    for uri in gone:
                        files.delete_data_file(present[uri])
        except CommitFailedException as exc:
            raise StorageError(
                f"{'.'.join(identifier)}: another writer changed the table first ({exc});"
                " this run's snapshot was not committed: run again"
            ) from None
    return len(new) + len(gone)


FORMAT = IcebergFormat()
