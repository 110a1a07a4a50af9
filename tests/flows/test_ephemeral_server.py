"""`synthpipe run` without a Prefect API starts Prefect's temporary server early, while
it imports the flow, and Prefect's client then uses that same server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.cli import _ephemeral_server_in_background

ROOT = Path(__file__).resolve().parents[2]
SERVER_TIMEOUT_SECONDS = 240

PROBE = """
from prefect.client.orchestration import get_client
from prefect.server.api.server import SubprocessASGIServer

from flows.cli import _ephemeral_server_in_background

thread = _ephemeral_server_in_background()
assert thread is not None
thread.join()
server = SubprocessASGIServer()
assert server.running and server.server_process is not None
with get_client(sync_client=True) as client:
    assert str(client.api_url).rstrip("/") == server.api_url.rstrip("/"), client.api_url
    assert client.api_healthcheck() is None  # None: healthy
    print("reused", server.api_url)
"""


def test_a_configured_api_starts_no_server() -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert _ephemeral_server_in_background() is None


@pytest.mark.slow  # Prefect's temporary server and a whole run
def test_the_early_server_is_the_one_prefect_uses(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    environment.pop("PREFECT_API_URL", None)
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SERVER_TIMEOUT_SECONDS,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert "reused http://127.0.0.1:" in probe.stdout
    assert "starting Prefect's temporary server" in probe.stderr  # the user is told
