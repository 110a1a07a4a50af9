"""Run partition tasks on a Dask client, one Dask task per partition, with progress."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from distributed import Client, as_completed

from synthpipe.model.truth import BlockTruth, block_truth, merge_truth
from synthpipe.plan import PartitionTask, customer_blocks
from synthpipe.sink.files import file_sha256
from synthpipe.sink.partitions import PartitionResult, write_partition
from synthpipe.spec import Spec
from synthpipe.storage import Location

Progress = Callable[[int, int], None]
TASK_RETRIES = 2  # a task that raised is retried; a lost worker's tasks are rescheduled anyway


def no_progress(done: int, total: int) -> None:
    """A progress callback that says nothing."""


def run_task(task: PartitionTask, spec: Spec, location: Location) -> PartitionResult:
    """The Dask task: generate one partition and write its files (mapped item first)."""
    return write_partition(spec, task, location)


def generate(
    client: Client | None,
    spec: Spec,
    tasks: list[PartitionTask],
    location: Location,
    progress: Progress = no_progress,
) -> list[PartitionResult]:
    """Generate and write every task on the cluster (in this process when ``client`` is
    None); returns their results in task order."""
    if not tasks:
        return []
    if client is None:
        in_process = []
        progress(0, len(tasks))
        for done, task in enumerate(tasks, 1):
            in_process.append(run_task(task, spec, location))
            progress(done, len(tasks))
        return in_process
    run = uuid.uuid4().hex[:8]
    [spec_future] = client.scatter([spec], broadcast=True, hash=False)
    futures = client.map(
        run_task,
        tasks,
        spec=spec_future,
        location=location,
        key=[f"{task.key}-{run}" for task in tasks],
        retries=TASK_RETRIES,
        pure=False,
    )
    total = len(futures)
    progress(0, total)
    for done, finished in enumerate(as_completed(futures), 1):
        finished.result()  # raise the first failure at once
        progress(done, total)
    results: list[PartitionResult] = client.gather(futures)
    return results


def truth_block(block: int, spec: Spec) -> BlockTruth:
    """The Dask task: ground truth of one customer block (mapped item first)."""
    return block_truth(spec, block)


def compute_truth(client: Client | None, spec: Spec) -> BlockTruth:
    """Ground truth of the whole dataset: one task per customer block, summed."""
    blocks = list(range(customer_blocks(spec)))
    if client is None:
        return merge_truth([block_truth(spec, b) for b in blocks])
    [spec_future] = client.scatter([spec], broadcast=True, hash=False)
    futures = client.map(truth_block, blocks, spec=spec_future, pure=False)
    return merge_truth(client.gather(futures))


def file_matches(path: str, sha256: str, location: Location) -> bool:
    """The Dask task: does the file exist with this checksum? (mapped item first)"""
    fs, _ = location.filesystem()
    full = location.join(path)
    return bool(fs.exists(full)) and file_sha256(fs, full) == sha256


def verify_files(client: Client | None, location: Location, checksums: dict[str, str]) -> list[str]:
    """Paths whose file is missing or differs from its checksum (read on the cluster)."""
    paths = sorted(checksums)
    if client is None:
        matches = [file_matches(p, checksums[p], location) for p in paths]
    else:
        # positional iterables are zipped by client.map; keyword arguments are broadcast
        futures = client.map(
            file_matches, paths, [checksums[p] for p in paths], location=location, pure=False
        )
        matches = client.gather(futures)
    return [p for p, ok in zip(paths, matches, strict=True) if not ok]
