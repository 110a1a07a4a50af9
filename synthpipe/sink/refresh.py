"""Refresh semantics: what a run must generate, where it writes, and how it publishes.

* First run (no manifest yet): files are written in place; a failed report leaves them
  there with the manifest marked unpublished.
* Re-run of the same spec: a partition whose files are in the manifest, for the same
  partition and days, with the manifest's SHA-256 on disk, is kept; nothing else moves.
* Extending ``calendar.end``: the complete months are kept as they are; the last, partial
  month and the new months are generated. Any other change of the spec is refused unless
  ``--mode overwrite``, which rebuilds everything and removes files no longer planned.
* Refresh of a published dataset: every file the run writes goes to a hidden staging
  folder (``_staging/<token>/``); it is validated together with the kept files and moved
  into place only when the report passes, so a failed or killed refresh leaves the
  previous published dataset exactly as it was.
* A run that writes in place (the dataset is not published) checkpoints: its unpublished
  manifest is rewritten every few seconds with the partitions finished so far, so the
  run after a crash keeps them (checked like any kept partition) and generates the rest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import posixpath
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from synthpipe.errors import OutputError
from synthpipe.formats import output_format
from synthpipe.plan import PartitionTask, make_plan
from synthpipe.sink.manifest import (
    MANIFEST_NAME,
    FileEntry,
    Manifest,
    TruthEntry,
    build_manifest,
    read_manifest,
    version_changes,
    write_manifest,
)
from synthpipe.sink.names import partition_files
from synthpipe.sink.partitions import FileRecord, PartitionResult
from synthpipe.sink.publish import dataset_format, publish, unpublish
from synthpipe.spec import Spec, public_document, spec_changes
from synthpipe.storage import TEMP_PREFIX, Location, is_local
from synthpipe.vocabulary import TABLES

Mode = Literal["refresh", "overwrite"]
STAGING = "_staging"
CALENDAR_END = "calendar.end"
SHOWN_CHANGES = 4  # spec changes named in a refusal
CHECKPOINT_EVERY_SECONDS = 1.0  # an in-place run records its finished partitions this often,
CHECKPOINT_TIME_SHARE = 0.05  # or less often: at most this share of the time goes to writing


@dataclass(frozen=True)
class RunPlan:
    """What one run does."""

    spec: Spec
    location: Location  # the dataset
    to_run: tuple[PartitionTask, ...]
    kept: tuple[PartitionResult, ...]  # partitions reused from the previous manifest
    stale: tuple[str, ...]  # previous files no longer planned (removed at publish)
    staging: str | None = None  # relative folder the run writes to, or None: in place
    previous: Manifest | None = field(default=None, compare=False)

    @property
    def run(self) -> int:
        """This run's number: one more than the previous manifest's."""
        return 1 if self.previous is None else self.previous.run + 1

    @property
    def write_location(self) -> Location:
        """Where this run's files go."""
        if self.staging is None:
            return self.location
        return Location(
            posixpath.join(self.location.url.rstrip("/"), self.staging), self.location.options
        )

    @property
    def up_to_date(self) -> bool:
        """Nothing to generate or remove, and the same spec is already published."""
        previous = self.previous
        if previous is None:
            return False
        same = previous.spec == public_document(self.spec)
        return not self.to_run and not self.stale and previous.published and same

    def staged_path(self, relative: str) -> str:
        """Where a file this run writes lives, relative to the dataset."""
        return relative if self.staging is None else posixpath.join(self.staging, relative)


def _kept_result(
    task: PartitionTask, entries: list[FileEntry], paths: list[str]
) -> PartitionResult:
    records = tuple(
        FileRecord(p, e.table, e.rows, e.bytes, e.sha256, e.partition)
        for p, e in zip(paths, entries, strict=True)
    )
    fraud: dict[str, int] = {}
    for entry in entries:
        for name, count in (entry.fraud or {}).items():
            fraud[name] = fraud.get(name, 0) + int(count)
    return PartitionResult(task, records, fraud)


def _check_changes(spec: Spec, previous: Manifest, location: Location) -> None:
    changes = spec_changes(previous.spec, public_document(spec), ignore=(CALENDAR_END,))
    if changes:
        shown = "; ".join(changes[:SHOWN_CHANGES])
        more = f" and {len(changes) - SHOWN_CHANGES} more" if len(changes) > SHOWN_CHANGES else ""
        raise OutputError(
            f"{location.display()} holds data of a different spec ({shown}{more});"
            " run with --mode overwrite to rebuild it"
        )
    old_end = dt.date.fromisoformat(previous.spec["calendar"]["end"])
    if spec.calendar.end < old_end:
        raise OutputError(
            f"`calendar.end` moves back from {old_end} to {spec.calendar.end}, which would drop"
            f" data from {location.display()}; run with --mode overwrite to rebuild it"
        )


