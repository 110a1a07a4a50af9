"""Run partition tasks on a Dask client, one Dask task per partition, with progress."""

from __future__ import annotations

import time
import uuid
from contextlib import ExitStack
from dataclasses import replace

from distributed import Client

from synthpipe.engine.batch import Finished, Progress, no_progress, run_batch
from synthpipe.model.truth import (
    BlockTruth,
    add_truth,
    block_truth,
    per_customer_columns,
    per_customer_rows,
)
from synthpipe.plan import PartitionTask, customer_blocks
from synthpipe.sink.names import truth_file
from synthpipe.sink.partitions import FileRecord, PartitionResult, write_partition
from synthpipe.sink.streamed import StreamedTable
from synthpipe.spec import Spec
from synthpipe.storage import Location, file_sha256

TASK_RETRIES = 2  # a task that raised is retried; a lost worker's tasks are rescheduled anyway


def run_task(task: PartitionTask, spec: Spec, location: Location) -> PartitionResult:
    """The Dask task: generate one partition and write its files (mapped item first)."""
    return write_partition(spec, task, location)


def generate(
    client: Client | None,
    spec: Spec,
    tasks: list[PartitionTask],
    location: Location,
    progress: Progress = no_progress,
    finished: Finished[PartitionResult] | None = None,
) -> list[PartitionResult]:
    """Generate and write every task on the cluster (in this process when ``client`` is
    None); returns their results in task order. ``finished`` is told each partition's
    result as soon as its files are in place (a checkpoint)."""
    if not tasks:
        return []
    run = uuid.uuid4().hex[:8]
    return list(
        run_batch(
            client,
            run_task,
            tasks,
            shared={"location": location},
            broadcast={"spec": spec},
            keys=[f"{task.key}-{run}" for task in tasks],
            retries=TASK_RETRIES,
            progress=progress,
            fail_fast=True,
            groups=[task.block for task in tasks],  # a worker builds a block's customers once
            finished=finished,
        )
    )


def truth_block(block: int, spec: Spec) -> BlockTruth:
    """The Dask task: ground truth of one customer block (mapped item first), with the
    seconds it took."""
    started = time.perf_counter()
    truth = block_truth(spec, block)
    return replace(truth, seconds=time.perf_counter() - started)


def write_truth(
    client: Client | None, spec: Spec, location: Location, label: str
) -> tuple[BlockTruth, tuple[FileRecord, ...]]:
    """Ground truth of the whole dataset, one task per customer block. The per-day sums
    are added up and returned; the per-customer tables are written under ``location`` as
    the blocks arrive, in block order, so this process never holds them whole (at a
    billion rows they were gigabytes). Returns the sums and the written files."""
    blocks = list(range(customer_blocks(spec)))
    finish = per_customer_columns(spec)
    total: BlockTruth | None = None
    with ExitStack() as stack:
        streams = {
            name: stack.enter_context(
                StreamedTable(spec, location, truth_file(name), label, columns)
            )
            for name, columns in finish.items()
        }
        for part in run_batch(client, truth_block, blocks, broadcast={"spec": spec}):
            for name, rows in per_customer_rows(part).items():
                streams[name].add(rows)
            total = add_truth(total, part)
    assert total is not None  # a spec has at least one customer block
    return total, tuple(stream.record for stream in streams.values())


def file_matches(expected: tuple[str, str], location: Location) -> bool:
    """The Dask task: does the file exist with this checksum? (mapped item first)"""
    path, sha256 = expected
    fs, _ = location.filesystem()
    full = location.join(path)
    return bool(fs.exists(full)) and file_sha256(fs, full) == sha256


def verify_files(client: Client | None, location: Location, checksums: dict[str, str]) -> list[str]:
    """Paths whose file is missing or differs from its checksum (read on the cluster)."""
    paths = sorted(checksums)
    expected = [(p, checksums[p]) for p in paths]
    matches = run_batch(client, file_matches, expected, shared={"location": location})
    return [p for p, ok in zip(paths, matches, strict=True) if not ok]
