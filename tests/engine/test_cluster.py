"""An existing Dask cluster (`dask scheduler` and two `dask worker` processes on
loopback): the output is byte-identical to a local build, and a worker killed mid-run
loses nothing (Dask reruns its partitions elsewhere)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, build, cli_environment, file_hashes, small_document, small_spec

BIN = Path(sys.executable).parent
CHANGES = {
    "customers__count": 30_000,
    "customers__block_size": 5_000,
    "calendar__end": "2024-06-30",
}
KILL_AFTER_FILES = 6
TIMEOUT_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def _start(arguments: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "dask"), *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the nanny and its worker die together
    )


@pytest.fixture
def cluster() -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
    _wait_for_port(port)
    worker_arguments = [
        "worker",
        address,
        "--nthreads",
        "1",
        "--no-dashboard",
        "--host",
        "127.0.0.1",
    ]
    workers = [_start(worker_arguments) for _ in range(2)]
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)
    try:
        yield address, workers
    finally:
        for process in (*workers, scheduler):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _command(spec: Path, out: Path, address: str) -> list[str]:
    return [str(BIN / "synthpipe"), "run", str(spec), "--out", str(out), "--scheduler", address]


@pytest.mark.slow  # a cluster of its own and a run
def test_run_on_an_existing_cluster_matches_a_local_build(
    cluster: tuple[str, list[subprocess.Popen[bytes]]], tmp_path: Path, prefect_api: str
) -> None:
    address, _ = cluster
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    out = tmp_path / "data"
    done = subprocess.run(
        _command(spec, out, address),
        cwd=ROOT,
        env=cli_environment(prefect_api),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "_SUCCESS").exists()
    reference = tmp_path / "reference"
    build(small_spec(), reference)
    assert file_hashes(out) == file_hashes(reference)


@pytest.mark.slow  # a cluster of its own and a run; fault injection
def test_a_worker_killed_mid_run_loses_nothing(
    cluster: tuple[str, list[subprocess.Popen[bytes]]], tmp_path: Path, prefect_api: str
) -> None:
    address, workers = cluster
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**CHANGES)))
    out = tmp_path / "data"
    run = subprocess.Popen(
        _command(spec, out, address),
        cwd=ROOT,
        env=cli_environment(prefect_api),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + TIMEOUT_SECONDS
    sales = out / "transactions"
    while time.monotonic() < deadline and run.poll() is None:
        if sales.exists() and len(list(sales.rglob("*.parquet"))) >= KILL_AFTER_FILES:
            break
        time.sleep(0.05)
    assert run.poll() is None, "the run finished before a worker could be killed"
    os.killpg(workers[0].pid, signal.SIGKILL)
    _, errors = run.communicate(timeout=TIMEOUT_SECONDS)
    assert run.returncode == 0, errors[-2000:]
    assert workers[0].wait() != 0
    reference = tmp_path / "reference"
    build(small_spec(**CHANGES), reference)
    assert file_hashes(out) == file_hashes(reference)


DASK_DASHBOARD_PORT = 8787  # where Dask's scheduler serves HTTP unless told otherwise


def test_another_cluster_on_the_dashboard_port_brings_no_warning(
    recwarn: pytest.WarningsRecorder, capfd: pytest.CaptureFixture[str]
) -> None:
    """Before: with port 8787 taken (another Dask cluster on the host), the embedded
    cluster's scheduler printed Dask's 4-line `Port 8787 is already in use` warning."""
    from synthpipe.engine.cluster import dask_client

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("127.0.0.1", DASK_DASHBOARD_PORT))
            taken.listen()
        except OSError:
            pytest.skip("port 8787 is in use here already")
        with dask_client(workers=1) as client:
            assert client.submit(sum, [1, 2]).result() == 3
    assert not [w for w in recwarn if "already in use" in str(w.message)]
    assert "already in use" not in capfd.readouterr().err