def _check_versions(previous: Manifest, location: Location) -> None:
    """Refuse to add partitions made by other versions to the ones kept: their values
    could come from other random streams, name pools or holiday calendars."""
    changes = version_changes(previous)
    if changes:
        raise OutputError(
            f"{location.display()} was generated by other versions ({'; '.join(changes)});"
            " new partitions would not match the kept ones: run with --mode overwrite to"
            " rebuild it"
        )


def prepare(spec: Spec, location: Location, mode: Mode = "refresh") -> RunPlan:
    """Decide what to generate and where, from the dataset's manifest (if any)."""
    tasks = make_plan(spec)
    previous = read_manifest(location)
    if previous is None or not previous.spec:
        # an overwrite of a dataset that lost its manifest removes, at publish, what no
        # task writes again (check_output let it in only if it holds synthpipe's layout)
        orphans = _unplanned_files(spec, location, tasks) if mode == "overwrite" else ()
        return RunPlan(spec, location, tuple(tasks), (), orphans, None, previous)
    if mode == "refresh":
        _check_changes(spec, previous, location)
    planned = {path for task in tasks for path in partition_files(spec, task).values()}
    listed = {p for p in previous.files if p not in planned}
    if mode == "overwrite" and not previous.published:
        # a run killed while overwriting a dataset that had lost its manifest recorded
        # none of the files it was to remove: they are found again on disk
        listed |= set(_unplanned_files(spec, location, tasks))
    stale = tuple(sorted(listed))
    to_run: list[PartitionTask] = []
    kept: list[PartitionResult] = []
    files = previous.files
    for task in tasks:
        paths = list(partition_files(spec, task).values())
        entries = [files.get(p) for p in paths]
        reusable = mode == "refresh" and all(
            e is not None and e.partition == task.key and e.days == task.days() for e in entries
        )
        if reusable:
            kept.append(_kept_result(task, [e for e in entries if e is not None], paths))
        else:
            to_run.append(task)
    if to_run and kept:
        _check_versions(previous, location)
    staging = None
    if previous.published and (to_run or stale):
        staging = f"{STAGING}/{uuid.uuid4().hex[:12]}"
    return RunPlan(spec, location, tuple(to_run), tuple(kept), stale, staging, previous)


def _unplanned_files(spec: Spec, location: Location, tasks: list[PartitionTask]) -> tuple[str, ...]:
    """Data files under ``location`` that no task of this plan writes (the ground truth is
    written whole by every run)."""
    fs, root = location.filesystem()
    planned = {path for task in tasks for path in partition_files(spec, task).values()}
    found: list[str] = []
    for folder in TABLES:
        base = location.join(folder)
        if not fs.exists(base):
            continue
        for full in fs.find(base):
            relative = posixpath.relpath(str(full), root)
            if relative not in planned and not _hidden(relative):
                found.append(relative)
    return tuple(sorted(found))


def _hidden(relative: str) -> bool:
    """A path below a hidden or a table format's own folder (``.x``, ``_delta_log``)."""
    return any(part.startswith((".", "_")) for part in relative.split("/")[1:])


def with_failed_checks(plan: RunPlan, failed: list[str]) -> RunPlan:
    """The plan after verification: kept partitions whose files did not verify run again."""
    if not failed:
        return plan
    bad = set(failed)
    kept = [r for r in plan.kept if not any(f.path in bad for f in r.files)]
    rerun = [r.task for r in plan.kept if any(f.path in bad for f in r.files)]
    staging = plan.staging
    if staging is None and plan.previous is not None and plan.previous.published:
        staging = f"{STAGING}/{uuid.uuid4().hex[:12]}"
    return replace(plan, to_run=(*plan.to_run, *rerun), kept=tuple(kept), staging=staging)


def clean_leftovers(location: Location) -> None:
    """Remove what a killed run can leave: staging folders and hidden temporary files."""
    fs, root = location.filesystem()
    staging = location.join(STAGING)
    if fs.exists(staging):
        fs.rm(staging, recursive=True)
    if is_local(fs) and os.path.isdir(root):
        for folder, _, names in os.walk(root):
            for name in names:
                if name.startswith(TEMP_PREFIX):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(os.path.join(folder, name))


def start(plan: RunPlan) -> None:
    """Mark a new dataset folder as synthpipe's before writing into it (so a killed first
    run is recognised and completed by the next one)."""
    if plan.previous is None:
        write_manifest(plan.location, build_manifest(plan.spec, []))


def checkpoint_manifest(plan: RunPlan, finished: list[PartitionResult]) -> Manifest:
    """The unpublished manifest of an in-place run that has written ``finished`` so far:
    the kept and finished partitions, the previous run's number (the next run's is then
    this run's) and the previous manifest's stale files (still to remove at publish)."""
    manifest = build_manifest(plan.spec, [*plan.kept, *finished])
    manifest.run = plan.run - 1
    previous = plan.previous.files if plan.previous is not None else {}
    stale = {path: previous[path] for path in plan.stale if path in previous}
    manifest.files = dict(sorted({**manifest.files, **stale}.items()))
    return manifest


