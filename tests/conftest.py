"""Fixtures shared across the suite."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import build, small_spec

from synthpipe.spec import Spec


@pytest.fixture(scope="session")
def small() -> Spec:
    """The small test world."""
    return small_spec()


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory, small: Spec) -> Path:
    """A published dataset of the small world, built once; copy it before changing it."""
    out = tmp_path_factory.mktemp("small") / "data"
    outcome = build(small, out)
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
    return out


@pytest.fixture
def dataset_copy(small_dataset: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the small dataset, free to tamper with."""
    target = tmp_path / "data"
    shutil.copytree(small_dataset, target)
    return target


PREFECT_STARTUP_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server (`prefect server start`, SQLite, loopback) for tests that
    run the CLI in a subprocess: they use it instead of each starting an ephemeral one.
    Its scheduler looks for due deployments every second."""
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
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + PREFECT_STARTUP_SECONDS
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
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
