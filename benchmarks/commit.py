"""What a table format's commit costs at many files: one table of N small Parquet files
(monthly folders, like the transactions), committed by the Delta and the Iceberg format,
then a second commit that replaces one file (a refresh's partial month) and an up-to-date
one (nothing to do). Run as `make bench-commit ARGS="--files 4000"`; not a test.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from synthpipe.formats import output_format
from synthpipe.formats.base import Release, TableRelease
from synthpipe.storage import Location

ROWS_PER_FILE = 1_000
TABLE = "transactions"
REPLACEMENT_TAG = "f" * 16
FILE_SCHEMA = pa.schema(
    [pa.field("transaction_id", pa.int64(), False), pa.field("ts", pa.timestamp("us"), False)]
)


def _files(root: Path, count: int) -> list[str]:
    """``count`` small files in month folders, named as a table format names them."""
    names = []
    for index in range(count):
        month = f"20{10 + index // 1200:02d}-{1 + index // 100 % 12:02d}"
        relative = f"month={month}/part-{index % 100:05d}-{index:016x}.parquet"
        path = root / TABLE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        ids = pa.array(range(index * ROWS_PER_FILE, (index + 1) * ROWS_PER_FILE), pa.int64())
        ts = pa.array([index * 1_000_000] * ROWS_PER_FILE, pa.timestamp("us"))
        pq.write_table(pa.table({"transaction_id": ids, "ts": ts}, schema=FILE_SCHEMA), path)
        names.append(relative)
    return names


def _release(files: list[str], run: int) -> Release:
    schema = pa.schema(
        [
            pa.field("transaction_id", pa.int64(), False),
            pa.field("ts", pa.timestamp("us"), False),
            pa.field("month", pa.string(), False),
        ]
    )
    table = TableRelease(tuple(files), schema, ("month",), "ts")
    return Release({TABLE: table}, run, {"spec_sha256": "bench"})


def measure(name: str, count: int) -> dict[str, float]:
    """Seconds of the first commit, a one-file replacement and an up-to-date publish."""
    root = Path(tempfile.mkdtemp(prefix=f"commit-{name}-"))
    try:
        files = _files(root, count)
        location = Location(str(root))
        fmt = output_format(name)
        timings = {}
        started = time.perf_counter()
        fmt.publish(location, _release(files, 1))
        timings["first"] = time.perf_counter() - started
        last = files[-1]
        new = last.rsplit("-", 1)[0] + f"-{REPLACEMENT_TAG}.parquet"
        shutil.copyfile(root / TABLE / last, root / TABLE / new)  # a refreshed partial month
        replaced = [*files[:-1], new]
        started = time.perf_counter()
        fmt.publish(location, _release(replaced, 2))
        timings["replace_one"] = time.perf_counter() - started
        started = time.perf_counter()
        fmt.publish(location, _release(replaced, 3))
        timings["up_to_date"] = time.perf_counter() - started
        return timings
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Print the commit timings of each table format."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=4_000)
    args = parser.parse_args()
    print("| format | files | first commit s | replace one file s | up to date s |")
    print("|---|---|---|---|---|")
    for name in ("delta", "iceberg"):
        t = measure(name, args.files)
        print(
            f"| {name} | {args.files:,} | {t['first']:.2f} | {t['replace_one']:.2f}"
            f" | {t['up_to_date']:.2f} |"
        )


if __name__ == "__main__":
    main()
