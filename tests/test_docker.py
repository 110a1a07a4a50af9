"""docker/: no engine runs here, so the compose file is checked against the repository:
it parses, builds its images from our Dockerfile the way `make install` does, and every
command, file, flag and service it names exists."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from helpers import ROOT

from synthpipe.cli import build_parser
from synthpipe.engine.workers import WORKER_MALLOC_ENV

DOCKER = ROOT / "docker"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return document


def _ours(service: dict[str, Any]) -> bool:
    return "build" in service


def test_images_are_built_from_our_dockerfile_like_make_does(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"prefect-server", "dask-scheduler", "dask-worker", "minio", "flow-run"} <= set(services)
    for name, service in services.items():
        if _ours(service):
            context = (DOCKER / service["build"]["context"]).resolve()
            assert context == ROOT, name
            assert (context / service["build"]["dockerfile"]).is_file(), name
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    install = re.search(r"RUN make (\S+)", dockerfile)
    assert install is not None
    assert re.search(rf"^{install.group(1)}:", (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_every_command_exists_and_parses(compose: dict[str, Any]) -> None:
    from distributed.cli.dask_scheduler import main as dask_scheduler
    from distributed.cli.dask_worker import main as dask_worker

    for name, service in compose["services"].items():
        if not _ours(service):
            continue
        command = service["command"]
        program = command[0]
        assert (BIN / program).exists(), f"{name}: {program} is not installed by the project"
        if program == "synthpipe":
            arguments = build_parser().parse_args(command[1:])
            assert (ROOT / arguments.spec).is_file(), arguments.spec
        elif program == "dask":
            cli = {"scheduler": dask_scheduler, "worker": dask_worker}[command[1]]
            cli.make_context(f"dask {command[1]}", list(command[2:]))  # raises on unknown flags
        elif program == "python":
            compile(command[-1], name, "exec")
        elif program == "prefect":
            assert command[1:3] == ["server", "start"]


def _hosts(value: str) -> list[tuple[str, int | None]]:
    found = []
    for url in re.findall(r"(?:tcp|http)://[^\s'\"]+", value):
        parsed = urlparse(url)
        found.append((parsed.hostname or "", parsed.port))
    return found


def test_every_address_names_a_service_on_its_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        texts = [shlex.join(service.get("command", []))]
        environment = service.get("environment") or {}
        texts += [str(v) for v in environment.values()]
        for host, port in (h for text in texts for h in _hosts(text)):
            if host in ("0.0.0.0", "127.0.0.1"):
                continue
            assert host in services, f"{name} points at {host}, which is no service"
            target = services[host]
            published = (
                shlex.join(target.get("command", [])) + " " + " ".join(target.get("ports", []))
            )
            assert str(port) in published or (host == "minio" and port == 9000), (name, host, port)
        for dependency in service.get("depends_on") or []:
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_workers_get_the_lake_and_the_allocator_settings(compose: dict[str, Any]) -> None:
    worker = compose["services"]["dask-worker"]["environment"]
    flow = compose["services"]["flow-run"]["environment"]
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        assert worker[key] == flow[key]
    for key, value in WORKER_MALLOC_ENV.items():
        assert worker[key] == value
    assert flow["PREFECT_API_URL"].startswith("http://prefect-server:4200")
