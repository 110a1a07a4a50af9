"""The retail flow: lock -> plan -> verify -> generate (Dask) -> truth -> manifest ->
validate (Dask) -> publish.

Prefect tasks are coarse (one per stage, with retries); the fine-grained work, one Dask
task per partition, runs on the Dask cluster the flow opens. Dask workers never call the
Prefect API. Refresh semantics (what is kept, staged, published) live in
``synthpipe.sink.refresh``.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Literal, TypeVar, cast
from uuid import UUID

from distributed import Client
from prefect import flow, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NONE
from prefect.utilities.annotations import opaque

from synthpipe.engine.cluster import DaskSession
from synthpipe.engine.generate import generate, verify_files, write_truth
from synthpipe.engine.progress import ConsoleProgress
from synthpipe.engine.summary import RunSummary
from synthpipe.engine.validation import (
    REPORT_HTML,
    REPORT_JSON,
    ValidationOutcome,
    validate_location,
)
from synthpipe.errors import FidelityError, InputError, StorageError
from synthpipe.model.truth import truth_tables
from synthpipe.sink.lock import holding
from synthpipe.sink.manifest import Manifest, realised_fraud
from synthpipe.sink.names import TRUTH_FOLDER, truth_files
from synthpipe.sink.output import check_format, check_output, output_location
from synthpipe.sink.partitions import FileRecord, PartitionResult, write_tables
from synthpipe.sink.publish import unpublish
from synthpipe.sink.refresh import (
    Checkpoint,
    RunPlan,
    clean_leftovers,
    pending_manifest,
    prepare,
    publish_run,
    save_pending,
    start,
    with_failed_checks,
)
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.storage import Location

T = TypeVar("T")
FLOW_NAME = "synthpipe-retail"
ARTIFACT_EVERY_SECONDS = 3.0  # progress artifacts: at most one update this often
RETRY_DELAY_SECONDS = 5
ARTIFACT_KEY = "fidelity-report"


def whole(value: T) -> T:
    """A task argument Prefect records as one input (the upstream task's result) without
    walking into it: walking a plan, results or manifest that list every partition and file
    took Prefect 0.4 s per task at 10 million transactions, in the flow's process."""
    return cast(T, opaque(value))


def worth_retrying(_task: Any, _run: Any, state: Any) -> bool:
    """A stage is retried after a passing failure (a lost worker, a network blip), never
    after bad input or storage that refuses writes for good (a full disk: retrying only
    repeats the failure)."""
    failure = getattr(state, "data", None)
    return not isinstance(failure, (InputError, StorageError))


@task(name="plan", cache_policy=NONE)  # a refusal here is final: no retries
def plan_run(spec: Spec, location: Location, mode: Literal["refresh", "overwrite"]) -> RunPlan:
    """Clear a killed run's leftovers; decide what to keep, generate, stage and remove."""
    clean_leftovers(location)
    return prepare(spec, location, mode)


@task(
    name="verify",
    retries=1,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=worth_retrying,
    cache_policy=NONE,
)
def verify_kept(plan: RunPlan, scheduler: str) -> RunPlan:
    """Check the kept files' checksums on disk; regenerate any that do not match."""
    checksums = {f.path: f.sha256 for r in plan.kept for f in r.files}
    with Client(scheduler, set_as_default=False) as client:
        failed = verify_files(client, plan.location, checksums)
    return with_failed_checks(plan, failed)


@task(
    name="generate",
    retries=1,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=worth_retrying,
    cache_policy=NONE,
)
def generate_partitions(plan: RunPlan, scheduler: str) -> list[PartitionResult]:
    """Generate and write every partition to run, on the Dask cluster (one task each);
    an in-place run checkpoints the partitions it finished, so a killed run's successor
    keeps them."""
    start(plan)
    if plan.staging is None:  # in place: readers must not trust a dataset in flux
        unpublish(plan.location, plan.spec.output.format)
    checkpoint = Checkpoint(plan)
    try:
        with Client(scheduler, set_as_default=False) as client:
            results = generate(
                client,
                plan.spec,
                list(plan.to_run),
                plan.write_location,
                _progress("generate"),
                finished=checkpoint,
            )
    except BaseException:  # a partition failed: the next run keeps what is whole
        with contextlib.suppress(Exception):  # the failure is the news, not the checkpoint's
            checkpoint.flush()
        raise
    checkpoint.flush()
    return results


class ProgressArtifact:
    """A Prefect progress artifact of one stage, updated at most every few seconds."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.artifact: UUID | None = None
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        """Record ``done`` of ``total`` as a percentage on the flow run."""
        now = time.monotonic()
        if done < total and now - self.last < ARTIFACT_EVERY_SECONDS:
            return
        self.last = now
        percent = 100.0 * done / total if total else 100.0
        description = f"{self.stage}: {done}/{total} partitions"
        with contextlib.suppress(Exception):  # progress informs: it never fails a run
            if self.artifact is None:
                self.artifact = create_progress_artifact(
                    percent, key=f"{ARTIFACT_KEY}-{self.stage}", description=description
                )
            else:
                update_progress_artifact(self.artifact, percent, description=description)


def _progress(stage: str) -> ConsoleProgress:
    """The stage's progress: on the console and as a Prefect progress artifact."""
    return ConsoleProgress(stage, listeners=(ProgressArtifact(stage),))


@task(
    name="truth",
    retries=1,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=worth_retrying,
    cache_policy=NONE,
)
def write_ground_truth(
    plan: RunPlan, results: list[PartitionResult], scheduler: str
) -> tuple[tuple[FileRecord, ...], float]:
    """Expected daily volumes per channel and category, and fraud counts, under _truth/;
    returns the files and the core-seconds its Dask tasks took."""
    with Client(scheduler, set_as_default=False) as client:
        truth, streamed = write_truth(client, plan.spec, plan.write_location, TRUTH_FOLDER)
    tables = truth_tables(plan.spec, truth, realised_fraud([*plan.kept, *results]))
    summed = write_tables(plan.spec, truth_files(tables), plan.write_location, TRUTH_FOLDER)
    return summed + streamed, truth.seconds


@task(
    name="manifest",
    retries=2,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=worth_retrying,
    cache_policy=NONE,
)
def write_dataset_manifest(
    plan: RunPlan, results: list[PartitionResult], truth: tuple[FileRecord, ...]
) -> Manifest:
    """Record the spec, versions and every file with its rows and checksum (unpublished)."""
    manifest = pending_manifest(plan, results, truth)
    save_pending(plan, manifest)
    return manifest


@task(
    name="validate",
    retries=1,
    retry_delay_seconds=RETRY_DELAY_SECONDS,
    retry_condition_fn=worth_retrying,
    cache_policy=NONE,
)
def validate_dataset(plan: RunPlan, manifest: Manifest, scheduler: str) -> ValidationOutcome:
    """Measure the written files against the spec; write the fidelity report."""
    with Client(scheduler, set_as_default=False) as client:
        return validate_location(
            client,
            plan.location,
            progress=_progress("validate"),
            manifest=manifest,
            report_location=plan.write_location,
            leaving=plan.stale,
        )


@task(name="publish", cache_policy=NONE)
def publish_dataset(plan: RunPlan, manifest: Manifest, outcome: ValidationOutcome) -> str:
    """Publish (move staged files into place, manifest, _SUCCESS last) if and only if the
    report passed; returns where the report is."""
    _post_artifacts(outcome)
    if not outcome.passed:
        failed = ", ".join(outcome.failed_tests())
        raise FidelityError(
            f"fidelity report failed ({failed}); the data is left unpublished", outcome.html_path
        )
    publish_run(plan, manifest, extra=(REPORT_JSON, REPORT_HTML), verdict=outcome.summary_line())
    return plan.location.display(REPORT_HTML)


def _post_artifacts(outcome: ValidationOutcome) -> None:
    """The verdicts as a markdown artifact, and a link to the HTML report."""
    summary = outcome.report.summary
    lines = [
        f"# synthpipe fidelity report: {'PASS' if outcome.passed else 'FAIL'}",
        "",
        f"{summary.passing} of {summary.tests} tests pass.",
        "",
        "| group | tests | failed |",
        "|---|---|---|",
        *(f"| {g} | {v.tests} | {v.failed} |" for g, v in summary.groups.items()),
        "",
        f"Report: `{outcome.html_path}`",
    ]
    if summary.failed_tests:
        lines += ["", "Failed: " + ", ".join(f"`{name}`" for name in summary.failed_tests)]
    create_markdown_artifact(
        markdown="\n".join(lines), key=ARTIFACT_KEY, description="fidelity verdicts"
    )
    link = outcome.html_path if "://" in outcome.html_path else f"file://{outcome.html_path}"
    create_link_artifact(link=link, link_text="fidelity report", key=f"{ARTIFACT_KEY}-link")


@flow(
    name=FLOW_NAME,
    description="Generate a partitioned synthetic retail dataset and its fidelity report.",
)
def retail_flow(
    spec: dict[str, Any],
    out: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    mode: Literal["refresh", "overwrite"] = "refresh",
) -> dict[str, Any]:
    """Generate (or refresh) the dataset ``spec`` describes under ``out`` (default: its
    output.path). Returns a summary (``RunSummary``, as JSON: Prefect records it): rows
    per table, seconds, where data and report are."""
    started = time.monotonic()
    timings: dict[str, float] = {}

    def timed(stage: str, since: float) -> float:
        now = time.monotonic()
        timings[stage] = round(timings.get(stage, 0.0) + now - since, 3)
        return now

    model = spec_from_dict(spec)
    location = output_location(model, out or model.output.path)
    check_output(location, mode)
    check_format(model, location)
    with holding(location):
        mark = time.monotonic()
        plan = plan_run(model, location, mode)
        session = DaskSession(workers, scheduler)
        with session as client:
            address = client.scheduler.address
            mark = timed("plan_and_cluster", mark)
            plan = verify_kept(whole(plan), address)
            mark = timed("verify", mark)
            if plan.up_to_date and plan.previous is not None:
                report = location.display(REPORT_HTML)
                return _summary(plan, plan.previous, started, report, timings).model_dump(
                    mode="json"
                )
            results = generate_partitions(whole(plan), address)
            mark = timed("generate", mark)
            truth, truth_seconds = write_ground_truth(whole(plan), whole(results), address)
            mark = timed("truth", mark)
            manifest = write_dataset_manifest(whole(plan), whole(results), whole(truth))
            mark = timed("manifest", mark)
            outcome = validate_dataset(whole(plan), whole(manifest), address)
            mark = timed("validate", mark)
            workers_used = len(client.scheduler_info()["workers"])
            session.close_in_background()  # the workers exit while the run publishes
            report = publish_dataset(whole(plan), whole(manifest), whole(outcome))
            timed("publish", mark)
    busy = {  # core-seconds of each stage's Dask tasks: its cost, not its wall time
        "generate": round(sum(r.seconds for r in results), 3),
        "truth": round(truth_seconds, 3),
        "validate": round(outcome.report.busy_seconds, 3),
    }
    summary = _summary(
        plan,
        manifest,
        started,
        report,
        timings,
        generated_rows=_generated_rows(results),
        busy=busy,
        workers=workers_used,
    )
    return summary.model_dump(mode="json")  # the edge: Prefect records the flow's result


def _generated_rows(results: list[PartitionResult]) -> dict[str, int]:
    """Rows written by this run per table."""
    generated_rows: dict[str, int] = {}
    for result in results:
        for record in result.files:
            generated_rows[record.table] = generated_rows.get(record.table, 0) + record.rows
    return generated_rows


def _summary(
    plan: RunPlan,
    manifest: Manifest | None,
    started: float,
    report: str,
    timings: dict[str, float],
    generated_rows: dict[str, int] | None = None,
    busy: dict[str, float] | None = None,
    workers: int | None = None,
) -> RunSummary:
    """The run's summary; what it generated, the busy seconds and the workers when it
    generated anything."""
    tables = manifest.tables if manifest else {}
    return RunSummary(
        rows={name: info.rows for name, info in tables.items()},
        seconds=round(time.monotonic() - started, 1),
        data=plan.location.display(),
        report=report,
        partitions=len(plan.to_run) + len(plan.kept),
        generated=len(plan.to_run),
        skipped=len(plan.kept),
        generated_rows=generated_rows,
        timings=dict(timings),
        busy=busy,
        workers=workers,
    )
