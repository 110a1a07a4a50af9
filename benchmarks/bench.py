"""Throughput and memory of synthpipe, side by side with its peers, in one run.

    make bench                      # default: ~100 million rows (57 million line items), all cores
    make bench ARGS="--customers 200000"

Measures, on this machine and in this one run (shared machines are noisy: compare the
ratios, not the absolute numbers):

1. synthpipe end to end (`synthpipe run` of configs/retail.yaml scaled to --customers,
   all cores), then a tenth of it, then the full size on one worker;
2. pyarrow alone writing the same tables from memory with the same settings and cores
   (the encoding bound: what generation and orchestration cost on top of writing);
3. `tpchgen-cli parquet --tables=lineitem` with as many rows, zstd, the same cores;
4. the per-row Faker approach most tutorials use, on a sample, as rows per second.

Prefect runs against a server the benchmark starts once (as a deployment would), so the
timings exclude the ephemeral server's start-up; that start-up is measured separately.
Results go to benchmarks/results/ (JSON and Markdown) and the table is printed last.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results"
SPEC = ROOT / "configs" / "retail.yaml"
DEFAULT_CUSTOMERS = 4_350_000  # about 100 million rows (57 million line items) a year
TPCH_ROWS_PER_SF = 6_001_215  # lineitem rows at scale factor 1
FAKER_SAMPLE = 5_000
MB = 1e6
POLL_SECONDS = 0.2
TARGETS = {
    "line items/s vs tpchgen-cli lineitem rows/s": 1.5,
    "end to end vs pyarrow write-only bound": 0.4,
    "peak RSS per worker (GB), both sizes": 1.5,
    "peak RSS of the client (GB)": 1.0,
    "speed-up of 2 workers over 1 (at least)": 1.8,
    "validation / generation core-seconds (at most)": 0.25,
    "orchestration share of wall time (at most)": 0.10,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """A Prefect server on loopback for the benchmark's runs."""
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


FORK_SERVER = "multiprocessing.forkserver"


def _kind(process: psutil.Process) -> str:
    """worker (a spawned process, or one forked by multiprocessing's fork server), fork
    server (which only imports and forks), or client (the command and everything else)."""
    command = " ".join(process.cmdline())
    if "spawn_main" in command:
        return "worker"
    if FORK_SERVER in command:
        parent = process.parent()
        forked = parent is not None and FORK_SERVER in " ".join(parent.cmdline())
        return "worker" if forked else "fork server"
    return "client"


