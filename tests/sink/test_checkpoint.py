"""Checkpoints of an in-place run: its unpublished manifest lists the partitions finished
so far, so the run after a crash keeps exactly those (whole, checked by SHA-256) and
regenerates the rest, ending with the bytes of an uninterrupted run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers import file_hashes, small_spec

import synthpipe.sink.refresh as refresh
from synthpipe.engine.generate import generate, verify_files, write_truth
from synthpipe.model.truth import truth_tables
from synthpipe.plan import make_plan
from synthpipe.sink.manifest import (
    FileEntry,
    Manifest,
    build_manifest,
    read_manifest,
    realised_fraud,
    write_manifest,
)
from synthpipe.sink.names import TRUTH_FOLDER, partition_files, truth_files
from synthpipe.sink.partitions import FileRecord, PartitionResult, write_tables
from synthpipe.sink.refresh import (
    CHECKPOINT_TIME_SHARE,
    Checkpoint,
    checkpoint_manifest,
    prepare,
    start,
)
from synthpipe.storage import Location

CHECKPOINTED = 5  # partitions finished and recorded before the "crash"
UNRECORDED = 1  # then finished (whole on disk) after the last checkpoint


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _fake_result(index: int) -> PartitionResult:
    spec = small_spec()
    task = make_plan(spec)[index]
    files = tuple(
        FileRecord(path, table, index, 10, f"{index:064x}", task.key)
        for table, path in partition_files(spec, task).items()
    )
    return PartitionResult(task, files, {"card_testing": index} if task.month else {})


def _recorded(location: Location) -> set[str] | None:
    """The partitions the manifest on disk lists (None: no manifest)."""
    manifest = read_manifest(location)
    return None if manifest is None else {e.partition for e in manifest.files.values()}


def test_a_checkpoint_is_written_at_most_every_interval_and_only_with_news(
    tmp_path: Path,
) -> None:
    location = Location(str(tmp_path))
    plan = prepare(small_spec(), location)
    start(plan)
    clock = Clock()
    checkpoint = Checkpoint(plan, every=5.0, clock=clock)
    checkpoint(_fake_result(0))
    assert _recorded(location) == set()  # too soon
    clock.now = 5.0
    checkpoint(_fake_result(1))
    assert _recorded(location) == {"stores-00000", "products-00000"}
    manifest = read_manifest(location)
    assert manifest is not None
    assert manifest.run == 0  # the next run is still run 1
    assert not manifest.published
    (tmp_path / "_manifest.json").unlink()
    checkpoint.flush()  # nothing new: nothing written
    assert _recorded(location) is None
    checkpoint(_fake_result(2))
    checkpoint.flush()
    assert _recorded(location) == {"stores-00000", "products-00000", plan.to_run[2].key}
    (tmp_path / "_manifest.json").unlink()
    staged = Checkpoint(replace(plan, staging="_staging/x"), every=0.0)
    staged(_fake_result(3))
    staged.flush()
    assert _recorded(location) is None  # a staged run records nothing in place


def test_checkpoints_that_take_long_to_write_are_written_less_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = Location(str(tmp_path))
    plan = prepare(small_spec(), location)
    clock = Clock()
    real = refresh.write_manifest

    def slow_write(where: Location, manifest: Manifest) -> None:
        clock.now += 1.0  # a manifest of many partitions, on a slow store
        real(where, manifest)

    monkeypatch.setattr(refresh, "write_manifest", slow_write)
    checkpoint = Checkpoint(plan, every=5.0, clock=clock)
    clock.now = 5.0
    checkpoint(_fake_result(0))
    assert _recorded(location) == {"stores-00000"}
    assert checkpoint.wait == 1.0 / CHECKPOINT_TIME_SHARE  # not 5 s: 20 times the write
    clock.now += 5.0
    checkpoint(_fake_result(1))
    assert _recorded(location) == {"stores-00000"}
    clock.now += checkpoint.wait
    checkpoint(_fake_result(2))
    assert len(_recorded(location) or ()) == 3


def test_a_checkpoint_keeps_the_previous_run_number_kept_partitions_and_stale_files(
    tmp_path: Path,
) -> None:
    location = Location(str(tmp_path))
    spec = small_spec()
    previous = build_manifest(spec, [_fake_result(0)])
    previous.run = 3  # a run that failed its validation, unpublished
    stale = FileEntry(table="stores", rows=1, bytes=1, sha256="0" * 64, partition="stores-00009")
    previous.files["stores/part-00009.parquet"] = stale
    write_manifest(location, previous)
    plan = prepare(spec, location)
    assert plan.stale == ("stores/part-00009.parquet",)
    assert [r.task.key for r in plan.kept] == ["stores-00000"]
    manifest = checkpoint_manifest(plan, [_fake_result(2)])
    assert manifest.run == 3
    assert manifest.files["stores/part-00009.parquet"] == stale
    assert {e.partition for e in manifest.files.values()} == {
        "stores-00000",
        "stores-00009",
        plan.to_run[1].key,
    }


def test_the_run_after_a_crash_keeps_the_checkpointed_partitions_and_regenerates_the_rest(
    tmp_path: Path, small_dataset: Path
) -> None:
    spec = small_spec()
    out = tmp_path / "data"
    location = Location(str(out))
    plan = prepare(spec, location)
    start(plan)
    checkpoint = Checkpoint(plan, every=0.0)
    tasks = list(plan.to_run)
    generate(None, spec, tasks[:CHECKPOINTED], location, finished=checkpoint)
    checkpoint.flush()  # as the flow does when generation ends
    # whole files renamed into place after the last checkpoint, then the crash
    generate(None, spec, tasks[CHECKPOINTED : CHECKPOINTED + UNRECORDED], location)
    again = prepare(spec, location)
    assert again.run == 1
    assert [r.task for r in again.kept] == tasks[:CHECKPOINTED]
    assert list(again.to_run) == tasks[CHECKPOINTED:]  # not trusted: not recorded
    checksums = {f.path: f.sha256 for r in again.kept for f in r.files}
    assert verify_files(None, location, checksums) == []
    results = generate(None, spec, list(again.to_run), location)
    summed, _ = write_truth(None, spec, location, TRUTH_FOLDER)
    tables = truth_tables(spec, summed, realised_fraud([*again.kept, *results]))
    write_tables(spec, truth_files(tables), location, TRUTH_FOLDER)
    assert file_hashes(out) == file_hashes(small_dataset)  # data and ground truth


def test_an_overwrite_killed_before_removing_unplanned_files_finds_them_again(
    tmp_path: Path,
) -> None:
    """A checkpoint cannot list files no manifest knew (a dataset that had lost its
    manifest): the overwrite after the crash finds them on disk; a refresh never removes
    a file it does not know."""
    location = Location(str(tmp_path))
    orphan = tmp_path / "transactions" / "month=2030-01" / "part-00000.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left from an older calendar")
    plan = prepare(small_spec(), location, "overwrite")
    assert plan.stale == ("transactions/month=2030-01/part-00000.parquet",)
    start(plan)
    Checkpoint(plan, every=0.0)(_fake_result(0))  # then the crash
    assert prepare(small_spec(), location, "overwrite").stale == plan.stale
    assert prepare(small_spec(), location, "refresh").stale == ()


def test_a_table_format_run_checkpoints_its_content_named_files_too(tmp_path: Path) -> None:
    """Delta and Iceberg write their data files in place on a first run, named by what
    they hold: the run after a crash keeps the checkpointed ones, checked by SHA-256."""
    spec = small_spec(output__format="delta")
    location = Location(str(tmp_path))
    plan = prepare(spec, location)
    start(plan)
    checkpoint = Checkpoint(plan, every=0.0)
    tasks = list(plan.to_run)
    generate(None, spec, tasks[:CHECKPOINTED], location, finished=checkpoint)
    checkpoint.flush()
    again = prepare(spec, location)
    assert again.run == 1
    assert [r.task for r in again.kept] == tasks[:CHECKPOINTED]
    paths = [f.path for r in again.kept for f in r.files]
    assert paths == [p for t in tasks[:CHECKPOINTED] for p in partition_files(spec, t).values()]
    checksums = {f.path: f.sha256 for r in again.kept for f in r.files}
    assert verify_files(None, location, checksums) == []
