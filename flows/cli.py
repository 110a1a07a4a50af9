"""The installed ``synthpipe`` command: the CLI of synthpipe with the Prefect flow plugged in."""

from __future__ import annotations

import os
import sys
from typing import Any

from synthpipe.cli import DeployRequest, RunRequest
from synthpipe.cli import main as cli_main
from synthpipe.spec import spec_document


def run_flow(request: RunRequest) -> dict[str, Any]:
    """Run the retail flow for a checked request; re-raise its failure as it happened."""
    from flows.retail import retail_flow

    state = retail_flow(
        spec=spec_document(request.spec),
        out=request.location.url,
        workers=request.workers,
        scheduler=request.scheduler,
        mode=request.mode,
        return_state=True,
    )
    result: dict[str, Any] = state.result(raise_on_failure=True)
    return result


# Prefect settings of the command unless the user set them: no telemetry (it fails
# offline and logs an error), and flow/task logs at INFO.
PREFECT_DEFAULTS = {"PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def deploy_flow(request: DeployRequest) -> str:
    """Register the retail flow's scheduled deployment (imports Prefect only now)."""
    from flows.deploy import deploy

    return deploy(request)


def main() -> None:
    """Entry point of the ``synthpipe`` console script."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    sys.exit(cli_main(runner=run_flow, deployer=deploy_flow))


if __name__ == "__main__":
    main()
