"""Scheduled runs against a real Prefect server (`prefect server start` on loopback,
SQLite): `synthpipe deploy` registers the deployment with its cron and the spec as a
parameter, and the server's scheduler creates its runs."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT, small_document

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 120
SCHEDULING_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    environment = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
    }
    environment.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.5)
    try:
        yield api
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)


def _deploy(api: str, tmp_path: Path, name: str, cron: str) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "spec.yaml"
    document = small_document()
    document["calendar"]["end"] = "yesterday"
    spec.write_text(yaml.safe_dump(document))
    command = [
        str(BIN / "synthpipe"),
        "deploy",
        str(spec),
        "--cron",
        cron,
        "--name",
        name,
        "--out",
        str(tmp_path / "out"),
    ]
    environment = {
        **os.environ,
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


@contextlib.contextmanager
def _client(api: str) -> Iterator[Any]:
    """A Prefect client of the server at ``api``."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        yield client


def test_deploy_registers_the_cron_and_the_spec(prefect_api: str, tmp_path: Path) -> None:
    done = _deploy(prefect_api, tmp_path, "nightly", "0 2 * * *")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "deployment synthpipe-retail/nightly registered" in done.stdout
    with _client(prefect_api) as client:
        deployment = client.read_deployment_by_name("synthpipe-retail/nightly")
    assert [s.schedule.cron for s in deployment.schedules] == ["0 2 * * *"]
    assert deployment.parameters["spec"]["seed"] == small_document()["seed"]
    assert deployment.parameters["spec"]["calendar"]["end"] == "yesterday"  # resolved per run
    assert deployment.parameters["out"] == str(tmp_path / "out")


def test_the_server_schedules_runs(prefect_api: str, tmp_path: Path) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    done = _deploy(prefect_api, tmp_path, "every-minute", "* * * * *")
    assert done.returncode == 0, done.stderr[-2000:]
    with _client(prefect_api) as client:
        deployment = client.read_deployment_by_name("synthpipe-retail/every-minute")
        only_this = DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id]))
        runs: list[Any] = []
        deadline = time.monotonic() + SCHEDULING_SECONDS
        while not runs and time.monotonic() < deadline:
            time.sleep(1)
            runs = client.read_flow_runs(deployment_filter=only_this)
    assert runs, "the scheduler created no run"
    assert all(r.state is not None and r.state.is_scheduled() for r in runs)
    starts = sorted(r.expected_start_time for r in runs if r.expected_start_time is not None)
    assert all(t.second == 0 and t.microsecond == 0 for t in starts)  # on minute boundaries
    assert runs[0].parameters["spec"]["calendar"]["end"] == "yesterday"
