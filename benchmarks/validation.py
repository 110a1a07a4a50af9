"""What the fidelity report costs next to generation, on one core, unit by unit.

Generates and writes one customer block of configs/retail.yaml (its customers file and
every month's sales files, plus the products and stores) in this process, then computes
the validation statistics of the same files, twice each: the first pass pays the one-off
costs a worker pays once, the second shows the steady cost. The ratio of the second
passes is what validation adds per core, whatever the number of workers. The
end-to-end share, with the cluster and the report, is in `make bench`. Not a test.

    make bench-validation
    make bench-validation ARGS="--block 0 --set customers.count=1000000"
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from synthpipe.engine.workers import SINGLE_THREAD_ENV, WORKER_MALLOC_ENV

# Run under the environment a Dask worker gets (one BLAS thread, the worker's malloc
# settings, which glibc reads only at start-up): re-executed once to apply them.
if any(os.environ.get(k) != v for k, v in WORKER_MALLOC_ENV.items()):
    os.environ.update(WORKER_MALLOC_ENV)
    os.execv(sys.executable, [sys.executable, *sys.argv])
for variable, value in SINGLE_THREAD_ENV.items():
    os.environ.setdefault(variable, value)

from synthpipe.model.customers import block_count  # noqa: E402
from synthpipe.plan import PartitionTask, make_plan  # noqa: E402
from synthpipe.sink.manifest import build_manifest  # noqa: E402
from synthpipe.sink.partitions import PartitionResult, write_partition  # noqa: E402
from synthpipe.spec import Spec, load_spec  # noqa: E402
from synthpipe.storage import Location  # noqa: E402
from synthpipe.validate.units import Unit, unit_stats, units  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "configs" / "retail.yaml"


def generate(
    spec: Spec, tasks: list[PartitionTask], location: Location
) -> tuple[list[PartitionResult], dict[str, float]]:
    """Write every task; seconds per task kind."""
    results, seconds = [], {}
    for task in tasks:
        started = time.perf_counter()
        results.append(write_partition(spec, task, location))
        seconds[task.kind] = seconds.get(task.kind, 0.0) + time.perf_counter() - started
    return results, seconds


def validate(spec: Spec, work: list[Unit], location: Location) -> dict[str, float]:
    """Statistics of every unit; seconds per unit kind."""
    seconds: dict[str, float] = {}
    for unit in work:
        started = time.perf_counter()
        unit_stats(unit, spec, location)
        seconds[unit.kind] = seconds.get(unit.kind, 0.0) + time.perf_counter() - started
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--block", type=int, default=1, help="customer block to measure")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    spec = load_spec(SPEC, args.set)
    if not 0 <= args.block < block_count(spec):
        parser.error(f"--block: the spec has customer blocks 0..{block_count(spec) - 1}")
    shared = ("products", "stores")
    tasks = [t for t in make_plan(spec) if t.block == args.block or t.kind in shared]
    with tempfile.TemporaryDirectory(prefix="synthpipe-bench-") as folder:
        location = Location(folder)
        for attempt in ("first pass, one-off costs included", "second pass, steady"):
            results, generated = generate(spec, tasks, location)
            listing = build_manifest(spec, results).listing()
            work = [u for u in units(listing) if u.block == args.block]
            validated = validate(spec, work, location)
            rows = sum(r.rows for result in results for r in result.files)
            print(f"{attempt} ({rows:,} rows):")
            for kind in ("customers", "sales"):
                ratio = validated[kind] / generated[kind]
                print(
                    f"  {kind:9s} generate+write {generated[kind]:6.2f} s"
                    f"  validate {validated[kind]:6.2f} s  ratio {ratio:.2f}"
                )
            total_generated = generated["customers"] + generated["sales"]
            total_validated = validated["customers"] + validated["sales"]
            print(f"  both      ratio {total_validated / total_generated:.2f} (target 0.25)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