class MemoryWatch:
    """Peak RSS of every process in a tree, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peaks: dict[int, tuple[str, int]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss
                    kind = _kind(process)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                if rss > self.peaks.get(process.pid, ("", 0))[1]:
                    self.peaks[process.pid] = (kind, rss)
            time.sleep(POLL_SECONDS)

    def finish(self) -> dict[str, float]:
        self.stop.set()
        self.thread.join()
        workers = [rss for kind, rss in self.peaks.values() if kind == "worker"]
        clients = [rss for kind, rss in self.peaks.values() if kind == "client"]
        return {
            "worker_peak_gb": max(workers, default=0) / 1e9,
            "client_peak_gb": max(clients, default=0) / 1e9,
        }


def run_synthpipe(api: str, out: Path, customers: int, workers: int) -> dict[str, Any]:
    """One `synthpipe run`, timed from outside, with its summary and memory."""
    summary_path = out.with_suffix(".summary.json")
    command = [
        str(BIN / "synthpipe"),
        "run",
        str(SPEC),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--set",
        f"customers.count={customers}",
        "--summary",
        str(summary_path),
    ]
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    watch = MemoryWatch(process.pid)
    output, _ = process.communicate()
    wall = time.perf_counter() - started
    memory = watch.finish()
    if process.returncode != 0:
        raise RuntimeError(f"synthpipe run failed:\n{output[-3000:]}")
    summary = json.loads(summary_path.read_text())
    manifest = json.loads((out / "_manifest.json").read_text())
    written = sum(info["bytes"] for info in manifest["files"].values())
    return {
        "wall": wall,
        "summary": summary,
        "bytes": written,
        "rows": manifest["tables"],
        **memory,
    }


def _write_share(task: tuple[list[str], str, str, dict[str, Any]]) -> tuple[float, float]:
    """In a worker process: read some files (untimed), then write them (timed) with the
    writer settings synthpipe uses for the same output spec."""
    import pyarrow.parquet as pq

    from synthpipe.formats.parquet import writer_options
    from synthpipe.spec.models import Output

    paths, root, target, output = task
    settings = Output.model_validate(output)
    tables = [(p, pq.read_table(Path(root) / p)) for p in paths]
    started = time.perf_counter()
    for relative, table in tables:
        destination = Path(target) / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, destination, **writer_options(table.schema, settings))
    return time.perf_counter() - started, float(sum(t.num_rows for _, t in tables))


def pyarrow_bound(dataset: Path, workers: int) -> dict[str, float]:
    """pyarrow alone writing the dataset's tables, already in memory, on ``workers`` cores."""
    manifest = json.loads((dataset / "_manifest.json").read_text())
    paths = sorted(manifest["files"], key=lambda p: -manifest["files"][p]["bytes"])
    shares: list[list[str]] = [[] for _ in range(workers)]
    for i, path in enumerate(paths):  # largest first, round robin: balanced shares
        shares[i % workers].append(path)
    output = manifest["spec"]["output"]
    target = Path(tempfile.mkdtemp(prefix="bound-", dir=dataset.parent))
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.map(_write_share, [(s, str(dataset), str(target), output) for s in shares])
    wall = max(seconds for seconds, _ in results)
    written = sum(p.stat().st_size for p in target.rglob("*.parquet"))
    shutil.rmtree(target)
    return {"wall": wall, "bytes": written}