class Checkpoint:
    """Told each partition an in-place run finishes, it rewrites the unpublished manifest
    with them at most every ``every`` seconds, or less often where writing it takes long
    (a manifest of 10^4 partitions: about a second), and on ``flush``. A staged run
    records nothing: a killed one's staging folder is removed by the next run."""

    def __init__(
        self,
        plan: RunPlan,
        every: float = CHECKPOINT_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.every = every
        self.wait = every  # until the next checkpoint
        self.clock = clock
        self.finished: list[PartitionResult] = []
        self.recorded = 0  # how many of ``finished`` the manifest on disk lists
        self.last = clock()

    def __call__(self, result: PartitionResult) -> None:
        """Record a finished partition; checkpoint when the last checkpoint is old enough."""
        self.finished.append(result)
        if self.clock() - self.last >= self.wait:
            self.flush()

    def flush(self) -> None:
        """Write the checkpoint now, if a partition finished since the last one."""
        if self.plan.staging is not None or self.recorded == len(self.finished):
            return
        started = self.clock()
        write_manifest(self.plan.location, checkpoint_manifest(self.plan, self.finished))
        self.recorded = len(self.finished)
        self.last = self.clock()
        self.wait = max(self.every, (self.last - started) / CHECKPOINT_TIME_SHARE)


def pending_manifest(
    plan: RunPlan, results: list[PartitionResult], truth: tuple[FileRecord, ...]
) -> Manifest:
    """The manifest of the dataset this run makes, unpublished; files this run wrote to
    staging carry their staged path."""
    manifest = build_manifest(plan.spec, [*plan.kept, *results], truth=truth)
    manifest.run = plan.run
    if plan.staging is not None:
        written = {f.path for r in results for f in r.files} | {t.path for t in truth}
        entries: list[tuple[str, FileEntry | TruthEntry]] = [
            *manifest.files.items(),
            *manifest.truth.items(),
        ]
        for path, entry in entries:
            if path in written:
                entry.staged = plan.staged_path(path)
    return manifest


def save_pending(plan: RunPlan, manifest: Manifest) -> None:
    """Write the pending manifest: in staging for a staged run, else in place."""
    write_manifest(plan.write_location, manifest)


def publish_run(
    plan: RunPlan, manifest: Manifest, extra: tuple[str, ...] = (), verdict: str = ""
) -> Manifest:
    """Make the run's dataset the published one: move staged files into place, remove
    stale files (a table format keeps them for its older versions), then publish (a
    table format commits before the final manifest is written, Parquet writes _SUCCESS
    after it). ``extra`` names further staged files to move (the report); ``verdict``
    summarises the report for the publish step."""
    fs, _ = plan.location.filesystem()
    kind = plan.spec.output.format
    unpublish(plan.location, kind)
    final = manifest.model_copy(deep=True)
    entries: list[tuple[str, FileEntry | TruthEntry]] = [
        *final.files.items(),
        *final.truth.items(),
    ]
    for path, entry in entries:
        if entry.staged is not None:
            _move(fs, plan.location.join(entry.staged), plan.location.join(path))
            entry.staged = None
    for path in extra:
        staged = plan.staged_path(path)
        if staged != path and fs.exists(plan.location.join(staged)):
            _move(fs, plan.location.join(staged), plan.location.join(path))
    immutable = output_format(kind).immutable_files
    for path in () if immutable else plan.stale:
        with contextlib.suppress(FileNotFoundError):
            fs.rm(plan.location.join(path))
    final.published = True
    if immutable:  # commit first: the manifest says published only once it is
        publish(plan.location, final, verdict)
    write_manifest(plan.location, final)
    if not immutable:
        publish(plan.location, final, verdict)
    # we hold the lock: no other run's staging or temporary files are here, and a worker
    # killed mid-write (its partition rerun elsewhere) may have left a temporary file
    clean_leftovers(plan.location)
    return final


def withdraw(location: Location, manifest: Manifest) -> None:
    """Unpublish a dataset that failed its validation: the publish marker goes first, then
    the manifest records it (the data stays, for a look at what is wrong)."""
    unpublish(location, dataset_format(manifest))
    if manifest.published:
        write_manifest(location, manifest.model_copy(update={"published": False}))


def _move(fs: Any, source: str, target: str) -> None:
    """Move a file into place: an atomic rename on local disk, a server-side copy then a
    delete on object stores (the target appears whole)."""
    if is_local(fs):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
    else:
        fs.mv(source, target)


def manifest_exists(location: Location) -> bool:
    """True when the location holds a manifest."""
    fs, _ = location.filesystem()
    return bool(fs.exists(location.join(MANIFEST_NAME)))


__all__ = [
    "Checkpoint",
    "RunPlan",
    "checkpoint_manifest",
    "clean_leftovers",
    "manifest_exists",
    "pending_manifest",
    "prepare",
    "publish_run",
    "read_manifest",
    "save_pending",
    "start",
    "with_failed_checks",
]
