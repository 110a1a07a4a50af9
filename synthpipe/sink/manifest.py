"""The manifest: what a dataset is (spec, seed, versions) and what it holds (every file
with its rows and SHA-256). ``synthpipe validate`` reads the spec back from it."""

from __future__ import annotations

import datetime as dt
import json
import platform
import posixpath
from collections import defaultdict
from collections.abc import Collection
from importlib import metadata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import synthpipe
from synthpipe.errors import InputError, OutputError
from synthpipe.formats import DEFAULT_FORMAT, output_format
from synthpipe.plan import PartitionId
from synthpipe.sink.partitions import FileRecord, PartitionResult
from synthpipe.spec import Spec, data_hash, public_document, world_hash
from synthpipe.storage import Location, write_atomic
from synthpipe.validate.listing import ListedFile, Listing
from synthpipe.vocabulary import TABLES

MANIFEST_NAME = "_manifest.json"
MANIFEST_FORMAT = 1
RECORDED_PACKAGES = ("numpy", "pyarrow", "pandas", "faker", "holidays", "scipy", "dask", "pydantic")
# Versions that shape the generated values (random streams, Faker pools, holiday
# calendars, the model itself): a refresh never mixes partitions of two of them.
VALUE_PACKAGES = ("synthpipe", "numpy", "faker", "holidays")
HIDDEN_PREFIXES = (".", "_")  # names readers of a folder skip (pyarrow, Spark, DuckDB)


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages whose behaviour shapes the bytes."""
    versions = {"python": platform.python_version(), "synthpipe": synthpipe.__version__}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def version_changes(previous: Manifest) -> list[str]:
    """``name: old -> new`` for each value-shaping package whose version differs from the
    one that wrote the ``previous`` manifest (nothing when it recorded none)."""
    recorded = previous.versions
    current = package_versions()
    return [
        f"{name} {recorded[name]} -> {current[name]}"
        for name in VALUE_PACKAGES
        if name in recorded and recorded[name] != current[name]
    ]


def realised_fraud(results: list[PartitionResult]) -> dict[str, dict[str, int]]:
    """Fraud transactions generated per month and type."""
    fraud: dict[str, dict[str, int]] = defaultdict(dict)
    for result in results:
        if result.task.month is None:
            continue
        month = fraud[result.task.month]
        for name, count in result.fraud.items():
            month[name] = month.get(name, 0) + count
    return {m: dict(sorted(counts.items())) for m, counts in sorted(fraud.items())}


class FileEntry(BaseModel):
    """One data file: table, rows, bytes, checksum, partition (and days, fraud counts)."""

    model_config = ConfigDict(extra="forbid")

    table: str
    rows: int
    bytes: int
    sha256: str
    partition: str  # PartitionId.key
    days: list[str] | None = None  # sales: first and last day
    fraud: dict[str, int] | None = None  # transactions: fraud transactions per type
    staged: str | None = None  # a pending refresh's file: where it is until publish

    @property
    def partition_id(self) -> PartitionId:
        """The partition, as a typed value."""
        return PartitionId.parse(self.partition)


class TruthEntry(BaseModel):
    """One ground-truth file."""

    model_config = ConfigDict(extra="forbid")

    rows: int
    bytes: int
    sha256: str
    staged: str | None = None


class TableSummary(BaseModel):
    """Files, rows and bytes of one table."""

    model_config = ConfigDict(extra="forbid")

    files: int = 0
    rows: int = 0
    bytes: int = 0


class Manifest(BaseModel):
    """``_manifest.json``: what a dataset is (spec, seed, versions), what it holds (every
    file with rows and SHA-256), and whether it is published."""

    model_config = ConfigDict(extra="forbid")

    format: int = MANIFEST_FORMAT
    generator: str = synthpipe.GENERATOR_NAME
    synthetic: bool = True
    spec_sha256: str
    world_sha256: str = ""
    seed: int
    published: bool = False
    # the run that wrote this manifest: one more than the run of the manifest before it;
    # a table format records it in each commit (the application transaction's version)
    run: int = 0
    updated_at: str
    versions: dict[str, str] = Field(default_factory=dict)
    tables: dict[str, TableSummary] = Field(default_factory=dict)
    fraud_counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    files: dict[str, FileEntry] = Field(default_factory=dict)
    truth: dict[str, TruthEntry] = Field(default_factory=dict)
    spec: dict[str, Any] = Field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        """The JSON document (fields that do not apply are left out)."""
        return self.model_dump(mode="json", exclude_none=True)

    def read_path(self, path: str) -> str:
        """Where a listed file is now: its staged path during a pending refresh."""
        entry = self.files.get(path)
        return entry.staged if entry is not None and entry.staged else path

    def listing(self, location: Location | None = None, leaving: Collection[str] = ()) -> Listing:
        """What validation reads: every data file where it is now, with its records; with
        the dataset's ``location``, also the data files found there that it does not list
        (``leaving``: files a run removes when it publishes)."""
        return Listing(
            files=tuple(
                ListedFile(
                    self.read_path(path),
                    entry.table,
                    entry.partition_id,
                    entry.rows,
                    entry.bytes,
                    entry.sha256,
                )
                for path, entry in self.files.items()
            ),
            spec_sha256=self.spec_sha256,
            table_rows={name: summary.rows for name, summary in self.tables.items()},
            unlisted=() if location is None else unlisted_files(location, self, leaving),
        )


def _hidden(relative: str) -> bool:
    """Below a table folder, a hidden name or a table format's own (``.tmp-*``,
    ``_delta_log``): no reader of the folder takes it for data."""
    return any(part.startswith(HIDDEN_PREFIXES) for part in relative.split("/")[1:])


def unlisted_files(
    location: Location, manifest: Manifest, leaving: Collection[str] = ()
) -> tuple[str, ...]:
    """Data files in the dataset's table folders that ``manifest`` does not list (its
    report and ground truth live outside them; hidden names and ``leaving`` aside). Only
    where readers take a folder's files for the table (Parquet): a table format's readers
    read the files its log lists, which keeps older versions' files on disk."""
    name = str(manifest.spec.get("output", {}).get("format", DEFAULT_FORMAT))
    if output_format(name).immutable_files:
        return ()
    fs, root = location.filesystem()
    known = {*manifest.files, *leaving}
    found: list[str] = []
    for table in TABLES:
        folder = location.join(table)
        if not fs.isdir(folder):
            continue
        for full in fs.find(folder):
            relative = posixpath.relpath(str(full), root)
            if relative not in known and not _hidden(relative):
                found.append(relative)
    return tuple(sorted(found))


