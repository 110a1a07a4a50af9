"""Run the validation units on the Dask cluster, merge, judge, and write the report."""

from __future__ import annotations

import pickle
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
from distributed import Client, Future

from synthpipe.engine.batch import Progress, no_progress, run_batch
from synthpipe.sink.manifest import Manifest, load_dataset_spec
from synthpipe.spec import Spec
from synthpipe.storage import Location, write_atomic
from synthpipe.validate.checks import evaluate
from synthpipe.validate.context import validation_context
from synthpipe.validate.gates import Check
from synthpipe.validate.html import render_html
from synthpipe.validate.learnability import learnability
from synthpipe.validate.listing import Listing
from synthpipe.validate.merge import Stats, merge_all, merge_two
from synthpipe.validate.reading import read_file
from synthpipe.validate.reference import (
    SOURCE_COLUMNS,
    SampleReview,
    compare,
    compared_matrix_names,
    review_sample,
    synthetic_stats,
)
from synthpipe.validate.report import build_report
from synthpipe.validate.results import (
    FidelityReport,
    LearnabilitySection,
    LearnabilityUnavailable,
    ReferenceSection,
    learnability_section,
    report_json,
)
from synthpipe.validate.units import batch_stats, batches, packed_batch_stats, units
from synthpipe.vocabulary import REPORT_FOLDER

REPORT_JSON = f"{REPORT_FOLDER}/report.json"
REPORT_HTML = f"{REPORT_FOLDER}/report.html"


@dataclass(frozen=True)
class ValidationOutcome:
    """The verdict of a validation run and where its report is."""

    report: FidelityReport
    json_path: str
    html_path: str

    @property
    def passed(self) -> bool:
        """True when every test passed."""
        return self.report.passed

    def failed_tests(self) -> list[str]:
        """Names of the failing tests."""
        return list(self.report.summary.failed_tests)

    def failure_line(self) -> str:
        """The failing tests on one line; integrity failures with what they found (the
        files that break a file check are named there)."""
        parts = [
            f"{test.name} ({test.explanation})" if test.group == "integrity" else test.name
            for test in self.report.failed()
        ]
        return "; ".join(parts)

    def summary_line(self) -> str:
        """One line: how many tests, how many failed."""
        summary = self.report.summary
        verdict = "PASS" if self.passed else "FAIL"
        return f"fidelity report: {verdict} ({summary.passing}/{summary.tests} tests pass)"


def collect_stats(
    client: Client | None,
    spec: Spec,
    location: Location,
    listing: Listing,
    progress: Progress = no_progress,
) -> Stats:
    """Statistics of every unit, merged as they arrive (in process when ``client`` is None).

    Units run in fixed batches (``batches``), in process and on the cluster alike, and the
    batches merge in order, not as they finish: float sums then do not depend on which
    worker was quicker or how many there are, and the same dataset gives the same report.
    """
    tasks = batches(units(listing))
    run = uuid.uuid4().hex[:8]
    # on a cluster each batch's statistics travel as one pickle (see packed_batch_stats)
    task: Callable[..., Stats | bytes] = batch_stats if client is None else packed_batch_stats
    results = run_batch(
        client,
        task,
        tasks,
        shared={"location": location},
        broadcast={"spec": spec},
        keys=[f"validate-{i:06d}-{run}" for i in range(len(tasks))],
        progress=progress,
        groups=[batch[0].block for batch in tasks],  # a block's customer files read once
    )
    if client is not None:
        validation_context(spec)  # built here while the workers run; evaluate reuses it
    merged: Stats = {}
    for result in results:
        merged = merge_two(merged, pickle.loads(result) if isinstance(result, bytes) else result)
    return merged


def write_report(location: Location, report: FidelityReport) -> tuple[str, str]:
    """Write report.json and report.html atomically; returns their display paths."""
    fs, _ = location.filesystem()
    write_atomic(fs, location.join(REPORT_JSON), report_json(report).encode("utf-8"))
    write_atomic(fs, location.join(REPORT_HTML), render_html(report).encode("utf-8"))
    return location.display(REPORT_JSON), location.display(REPORT_HTML)


def reference_section(review: SampleReview) -> ReferenceSection:
    """The report's reference section: the sample's rows and what was not compared."""
    return ReferenceSection(rows=review.rows, notes=tuple(review.notes))


