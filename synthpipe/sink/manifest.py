"""The manifest: what a dataset is (spec, seed, versions) and what it holds (every file
with its rows and SHA-256). ``synthpipe validate`` reads the spec back from it."""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections import defaultdict
from importlib import metadata
from typing import Any

from pydantic import ValidationError

import synthpipe
from synthpipe.errors import InputError
from synthpipe.sink.partitions import FileRecord, PartitionResult
from synthpipe.spec import Spec, data_hash, public_document, world_hash
from synthpipe.storage import Location, write_atomic

MANIFEST_NAME = "_manifest.json"
MANIFEST_FORMAT = 1
RECORDED_PACKAGES = ("numpy", "pyarrow", "pandas", "faker", "holidays", "scipy", "dask", "pydantic")
# Versions that shape the generated values (random streams, Faker pools, holiday
# calendars, the model itself): a refresh never mixes partitions of two of them.
VALUE_PACKAGES = ("synthpipe", "numpy", "faker", "holidays")


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages whose behaviour shapes the bytes."""
    versions = {"python": platform.python_version(), "synthpipe": synthpipe.__version__}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def version_changes(previous: dict[str, Any]) -> list[str]:
    """``name: old -> new`` for each value-shaping package whose version differs from the
    one that wrote the ``previous`` manifest (nothing when it recorded none)."""
    recorded = previous.get("versions") or {}
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


def build_manifest(
    spec: Spec,
    results: list[PartitionResult],
    published: bool = False,
    truth: tuple[FileRecord, ...] = (),
) -> dict[str, Any]:
    """The manifest document of a dataset made of ``results`` (and its truth files)."""
    files: dict[str, dict[str, Any]] = {}
    tables: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "rows": 0, "bytes": 0})
    for result in sorted(results, key=lambda r: r.task.key):
        task = result.task
        for record in result.files:
            entry: dict[str, Any] = {
                "table": record.table,
                "rows": record.rows,
                "bytes": record.bytes,
                "sha256": record.sha256,
                "partition": record.partition,
            }
            if task.first_day is not None and task.last_day is not None:
                entry["days"] = [task.first_day.isoformat(), task.last_day.isoformat()]
            if record.table == "transactions":
                entry["fraud"] = dict(sorted(result.fraud.items()))
            files[record.path] = entry
            summary = tables[record.table]
            summary["files"] += 1
            summary["rows"] += record.rows
            summary["bytes"] += record.bytes
    return {
        "format": MANIFEST_FORMAT,
        "generator": synthpipe.GENERATOR_NAME,
        "synthetic": True,
        "spec_sha256": data_hash(spec),
        "world_sha256": world_hash(spec),
        "seed": spec.seed,
        "published": published,
        "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "tables": dict(sorted(tables.items())),
        "fraud_counts": realised_fraud(results),
        "files": dict(sorted(files.items())),
        "truth": {
            record.path: {"rows": record.rows, "bytes": record.bytes, "sha256": record.sha256}
            for record in truth
        },
        "spec": public_document(spec),
    }


def write_manifest(location: Location, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically."""
    fs, _ = location.filesystem()
    text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
    write_atomic(fs, location.join(MANIFEST_NAME), text.encode("utf-8"))


def read_manifest(location: Location) -> dict[str, Any] | None:
    """The manifest of a dataset, or None if there is none."""
    fs, _ = location.filesystem()
    path = location.join(MANIFEST_NAME)
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as handle:
        document: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
    return document


def load_dataset_spec(location: Location) -> tuple[Spec, dict[str, Any]]:
    """The manifest of a dataset and the spec it records (bad or missing: InputError)."""
    fs, root = location.filesystem()
    if not fs.exists(root):
        raise InputError(f"{location.url!r} does not exist")
    manifest = read_manifest(location)
    if manifest is None:
        raise InputError(f"{location.url!r} holds no synthpipe dataset ({MANIFEST_NAME} missing)")
    try:
        spec = Spec.model_validate(manifest["spec"])
    except (KeyError, ValidationError) as exc:
        raise InputError(
            f"{MANIFEST_NAME} of {location.url!r} has no valid spec: {str(exc).splitlines()[0]}"
        ) from None
    return spec, manifest