def tpchgen(rows: float, workers: int, folder: Path) -> dict[str, float]:
    """tpchgen-cli lineitem with about ``rows`` rows, zstd, ``workers`` threads."""
    scale = round(rows / TPCH_ROWS_PER_SF, 2)
    command = [
        str(BIN / "tpchgen-cli"),
        "parquet",
        "-s",
        str(scale),
        "--tables",
        "lineitem",
        "--compression",
        "zstd(1)",
        "-n",
        str(workers),
        "-o",
        str(folder),
        "--overwrite",
        "-q",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    written = sum(p.stat().st_size for p in folder.rglob("*.parquet"))
    return {"wall": wall, "rows": scale * TPCH_ROWS_PER_SF, "bytes": written, "scale": scale}


def faker_per_row(count: int) -> dict[str, float]:
    """The tutorial way: one Faker call per field per row, into a DataFrame."""
    import pandas as pd
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(0)
    started = time.perf_counter()
    rows = [
        {
            "customer_id": i,
            "first_name": fake.first_name(),
            "last_name": fake.last_name(),
            "email": fake.email(),
            "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=90),
            "city": fake.city(),
            "state": fake.state(),
            "street_address": fake.street_address(),
            "postcode": fake.postcode(),
            "signup_date": fake.date_between(start_date="-5y"),
        }
        for i in range(count)
    ]
    pd.DataFrame(rows)
    return {"wall": time.perf_counter() - started, "rows": float(count)}


def ephemeral_start_up(folder: Path) -> float:
    """Seconds of an up-to-date re-run (nothing to generate) without a running Prefect
    server: almost all of it is the ephemeral server's start-up."""
    small = folder / "small"
    command = [
        str(BIN / "synthpipe"),
        "run",
        str(SPEC),
        "--out",
        str(small),
        "--workers",
        "1",
        "--set",
        "customers.count=1000",
        "--set",
        "customers.block_size=1000",
    ]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def kernel_compile_seconds(folder: Path) -> dict[str, float]:
    """Importing the compiled kernels with an empty numba cache (a machine's first run:
    they compile) and again with the cache it left (every later run: they load)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / "numba-cache")}
    command = [str(BIN / "python"), "-c", "import synthpipe.model.kernels"]
    seconds = []
    for _ in ("cold", "warm"):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        seconds.append(time.perf_counter() - started)
    return {"cold": seconds[0], "warm": seconds[1]}


def orchestration_share(result: dict[str, Any]) -> float:
    """Share of the wall time not spent computing: Prefect and Dask overhead, client-side
    bookkeeping and process start-up. Compute = busy seconds of the Dask tasks spread
    over the workers."""
    summary = result["summary"]
    busy = sum(summary.get("busy", {}).values()) / max(int(summary.get("workers", 1)), 1)
    return max(0.0, 1.0 - busy / result["wall"])


def orchestration_lines(result: dict[str, Any]) -> list[str]:
    """Where the wall time outside the Dask tasks goes: outside the flow's body (process
    start, imports, Prefect's flow-run bookkeeping, exit), and inside it."""
    summary = result["summary"]
    workers = max(int(summary.get("workers", 1)), 1)
    busy = sum(summary.get("busy", {}).values()) / workers
    outside = result["wall"] - float(summary["seconds"])
    inside = float(summary["seconds"]) - busy
    return [
        f"not in Dask tasks: {result['wall'] - busy:.1f} s of {result['wall']:.1f} s;"
        f" outside the flow's body (start-up, imports, flow-run bookkeeping, exit)"
        f" {outside:.1f} s, inside it {inside:.1f} s (cluster start, ground truth, manifest,"
        " judging the report, publishing, workers idle at the ends of the parallel stages)",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="synthpipe-bench-"))
    tenth = max(args.customers // 10, 1_000)
    print(
        f"benchmark in {scratch}: {args.customers:,} customers, {args.workers} workers", flush=True
    )
    measured: dict[str, Any] = {
        "customers": args.customers,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
    }
    try:
        with prefect_server(scratch / "prefect") as api:
            print("synthpipe, full size ...", flush=True)
            full = run_synthpipe(api, scratch / "full", args.customers, args.workers)
            print("synthpipe, a tenth ...", flush=True)
            small = run_synthpipe(api, scratch / "tenth", tenth, args.workers)
            print("synthpipe, full size on one worker ...", flush=True)
            single = run_synthpipe(api, scratch / "single", args.customers, 1)
        print("pyarrow write-only bound ...", flush=True)
        bound = pyarrow_bound(scratch / "full", args.workers)
        lines = float(full["rows"]["line_items"]["rows"])
        print("tpchgen-cli ...", flush=True)
        tpch = tpchgen(lines, args.workers, scratch / "tpch")
        print("Faker per row ...", flush=True)
        faker = faker_per_row(FAKER_SAMPLE)
        print("Prefect ephemeral start-up ...", flush=True)
        start_up = ephemeral_start_up(scratch)
        print("compiled kernels, cold and warm cache ...", flush=True)
        compile_seconds = kernel_compile_seconds(scratch)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    lines = float(full["rows"]["line_items"]["rows"])
    ratios = target_ratios(full, small, single, bound, tpch, lines)
    verdicts = {name: meets(name, value) for name, value in ratios.items()}
    measured.update(
        full=full,
        tenth=small,
        single=single,
        bound=bound,
        tpchgen=tpch,
        faker=faker,
        prefect_ephemeral_start_up_seconds=start_up,
        kernel_import_seconds=compile_seconds,
        ratios=ratios,
        verdicts=verdicts,
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(measured, indent=2, default=str))
    text = report(full, small, single, bound, tpch, faker, ratios, verdicts, start_up)
    text += (
        f"\ncompiled kernels: {compile_seconds['cold']:.2f} s to import with a cold numba cache"
        f" (they compile, once per machine), {compile_seconds['warm']:.2f} s from the cache"
    )
    (RESULTS / f"bench-{stamp}.md").write_text(text + "\n")
    print(text)
    return 0


LOWER_IS_BETTER = (
    "peak RSS per worker (GB), both sizes",
    "peak RSS of the client (GB)",
    "validation / generation core-seconds (at most)",
    "orchestration share of wall time (at most)",
)


def meets(name: str, value: float) -> bool:
    """Whether a measured ratio meets its target."""
    return value <= TARGETS[name] if name in LOWER_IS_BETTER else value >= TARGETS[name]


def _rows(result: dict[str, Any]) -> float:
    return float(sum(info["rows"] for info in result["rows"].values()))


def target_ratios(
    full: dict[str, Any],
    small: dict[str, Any],
    single: dict[str, Any],
    bound: dict[str, float],
    tpch: dict[str, float],
    lines: float,
) -> dict[str, float]:
    """The issue's targets, as ratios measured within this run."""
    busy = full["summary"]["busy"]
    return {
        "line items/s vs tpchgen-cli lineitem rows/s": (lines / full["wall"])
        / (tpch["rows"] / tpch["wall"]),
        "end to end vs pyarrow write-only bound": bound["wall"] / full["wall"],
        "peak RSS per worker (GB), both sizes": max(
            full["worker_peak_gb"], small["worker_peak_gb"]
        ),
        "peak RSS of the client (GB)": max(full["client_peak_gb"], small["client_peak_gb"]),
        "speed-up of 2 workers over 1 (at least)": single["wall"] / full["wall"],
        "validation / generation core-seconds (at most)": busy["validate"] / busy["generate"],
        "orchestration share of wall time (at most)": orchestration_share(full),
    }


def report(
    full: dict[str, Any],
    small: dict[str, Any],
    single: dict[str, Any],
    bound: dict[str, float],
    tpch: dict[str, float],
    faker: dict[str, float],
    ratios: dict[str, float],
    verdicts: dict[str, bool],
    start_up: float,
) -> str:
    """The Markdown table of runs and targets."""
    nan = float("nan")
    lines = float(full["rows"]["line_items"]["rows"])
    runs = [
        (
            "synthpipe end to end",
            _rows(full),
            lines,
            full["wall"],
            full["bytes"],
            full["worker_peak_gb"],
        ),
        (
            "synthpipe, a tenth",
            _rows(small),
            small["rows"]["line_items"]["rows"],
            small["wall"],
            small["bytes"],
            small["worker_peak_gb"],
        ),
        (
            "synthpipe end to end, 1 worker",
            _rows(single),
            lines,
            single["wall"],
            single["bytes"],
            single["worker_peak_gb"],
        ),
        ("pyarrow write-only, same tables", _rows(full), lines, bound["wall"], bound["bytes"], nan),
        (
            f"tpchgen-cli lineitem SF {tpch['scale']}",
            tpch["rows"],
            tpch["rows"],
            tpch["wall"],
            tpch["bytes"],
            nan,
        ),
        (
            f"Faker per row ({FAKER_SAMPLE:,} customers)",
            faker["rows"],
            nan,
            faker["wall"],
            nan,
            nan,
        ),
    ]
    table = [
        "| run | rows | line items | wall s | rows/s | MB/s written | peak RSS/worker GB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, count, line_count, wall, size, peak in runs:
        table.append(
            f"| {name} | {count:,.0f} | {line_count:,.0f} | {wall:.1f} | {count / wall:,.0f}"
            f" | {size / MB / wall:.1f} | {peak:.2f} |"
        )
    table += ["", "| target | measured | goal | verdict |", "|---|---:|---:|---|"]
    for name, value in ratios.items():
        verdict = "PASS" if verdicts[name] else "MISS"
        table.append(f"| {name} | {value:.2f} | {TARGETS[name]} | {verdict} |")
    summary = full["summary"]
    table += [
        "",
        f"stages of the full run (s): {json.dumps(summary['timings'])}",
        f"busy seconds (sum over workers): {json.dumps(summary.get('busy'))}",
        *orchestration_lines(full),
        f"Prefect ephemeral server start-up, paid without a running server: {start_up:.1f} s",
        f"Faker per row: {faker['rows'] / faker['wall']:,.0f} customers/s",
    ]
    return "\n".join(table)


if __name__ == "__main__":
    sys.exit(main())
