"""Generate one partition and write its files: the function each Dask task runs.

It returns only small metadata (paths, row counts, checksums, fraud counts); the data
never travels back to the client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa

from synthpipe.formats import output_format
from synthpipe.model.partition import generate_partition
from synthpipe.plan import PartitionTask
from synthpipe.sink.labels import encoded_file
from synthpipe.sink.names import partition_files
from synthpipe.spec import Spec
from synthpipe.storage import Location, sha256_hex, write_atomic


@dataclass(frozen=True)
class FileRecord:
    """One written file, as the manifest lists it."""

    path: str  # relative to the dataset root
    table: str
    rows: int
    bytes: int
    sha256: str
    partition: str


@dataclass(frozen=True)
class PartitionResult:
    """What a partition task reports back: its files and realised fraud counts."""

    task: PartitionTask
    files: tuple[FileRecord, ...]
    fraud: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # compute time of the task (0 for a partition kept from before)


def write_partition(spec: Spec, task: PartitionTask, location: Location) -> PartitionResult:
    """Generate ``task`` and write each of its tables atomically under ``location``."""
    started = time.perf_counter()
    output = generate_partition(spec, task)
    fs, _ = location.filesystem()
    records = []
    for table_name, relative in partition_files(spec, task).items():
        table = output.tables[table_name]
        data = encoded_file(table, spec, table_name, task.label)
        write_atomic(fs, location.join(relative), data)
        records.append(
            FileRecord(relative, table_name, table.num_rows, len(data), sha256_hex(data), task.key)
        )
    return PartitionResult(task, tuple(records), dict(output.fraud), time.perf_counter() - started)


def table_name(relative: str) -> str:
    """The table a small file holds, from its path: its name without the extension."""
    return relative.rsplit("/", 1)[-1].removesuffix(output_format().extension)


def write_tables(
    spec: Spec, tables: dict[str, pa.Table], location: Location, label: str
) -> tuple[FileRecord, ...]:
    """Write small tables (the ground truth) atomically, labelled like the data."""
    fs, _ = location.filesystem()
    records = []
    for relative, table in tables.items():
        name = table_name(relative)
        data = encoded_file(table, spec, name, label)
        write_atomic(fs, location.join(relative), data)
        records.append(
            FileRecord(relative, name, table.num_rows, len(data), sha256_hex(data), label)
        )
    return tuple(records)
