"""The ``synthpipe`` command: run, plan, validate.

Exit codes: 0 success; 2 bad input (spec, flag, path) with one line on stderr naming the
problem; 1 any other failure, with its cause. No traceback unless SYNTHPIPE_DEBUG=1.

This module does not import prefect: the ``run`` command's flow runner is handed in by
``flows.cli`` (the installed entry point), keeping the layers pointing one way.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from synthpipe.engine.summary import RunSummary, summary_json
from synthpipe.errors import FidelityError, InputError, StorageError, debugging
from synthpipe.machine import available_cores
from synthpipe.model.expectation import BYTES_PER_ROW, expected_partition_rows, expected_totals
from synthpipe.plan import make_plan, partition_count
from synthpipe.secrets import credential_paths
from synthpipe.sink.lock import check_unlocked, holding
from synthpipe.sink.names import partition_files
from synthpipe.sink.output import check_format, check_output, output_location
from synthpipe.sink.refresh import prepare
from synthpipe.spec import Spec, load_spec, spec_from_dict
from synthpipe.spec.loader import STORAGE_OPTIONS, parse_override, read_spec_document, set_dotted
from synthpipe.stopping import stop_message, stopping_cleanly
from synthpipe.storage import Location, check_local_path, check_location, shown_path
from synthpipe.subcommands import fit_sample, positive, print_checks, revalidate

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # the shell's convention for a command stopped by Ctrl-C (128 + SIGINT)
MAX_WORKERS = 4096
DEPLOYMENT_NAME_REFUSED = ("/", "%", "&", ">", "<")  # characters Prefect refuses in a name
# End-to-end throughput for plan's estimate: 100.5 M rows in 81.8 s on 2 cores
# (generation, writing and validation, as `make bench` measures them end to end).
ROWS_PER_CORE_SECOND = 100.5e6 / 81.8 / 2


@dataclass(frozen=True)
class RunRequest:
    """Everything ``synthpipe run`` hands to the flow."""

    spec: Spec
    location: Location
    workers: int | None = None
    scheduler: str | None = None
    mode: str = "refresh"


FlowRunner = Callable[[RunRequest], RunSummary]


@dataclass(frozen=True)
class DeployRequest:
    """Everything ``synthpipe deploy`` hands to the deployer."""

    document: dict[str, Any]  # the spec as written (relative dates kept), overrides applied
    name: str
    cron: str
    out: str | None = None
    workers: int | None = None
    scheduler: str | None = None
    serve: bool = False


Deployer = Callable[[DeployRequest], str]


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises ``InputError`` (one line, exit 2) instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise InputError(message)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--workers must be a whole number, got {text!r}"
        ) from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"--workers must be between 1 and {MAX_WORKERS}, got {value}"
        )
    return value


def _deployment_name(text: str) -> str:
    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError("--name must not be empty")
    refused = [c for c in DEPLOYMENT_NAME_REFUSED if c in name]
    if refused:
        raise argparse.ArgumentTypeError(
            f"--name must not contain {' '.join(refused)} (Prefect refuses it), got {text!r}"
        )
    return name


def build_parser() -> ArgumentParser:
    """The argument parser of every subcommand."""
    parser = ArgumentParser(
        prog="synthpipe", description="Generate realistic synthetic retail data at scale."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    run = commands.add_parser("run", help="generate a dataset with the Prefect flow")
    run.add_argument("spec", help="YAML spec file")
    run.add_argument("--out", help="output URL (default: the spec's output.path)")
    run.add_argument("--workers", type=_workers, help="Dask workers of the embedded LocalCluster")
    run.add_argument("--scheduler", help="use an existing Dask cluster, tcp://HOST:PORT")
    run.add_argument(
        "--summary", metavar="FILE", help="also write the run's summary as JSON to FILE"
    )
    run.add_argument(
        "--mode",
        choices=("refresh", "overwrite"),
        default="refresh",
        help="refresh (default): keep valid files, add what is missing; overwrite: rebuild",
    )
    _add_set(run)
    plan = commands.add_parser("plan", help="print the partitions without generating")
    plan.add_argument("spec", help="YAML spec file")
    plan.add_argument("--out", help="output URL (default: the spec's output.path)")
    plan.add_argument(
        "--json", action="store_true", help="print every partition as JSON (for machines)"
    )
    plan.add_argument(
        "--partitions",
        action="store_true",
        help="list every partition (the default prints a summary, at once at any size)",
    )
    _add_set(plan)
    deploy = commands.add_parser("deploy", help="register the flow with a cron schedule")
    deploy.add_argument("spec", help="YAML spec file (stored in the deployment)")
    deploy.add_argument("--cron", required=True, help='schedule, e.g. "0 2 * * *"')
    deploy.add_argument(
        "--name",
        type=_deployment_name,
        default="scheduled",
        help="deployment name (default: scheduled)",
    )
    deploy.add_argument("--out", help="output URL (default: the spec's output.path)")
    deploy.add_argument("--workers", type=_workers, help="Dask workers of each run's LocalCluster")
    deploy.add_argument("--scheduler", help="runs use this Dask cluster, tcp://HOST:PORT")
    deploy.add_argument(
        "--serve", action="store_true", help="keep running and execute the scheduled runs"
    )
    _add_set(deploy)
    validate = commands.add_parser(
        "validate", help="re-read a dataset and rewrite its fidelity report"
    )
    validate.add_argument("out", nargs="?", help="dataset URL (a folder with _manifest.json)")
    validate.add_argument(
        "--list",
        action="store_true",
        help="print every check of the fidelity report (name, group, what it tests) and exit",
    )
    validate.add_argument(
        "--workers",
        type=_workers,
        help="Dask workers of the embedded LocalCluster (default: one per core; a dataset "
        "under 64 MB is read in this process unless --workers or --scheduler is given)",
    )
    validate.add_argument("--scheduler", help="use an existing Dask cluster, tcp://HOST:PORT")
    validate.add_argument(
        "--reference", help="Parquet or CSV sample of real transactions to compare with"
    )
    validate.add_argument(
        "--no-learnability",
        action="store_true",
        help="leave out the learnability section (informative, no check reads it; it is "
        "most of the cost of validating a small dataset)",
    )
    validate.add_argument(
        "--reference-map",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="map a reference column to ours, e.g. amount=order_total (repeatable)",
    )
    fit = commands.add_parser("fit", help="estimate a spec from a real transaction sample")
    fit.add_argument("sample", help="CSV or Parquet sample of transactions")
    fit.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="name the sample's column for one of ours: customer_id, ts, amount and the"
        " optional ones of docs/fit.md, 'Calibrating to your data' (repeatable)",
    )
    fit.add_argument("--out", default="fitted.yaml", help="spec file to write (fitted.yaml)")
    fit.add_argument(
        "--min-customers",
        type=positive(int),
        default=10,
        help="a group seen by fewer customers keeps the default (default 10)",
    )
    fit.add_argument("--seed", type=int, default=1, help="the spec's seed and the bootstrap's")
    fit.add_argument(
        "--epsilon",
        type=positive(float),
        help="release the count-based estimates with this differential-privacy budget",
    )
    _add_set(fit)
    return parser


def command_fit(args: argparse.Namespace) -> int:
    """Fit a spec to a sample and write it with its report."""
    fit_sample(args)
    return EXIT_OK


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec field by dotted path, value parsed as YAML (repeatable)",
    )


def _location(spec: Spec, out: str | None) -> Location:
    url = out if out is not None else spec.output.path
    if not url.strip():
        raise InputError("--out must not be empty")
    return output_location(spec, url)


def command_plan(args: argparse.Namespace) -> int:
    """Print a summary of the plan (partitions, rows, size and time expected) in time
    independent of its size; every partition with --partitions or --json."""
    spec = load_spec(args.spec, args.set)
    location = _location(spec, args.out)
    if not (args.json or args.partitions):
        _print_plan_summary(spec, location)
        return EXIT_OK
    tasks = make_plan(spec)
    rows = [(task, expected_partition_rows(spec, task)) for task in tasks]
    if args.json:
        document = [
            {
                "partition": t.key,
                "kind": t.kind,
                "expected_rows": e,
                "files": partition_files(spec, t),
            }
            for t, e in rows
        ]
        print(json.dumps(document, indent=2))
        return EXIT_OK
    totals: dict[str, float] = {}
    for _, expected in rows:
        for table, count in expected.items():
            totals[table] = totals.get(table, 0.0) + count
    print(f"output: {location.display()}")
    print(f"partitions: {len(tasks)}")
    for table, count in totals.items():
        print(f"  {table:<13} ~{count:,.0f} rows expected")
    print()
    for task, expected in rows:
        described = ", ".join(f"{k} ~{v:,.0f}" for k, v in expected.items())
        files = ", ".join(partition_files(spec, task).values())
        print(f"{task.key:<28} {described:<52} -> {files}")
    return EXIT_OK


def _print_plan_summary(spec: Spec, location: Location) -> None:
    counts = partition_count(spec)
    totals = expected_totals(spec)
    total_rows = sum(totals.values())
    size = sum(totals[t] * BYTES_PER_ROW[t] for t in totals)
    cores = available_cores()
    seconds = total_rows / (ROWS_PER_CORE_SECOND * cores)
    print(f"output: {location.display()}")
    print(
        f"partitions: {sum(counts.values()):,} ({counts['customers']:,} customer blocks,"
        f" {counts['sales']:,} block-months of sales, products, stores)"
    )
    for table, count in totals.items():
        print(f"  {table:<13} ~{count:,.0f} rows expected")
    print(
        f"estimate: ~{_human_bytes(size)} written, ~{_human_seconds(seconds)} on {cores}"
        f" core{'s' if cores > 1 else ''} (at {ROWS_PER_CORE_SECOND / 1e6:.1f} M rows per"
        " core-second, generation and validation)"
    )
    print("every partition: --partitions (or --json)")


def _human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} PB"


def _human_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


def command_run(args: argparse.Namespace, runner: FlowRunner | None) -> int:
    """Check every input, then run the flow."""
    spec = load_spec(args.spec, args.set)
    location = _location(spec, args.out)
    check_location(location, "--out")  # too long, a file, no bucket, no access: exit 2 now
    if args.summary:
        named = f"--summary {shown_path(args.summary)}"
        check_local_path(args.summary, named, folder=False, make_parents=False)
    check_output(location, args.mode)
    check_format(spec, location)
    check_unlocked(location)
    prepare(spec, location, args.mode)  # a refused refresh: exit 2 before anything starts
    if args.scheduler:
        from synthpipe.engine.cluster import check_scheduler_address

        check_scheduler_address(args.scheduler)
    if runner is None:
        raise InputError(
            "`synthpipe run` needs the flow; start it with the installed `synthpipe` command"
        )
    # every check passed: take the dataset's lock now, before Prefect or Dask start, so a
    # second run started a moment later is refused at once (the flow holds it again)
    with holding(location):
        summary = runner(RunRequest(spec, location, args.workers, args.scheduler, args.mode))
    _print_summary(summary)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as handle:
            handle.write(summary_json(summary))
    return EXIT_OK


def _print_summary(summary: RunSummary) -> None:
    """The run's summary on stdout."""
    for line in summary.lines():
        print(line)


