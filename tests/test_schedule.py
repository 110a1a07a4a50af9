"""Scheduled runs against a real Prefect server (`prefect server start` on loopback,
SQLite): `synthpipe deploy` registers the deployment with its cron and the spec as a
parameter, and the server's scheduler creates its runs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from helpers import ROOT, cli_environment, small_document

BIN = Path(sys.executable).parent
SCHEDULING_SECONDS = 60


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
    return subprocess.run(
        command, cwd=ROOT, env=cli_environment(api), capture_output=True, text=True, timeout=120
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