def run_reference_unit(path: str, location: Location, names: list[str]) -> Stats:
    """The Dask task: reference-comparison statistics of one transactions file."""
    return synthetic_stats(read_file(location, path, list(SOURCE_COLUMNS)), names)


def compare_with_reference(
    client: Client | None, location: Location, listing: Listing, review: SampleReview
) -> list[Check]:
    """Checks of the synthetic transactions against a reviewed real sample, at full
    scale."""
    names = compared_matrix_names(review)
    paths = [f.path for f in listing.of_table("transactions")]
    parts = run_batch(
        client, run_reference_unit, paths, shared={"location": location, "names": names}
    )
    return compare(merge_all(parts), review)  # in order: see collect_stats


NOTE_LENGTH = 300  # a note quoting an exception is cut here: the report is no log
LEARNABILITY_LEFT_OUT = "not computed: left out on request (validate --no-learnability)"


def learnability_or_note(spec: Spec, location: Location, listing: Listing) -> LearnabilitySection:
    """The report's learnability section; informative, so a dataset it cannot read (its
    integrity checks say why) gets a note instead of failing the validation."""
    try:
        section = learnability(spec, location, listing)
    except Exception as exc:  # a broken file is the integrity checks' to report
        note = f"not computed: {type(exc).__name__}: {exc}"[:NOTE_LENGTH]
        return LearnabilityUnavailable(available=False, note=note)
    return learnability_section(section)  # outside the try: a malformed section is a bug


def timed_learnability(
    spec: Spec, location: Location, listing: Listing
) -> tuple[LearnabilitySection, float]:
    """The learnability section and the seconds it took (part of validation's busy time)."""
    started = time.perf_counter()
    section = learnability_or_note(spec, location, listing)
    return section, time.perf_counter() - started


LEARNABILITY_PRIORITY = 1  # ahead of the statistics batches (priority 0): the longest task


def _start_learnability(
    client: Client | None, spec: Spec, location: Location, listing: Listing
) -> Future[tuple[LearnabilitySection, float]] | tuple[LearnabilitySection, float]:
    """The learnability section and its seconds: on a cluster, a task submitted first so
    that it runs on one worker while the others compute the statistics (its cost is
    fixed, a few seconds, and would otherwise leave every worker idle at the end); in
    process, computed here."""
    if client is None:
        return timed_learnability(spec, location, listing)
    key = f"learnability-{uuid.uuid4().hex[:8]}"
    future: Future[tuple[LearnabilitySection, float]] = client.submit(
        timed_learnability,
        spec,
        location,
        listing,
        key=key,
        pure=False,
        priority=LEARNABILITY_PRIORITY,
    )
    return future


def validate_location(
    client: Client | None,
    location: Location,
    reference: pa.Table | None = None,
    progress: Progress = no_progress,
    manifest: Manifest | None = None,
    report_location: Location | None = None,
    leaving: tuple[str, ...] = (),
    learnability: bool = True,
) -> ValidationOutcome:
    """Validate the dataset at ``location`` against the spec in its manifest (or the given
    pending ``manifest``), and against a real sample when ``reference`` is one (as
    ``read_reference`` returns it); the report goes to ``report_location`` (default: the
    dataset). ``leaving``: files in place that the run removes when it publishes;
    ``learnability``: False leaves that informative section out (no check reads it)."""
    if manifest is None:
        spec, manifest = load_dataset_spec(location)
    else:
        spec = Spec.model_validate(manifest.spec)
    listing = manifest.listing(location, leaving)
    learning = (
        _start_learnability(client, spec, location, listing)
        if learnability
        else (LearnabilityUnavailable(available=False, note=LEARNABILITY_LEFT_OUT), 0.0)
    )
    stats = collect_stats(client, spec, location, listing, progress)
    ctx = validation_context(spec)
    checks = evaluate(ctx, stats, listing)
    review = review_sample(reference) if reference is not None else None
    if review is not None:
        checks += compare_with_reference(client, location, listing, review)
    report = build_report(ctx, stats, checks, listing, location.display())
    section, seconds = learning.result() if isinstance(learning, Future) else learning
    report = report.model_copy(
        update={
            "reference": None if review is None else reference_section(review),
            "learnability": section,
            "busy_seconds": round(report.busy_seconds + seconds, 3),  # the learners' time
        }
    )
    json_path, html_path = write_report(report_location or location, report)
    return ValidationOutcome(report, json_path, html_path)


__all__ = ["ValidationOutcome", "load_dataset_spec", "merge_all", "validate_location"]