def command_deploy(args: argparse.Namespace, deployer: Deployer | None) -> int:
    """Check the spec and flags, then register the scheduled deployment."""
    document = read_spec_document(args.spec)
    for override in args.set:
        set_dotted(document, *parse_override(override))
    spec = spec_from_dict(document)  # bad spec: exit 2 now, not at 2 a.m.
    written = credential_paths(spec.output.storage_options, STORAGE_OPTIONS)
    if written:
        raise InputError(
            f"`{written[0]}` holds a credential, which a deployment would store in Prefect's"
            " database: write ${env:NAME} instead and set NAME where the flow is served"
        )
    if args.out is None and not spec.output.path.strip():
        raise InputError("--out is required when the spec has no output.path")
    if args.scheduler:
        from synthpipe.engine.cluster import check_scheduler_address

        check_scheduler_address(args.scheduler, probe=False)  # reached where runs execute
    if deployer is None:
        raise InputError(
            "`synthpipe deploy` needs Prefect; start it with the installed `synthpipe` command"
        )
    request = DeployRequest(
        document, args.name, args.cron, args.out, args.workers, args.scheduler, args.serve
    )
    name = deployer(request)
    print(f"deployment {name} registered, schedule {args.cron!r}")
    print("scheduled runs execute where the flow is served: `synthpipe deploy ... --serve`")
    return EXIT_OK


