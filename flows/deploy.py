"""Scheduled runs: register the retail flow as a Prefect deployment with a cron schedule
(or serve it, which also executes the scheduled runs)."""

from __future__ import annotations

import json
from typing import Any

from prefect.client.schemas.schedules import CronSchedule

from flows.retail import FLOW_NAME, retail_flow
from synthpipe.cli import DeployRequest
from synthpipe.errors import InputError


def _parameters(request: DeployRequest) -> dict[str, Any]:
    # YAML dates become ISO strings; keywords such as calendar.end "yesterday" stay.
    spec = json.loads(json.dumps(request.document, default=str))
    parameters: dict[str, Any] = {"spec": spec, "mode": "refresh"}
    for key in ("out", "workers", "scheduler"):
        value = getattr(request, key)
        if value is not None:
            parameters[key] = value
    return parameters


def deploy(request: DeployRequest) -> str:
    """Register (or, with ``serve``, serve) the deployment; returns its full name."""
    try:
        CronSchedule(cron=request.cron)
    except ValueError:
        raise InputError(f"--cron {request.cron!r} is not a valid cron expression") from None
    parameters = _parameters(request)
    if request.serve:
        retail_flow.serve(name=request.name, cron=request.cron, parameters=parameters)
    else:
        deployment = retail_flow.to_deployment(
            name=request.name, cron=request.cron, parameters=parameters
        )
        deployment.apply()
    return f"{FLOW_NAME}/{request.name}"
