"""Generation alone on one core: customers/s and sales rows/s, no writing, no Dask.

Generates the partitions of one customer block of configs/retail.yaml in this process
(single-threaded BLAS), twice: the first pass pays the one-off costs a worker pays once
(Faker pools, holiday calendar, the block's customers), the second shows the steady
rate. Run as `make bench-generation`; not a test.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from synthpipe.model.partition import generate_partition  # noqa: E402
from synthpipe.plan import PartitionTask, make_plan  # noqa: E402
from synthpipe.spec import Spec, load_spec  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "configs" / "retail.yaml"


def rate(spec: Spec, tasks: list[PartitionTask]) -> tuple[dict[str, int], float]:
    """Rows per table generated for ``tasks`` and the seconds it took."""
    started = time.perf_counter()
    rows: dict[str, int] = {}
    for task in tasks:
        for name, table in generate_partition(spec, task).tables.items():
            rows[name] = rows.get(name, 0) + table.num_rows
    return rows, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--block", type=int, default=1, help="customer block to generate")
    args = parser.parse_args()
    spec = load_spec(SPEC)
    plan = make_plan(spec)
    customers = [t for t in plan if t.kind == "customers" and t.block == args.block]
    sales = [t for t in plan if t.kind == "sales" and t.block == args.block]
    for attempt in ("first pass, one-off costs included", "second pass, steady"):
        people, seconds = rate(spec, customers)
        sold, sales_seconds = rate(spec, sales)
        transactions, lines = sold["transactions"], sold["line_items"]
        print(f"{attempt}:")
        print(
            f"  customers {people['customers']:>12,} rows {seconds:6.2f} s"
            f" {people['customers'] / seconds:>12,.0f} customers/s"
        )
        print(
            f"  sales     {transactions + lines:>12,} rows {sales_seconds:6.2f} s"
            f" {transactions / sales_seconds:>12,.0f} transactions/s"
            f" {(transactions + lines) / sales_seconds:>12,.0f} rows/s with line items"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