def command_validate(args: argparse.Namespace) -> int:
    """Re-read a dataset, rewrite its report; exit 1 when a check fails."""
    if args.list:
        print_checks()
        return EXIT_OK
    return EXIT_OK if revalidate(args) else EXIT_FAILURE


def _dispatch(
    args: argparse.Namespace, runner: FlowRunner | None, deployer: Deployer | None
) -> int:
    if args.command == "plan":
        return command_plan(args)
    if args.command == "run":
        return command_run(args, runner)
    if args.command == "deploy":
        return command_deploy(args, deployer)
    if args.command == "fit":
        return command_fit(args)
    return command_validate(args)


def main(
    argv: Sequence[str] | None = None,
    runner: FlowRunner | None = None,
    deployer: Deployer | None = None,
) -> int:
    """Entry point: parse, dispatch, and turn exceptions into exit codes."""
    debug = debugging()
    try:
        args = build_parser().parse_args(argv)
        with stopping_cleanly(stop_message):
            return _dispatch(args, runner, deployer)
    except InputError as exc:
        if debug:
            raise
        print(f"synthpipe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FidelityError as exc:
        print(f"synthpipe: failed: {exc} (report: {exc.report_path})", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print(stop_message(signal.SIGINT), file=sys.stderr)
        return EXIT_INTERRUPTED
    except StorageError as exc:  # a full disk: the path and the cause, nothing to retry
        if debug:
            raise
        print(f"synthpipe: failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # the CLI's contract: a cause on one line, exit 1
        if debug:
            raise
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"synthpipe: failed: {type(exc).__name__}: {cause}", file=sys.stderr)
        return EXIT_FAILURE
