"""The installed ``synthpipe`` command: the CLI of synthpipe with the Prefect flow plugged in."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from typing import Any

from synthpipe.cli import DeployRequest, RunRequest
from synthpipe.cli import main as cli_main
from synthpipe.engine.summary import RunSummary
from synthpipe.engine.workers import start_worker_server
from synthpipe.errors import debugging
from synthpipe.secrets import externalise
from synthpipe.spec import Spec, spec_document
from synthpipe.spec.loader import STORAGE_OPTIONS


def run_flow(request: RunRequest) -> RunSummary:
    """Run the retail flow for a checked request; re-raise its failure as it happened.
    The flow's result is the summary's JSON (what Prefect records): read back here."""
    if request.scheduler is None:
        start_worker_server()  # the LocalCluster's workers import while this process does
    server = _ephemeral_server_in_background()
    from flows.retail import retail_flow  # imported while the server boots

    if server is not None:
        server.join()
    # Ctrl-C and SIGTERM never reach the flow: the command's handler (synthpipe.stopping)
    # stops the workers, the cluster and Prefect's temporary server, releases the lock and
    # exits with one line, instead of Prefect reporting the crash to a server the same
    # Ctrl-C has already stopped (which hung the command in retries).
    state = retail_flow(
        spec=flow_parameter(request.spec),
        out=request.location.url,
        workers=request.workers,
        scheduler=request.scheduler,
        mode=request.mode,
        return_state=True,
    )
    return RunSummary.model_validate(state.result(raise_on_failure=True))


def flow_parameter(spec: Spec) -> dict[str, Any]:
    """The spec as the flow's parameter, which Prefect stores: literal credentials of the
    storage options move into this process's environment (which the flow and its local
    workers read) and the parameter holds references to them."""
    document = spec_document(spec)
    options = document["output"]["storage_options"]
    document["output"]["storage_options"] = externalise(options, os.environ, STORAGE_OPTIONS)
    return document


def _ephemeral_server_in_background() -> threading.Thread | None:
    """Without a Prefect API configured, Prefect starts a temporary server on the flow's
    first client call and waits for it to answer (about 6 s on 2 cores) before the flow
    runs. Start that same server now, in a thread, so that it boots while this process
    imports the flow: Prefect keeps one such server per process, and its client finds it
    running. None when an API is configured. If the early start fails, Prefect's own
    start at the first call happens as before."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    print(
        "synthpipe: no PREFECT_API_URL set: starting Prefect's temporary server"
        " (point PREFECT_API_URL at a running server to skip this)",
        file=sys.stderr,
    )
    server = SubprocessASGIServer()
    thread = threading.Thread(
        target=_start_quietly, args=(server,), name="prefect-server-start", daemon=True
    )
    thread.start()
    return thread


def _start_quietly(server: Any) -> None:
    """Start the server; a failed early start (Prefect gives up after its own timeout on a
    loaded machine) is left to Prefect's start at the flow's first call, not printed as a
    thread's traceback."""
    with contextlib.suppress(Exception):
        server.start()


# Prefect settings of the command unless the user set them: no telemetry (it fails
# offline and logs an error), and nothing of Prefect's on the terminal (flow and task logs
# still reach the Prefect API and its UI at INFO): stdout carries the summary, stderr the
# progress and at most one error line. SYNTHPIPE_DEBUG=1 shows Prefect's console logs.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_INTERNAL_LEVEL": "CRITICAL",
}
DEBUG_PREFECT_DEFAULTS = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def deploy_flow(request: DeployRequest) -> str:
    """Register the retail flow's scheduled deployment (imports Prefect only now)."""
    from flows.deploy import deploy

    return deploy(request)


def main() -> None:
    """Entry point of the ``synthpipe`` console script."""
    for key, value in (DEBUG_PREFECT_DEFAULTS if debugging() else PREFECT_DEFAULTS).items():
        os.environ.setdefault(key, value)
    code = cli_main(runner=run_flow, deployer=deploy_flow)
    # The command is done and every file it wrote is closed. Exempt what it holds from the
    # interpreter's garbage collections at exit, which would otherwise walk every object of
    # Prefect, Dask, scipy and pandas once more (0.5-1 s of a run; atexit handlers still run).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    main()
