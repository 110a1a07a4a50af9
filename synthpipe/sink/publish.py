"""Publishing: the output format's publish step (for Parquet, ``_SUCCESS``; for a table
format, one commit per table) is the last write of a run, made only when the fidelity
report passed."""

from __future__ import annotations

import posixpath
from collections import defaultdict

import pyarrow as pa

from synthpipe.formats import DEFAULT_FORMAT, output_format
from synthpipe.formats.base import Release, TableRelease
from synthpipe.model.schema import SCHEMAS
from synthpipe.sink.manifest import Manifest
from synthpipe.storage import Location
from synthpipe.vocabulary import MONTHLY_TABLES

MONTH_COLUMN = "month"  # the fact tables' partition column (their month=YYYY-MM folders)
# the time column whose month a monthly table's month folder is (line items have none)
TIME_COLUMNS = {"transactions": "ts", "customer_changes": "change_ts"}


def dataset_format(manifest: Manifest | None) -> str:
    """The name of the output format a dataset was written in, from its manifest's spec."""
    spec = manifest.spec if manifest is not None else {}
    return str(spec.get("output", {}).get("format", DEFAULT_FORMAT))


def unpublish(location: Location, format_name: str) -> None:
    """Withdraw publication before the dataset changes, so no reader trusts a partial
    state (a table format keeps its last commit readable instead)."""
    output_format(format_name).unpublish(location)


def release(manifest: Manifest, verdict: str = "") -> Release:
    """What publishing ``manifest`` commits: each table's files (relative to its folder),
    its schema with partition columns last, the run number and a small summary."""
    files: dict[str, list[str]] = defaultdict(list)
    for path, entry in manifest.files.items():
        files[entry.table].append(posixpath.relpath(path, entry.table))
    tables = {}
    for table, paths in sorted(files.items()):
        schema = SCHEMAS[table]
        partition_by: tuple[str, ...] = ()
        if table in MONTHLY_TABLES:
            schema = schema.append(pa.field(MONTH_COLUMN, pa.string(), nullable=False))
            partition_by = (MONTH_COLUMN,)
        time_column = TIME_COLUMNS.get(table) if partition_by else None
        tables[table] = TableRelease(tuple(sorted(paths)), schema, partition_by, time_column)
    summary = {
        "spec_sha256": manifest.spec_sha256,
        "world_sha256": manifest.world_sha256,
        "version": manifest.versions.get("synthpipe", ""),
        "tables": {name: info.rows for name, info in manifest.tables.items()},
        "updated_at": manifest.updated_at,
    }
    if verdict:
        summary["report"] = verdict
    return Release(tables, manifest.run, summary, manifest.spec.get("output", {}))


def publish(location: Location, manifest: Manifest, verdict: str = "") -> None:
    """Publish the manifest's dataset; call after the manifest is final."""
    output_format(dataset_format(manifest)).publish(location, release(manifest, verdict))
