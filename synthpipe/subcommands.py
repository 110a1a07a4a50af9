"""The work of ``synthpipe validate`` and ``synthpipe fit`` once their arguments are
parsed: ``synthpipe.cli`` parses, dispatches and turns the outcome into an exit code.

Like the CLI, this module imports the engine, the validator and the fitter only when a
command needs them: ``synthpipe plan`` and ``--help`` start without them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from synthpipe.errors import InputError
from synthpipe.sink.lock import check_unlocked, holding
from synthpipe.sink.output import check_writable
from synthpipe.storage import Location, check_local_path, check_location, shown_path

# `validate` reads a dataset smaller than this in its own process unless told to use
# workers: starting them (about 3.5 s here) costs more than reading 64 MB of Parquet.
IN_PROCESS_VALIDATION_BYTES = 64 * 1024 * 1024


def positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a whole (int) or real (float) number above 0, finite."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expects {what}, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expects {what} above 0 and finite, got {text!r}")
        return value

    return parse


def reference_map(pairs: list[str], option: str = "--reference-map") -> dict[str, str]:
    """``OURS=THEIRS`` pairs as a mapping; a malformed pair is bad input."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise InputError(f"{option} expects OURS=THEIRS, got {pair!r}")
        mapping[ours.strip()] = theirs.strip()
    return mapping


def fit_sample(args: argparse.Namespace) -> None:
    """Fit a spec to a sample and write it with its report; print where they are."""
    from synthpipe.fit import fit
    from synthpipe.fit.report import fit_paths, write_fit

    mapping = reference_map(args.map, "--map")
    for path in fit_paths(args.out):  # a bad --out: exit 2 before the fit's work
        check_local_path(str(path), f"--out {shown_path(str(path))}", folder=False)
    result = fit(args.sample, mapping, args.set, args.min_customers, args.seed, args.epsilon)
    spec_file, json_file, html_file = write_fit(result, args.out, Path(args.sample).name)
    for note in result.notes:
        print(f"synthpipe: note: {note}", file=sys.stderr)
    print(
        f"fitted {len(result.estimates)} fields from {result.rows:,} rows of"
        f" {result.customers:,} customers; {len(result.defaults)} left at their defaults"
        " (listed in the report)"
    )
    if result.verdict is not None:  # the fitted world beside the sample (fit.judge)
        print(f"judged: {result.verdict}")
    print(f"spec:   {spec_file}")
    print(f"report: {json_file} {html_file}")


def revalidate(args: argparse.Namespace) -> bool:
    """Re-read the dataset ``args.out``, rewrite its report, withdraw it when a check
    fails; print the verdict. True when every check passed."""
    if args.out is None:
        raise InputError("validate needs the dataset's URL (or --list)")
    from synthpipe.sink.manifest import load_dataset_spec

    location = Location(args.out)
    check_location(location, "dataset", must_exist=True)  # before the lock and any worker
    if args.scheduler:
        from synthpipe.engine.cluster import check_scheduler_address

        check_scheduler_address(args.scheduler)
    reference = None
    if args.reference is not None:
        from synthpipe.validate.reference import read_reference

        # read, mapped and checked now: a bad reference exits 2 before any work
        reference = read_reference(args.reference, reference_map(args.reference_map))
    elif args.reference_map:
        reference_map(args.reference_map)  # a malformed pair is refused all the same
    check_unlocked(location)  # a run is writing it: say so now, naming the run
    check_writable(location)  # the report and the lock are written into it
    _, manifest = load_dataset_spec(location)
    dataset_bytes = manifest.listing().total_bytes()
    # worker processes take seconds to start: more than reading a small dataset
    in_process = (
        args.scheduler is None
        and args.workers is None
        and dataset_bytes < IN_PROCESS_VALIDATION_BYTES
    )
    if not in_process and args.scheduler is None:
        from synthpipe.engine.workers import start_worker_server

        start_worker_server()  # its workers import while this process imports the validator
    from synthpipe.engine.cluster import dask_client
    from synthpipe.engine.validation import validate_location
    from synthpipe.sink.refresh import withdraw

    # one writer at a time: a run writing the dataset refuses this, and this refuses a run
    with holding(location):
        with nullcontext() if in_process else dask_client(args.workers, args.scheduler) as client:
            outcome = validate_location(
                client,
                location,
                reference,
                manifest=manifest,
                learnability=not args.no_learnability,
            )
        if not outcome.passed:
            withdraw(location, manifest)  # a dataset that fails is no longer published
    print(outcome.summary_line())
    print(f"report: {outcome.html_path}")
    if not outcome.passed:
        print(f"synthpipe: validation failed: {outcome.failure_line()}", file=sys.stderr)
    return outcome.passed


def print_checks() -> None:
    """Print the declared checks, family by family, from the registry."""
    from synthpipe.validate.checks import FAMILIES

    for family_name, family in FAMILIES.items():
        print(f"{family_name}:")
        for check in family.checks:
            when = f" (only when {check.only_when})" if check.only_when else ""
            print(f"  {check.name:<44} {check.group:<10} {check.summary}{when}")