def build_manifest(
    spec: Spec,
    results: list[PartitionResult],
    published: bool = False,
    truth: tuple[FileRecord, ...] = (),
) -> Manifest:
    """The manifest of a dataset made of ``results`` (and its truth files)."""
    files: dict[str, FileEntry] = {}
    tables: dict[str, TableSummary] = defaultdict(TableSummary)
    for result in sorted(results, key=lambda r: r.task.key):
        task = result.task
        for record in result.files:
            files[record.path] = FileEntry(
                table=record.table,
                rows=record.rows,
                bytes=record.bytes,
                sha256=record.sha256,
                partition=record.partition,
                days=task.days(),
                fraud=dict(sorted(result.fraud.items()))
                if record.table == "transactions"
                else None,
            )
            summary = tables[record.table]
            summary.files += 1
            summary.rows += record.rows
            summary.bytes += record.bytes
    return Manifest(
        spec_sha256=data_hash(spec),
        world_sha256=world_hash(spec),
        seed=spec.seed,
        published=published,
        updated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        versions=package_versions(),
        tables=dict(sorted(tables.items())),
        fraud_counts=realised_fraud(results),
        files=dict(sorted(files.items())),
        truth={
            record.path: TruthEntry(rows=record.rows, bytes=record.bytes, sha256=record.sha256)
            for record in truth
        },
        spec=public_document(spec),
    )


def write_manifest(location: Location, manifest: Manifest) -> None:
    """Write the manifest atomically."""
    fs, _ = location.filesystem()
    text = json.dumps(manifest.document(), indent=2, sort_keys=False) + "\n"
    write_atomic(fs, location.join(MANIFEST_NAME), text.encode("utf-8"))


def read_manifest(location: Location) -> Manifest | None:
    """The manifest of a dataset, or None if there is none (OutputError when the file is
    not a synthpipe manifest)."""
    fs, _ = location.filesystem()
    path = location.join(MANIFEST_NAME)
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise OutputError(
            f"{location.display(MANIFEST_NAME)} is not a synthpipe manifest"
            f" ({str(exc).splitlines()[0]})"
        ) from None


def load_dataset_spec(location: Location) -> tuple[Spec, Manifest]:
    """The manifest of a dataset and the spec it records (bad or missing: InputError)."""
    fs, root = location.filesystem()
    if not fs.exists(root):
        raise InputError(f"{location.url!r} does not exist")
    manifest = read_manifest(location)
    if manifest is None:
        raise InputError(f"{location.url!r} holds no synthpipe dataset ({MANIFEST_NAME} missing)")
    try:
        spec = Spec.model_validate(manifest.spec)
    except ValidationError as exc:
        raise InputError(
            f"{MANIFEST_NAME} of {location.url!r} has no valid spec: {str(exc).splitlines()[0]}"
        ) from None
    return spec, manifest
