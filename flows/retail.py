"""The retail flow: plan -> generate (Dask) -> manifest -> validate (Dask) -> publish.

Prefect tasks are coarse (one per stage, with retries); the fine-grained work, one Dask
task per partition, runs on the Dask cluster the flow opens. Dask workers never call the
Prefect API.
"""

from __future__ import annotations

import time
from typing import Any

from distributed import Client
from prefect import flow, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE

from synthpipe.engine.cluster import dask_client
from synthpipe.engine.generate import compute_truth, generate
from synthpipe.engine.progress import ConsoleProgress
from synthpipe.engine.validation import ValidationOutcome, validate_location
from synthpipe.errors import FidelityError
from synthpipe.model.truth import TRUTH_FOLDER, truth_tables
from synthpipe.plan import PartitionTask, make_plan
from synthpipe.sink.manifest import build_manifest, realised_fraud, write_manifest
from synthpipe.sink.partitions import FileRecord, PartitionResult, write_tables
from synthpipe.sink.publish import publish, unpublish
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.storage import Location

FLOW_NAME = "synthpipe-retail"
RETRY_DELAY_SECONDS = 5
ARTIFACT_KEY = "fidelity-report"


@task(name="plan", retries=2, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NONE)
def plan_partitions(spec: Spec) -> list[PartitionTask]:
    """Split the spec into seeded partition tasks."""
    return make_plan(spec)


@task(name="generate", retries=1, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NONE)
def generate_partitions(
    spec: Spec, tasks: list[PartitionTask], location: Location, scheduler: str
) -> list[PartitionResult]:
    """Generate and write every partition on the Dask cluster (one Dask task each)."""
    unpublish(location)
    with Client(scheduler, set_as_default=False) as client:
        return generate(client, spec, tasks, location, ConsoleProgress("generate"))


@task(name="truth", retries=1, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NONE)
def write_ground_truth(
    spec: Spec, results: list[PartitionResult], location: Location, scheduler: str
) -> tuple[FileRecord, ...]:
    """Expected daily volumes per channel and category, and fraud counts, under _truth/."""
    with Client(scheduler, set_as_default=False) as client:
        truth = compute_truth(client, spec)
    tables = truth_tables(spec, truth, realised_fraud(results))
    return write_tables(spec, tables, location, TRUTH_FOLDER)


@task(name="manifest", retries=2, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NONE)
def write_dataset_manifest(
    spec: Spec, results: list[PartitionResult], location: Location, truth: tuple[FileRecord, ...]
) -> dict[str, Any]:
    """Record the spec, versions and every file with its rows and checksum."""
    manifest = build_manifest(spec, results, truth=truth)
    write_manifest(location, manifest)
    return manifest


@task(name="validate", retries=1, retry_delay_seconds=RETRY_DELAY_SECONDS, cache_policy=NONE)
def validate_dataset(location: Location, scheduler: str) -> ValidationOutcome:
    """Measure the written files against the spec; write the fidelity report."""
    with Client(scheduler, set_as_default=False) as client:
        return validate_location(client, location, progress=ConsoleProgress("validate"))


@task(name="publish", cache_policy=NONE)
def publish_dataset(
    location: Location, manifest: dict[str, Any], outcome: ValidationOutcome
) -> None:
    """Write _SUCCESS, last, if and only if the report passed."""
    _post_artifacts(outcome)
    if not outcome.passed:
        failed = ", ".join(outcome.failed_tests())
        raise FidelityError(
            f"fidelity report failed ({failed}); the data is left unpublished", outcome.html_path
        )
    manifest = dict(manifest, published=True)
    write_manifest(location, manifest)
    publish(location, manifest)


def _post_artifacts(outcome: ValidationOutcome) -> None:
    summary = outcome.report["summary"]
    lines = [
        f"# synthpipe fidelity report: {'PASS' if outcome.passed else 'FAIL'}",
        "",
        f"{summary['tests'] - summary['failed']} of {summary['tests']} tests pass.",
        "",
        "| group | tests | failed |",
        "|---|---|---|",
        *(f"| {g} | {v['tests']} | {v['failed']} |" for g, v in summary["groups"].items()),
        "",
        f"Report: `{outcome.html_path}`",
    ]
    if summary["failed_tests"]:
        lines += ["", "Failed: " + ", ".join(f"`{name}`" for name in summary["failed_tests"])]
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
) -> dict[str, Any]:
    """Generate the dataset ``spec`` describes under ``out`` (default: its output.path)."""
    started = time.monotonic()
    model = spec_from_dict(spec)
    location = Location(out or model.output.path, dict(model.output.storage_options))
    tasks = plan_partitions(model)
    with dask_client(workers, scheduler) as client:
        address = client.scheduler.address
        results = generate_partitions(model, tasks, location, address)
        truth = write_ground_truth(model, results, location, address)
        manifest = write_dataset_manifest(model, results, location, truth)
        outcome = validate_dataset(location, address)
    publish_dataset(location, manifest, outcome)
    return {
        "rows": {name: info["rows"] for name, info in manifest["tables"].items()},
        "seconds": round(time.monotonic() - started, 1),
        "data": location.display(),
        "report": outcome.html_path,
        "partitions": len(tasks),
    }
