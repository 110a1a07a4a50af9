"""Credentials never reach anything written down: the manifest, the report, the ground
truth, Prefect's flow-run parameters and logs, or an error message. References to the
environment are resolved only where the store is opened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import small_document
from prefect import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)

from flows.cli import run_flow
from synthpipe.cli import EXIT_BAD_INPUT, EXIT_OK, main
from synthpipe.secrets import REDACTED

SECRET = "SHOULD_NOT_LEAK_0f3c"
ACCESS_KEY = "AKIAFAKEFAKEFAKE1234"  # the shape of an AWS access key id, under no secret name
OPTIONS = {"secret": SECRET, "key": "AKIA_named_key", "client_kwargs": {"region_tag": ACCESS_KEY}}


def _spec_file(tmp_path: Path, options: dict[str, object]) -> Path:
    document = small_document(**{"customers.count": 1_000, "calendar.end": "2024-01-31"})
    document["output"] = {"storage_options": options}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _every_byte_below(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_literal_credentials_are_used_but_never_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "data"
    code = main(["run", str(_spec_file(tmp_path, OPTIONS)), "--out", str(out)], runner=run_flow)
    captured = capsys.readouterr()
    assert code == EXIT_OK, captured.err
    assert (out / "_SUCCESS").exists()
    written = _every_byte_below(out)
    for value in (SECRET, "AKIA_named_key", ACCESS_KEY):
        assert value.encode() not in written
        assert value not in captured.out + captured.err
    manifest = json.loads((out / "_manifest.json").read_text())
    recorded = manifest["spec"]["output"]["storage_options"]
    # the flow got references to the process environment, and the manifest redacts them
    assert recorded == {
        "secret": REDACTED,
        "key": REDACTED,
        "client_kwargs": {"region_tag": REDACTED},
    }
    assert b"SYNTHPIPE_CREDENTIAL_" not in written
    with get_client(sync_client=True) as client:
        [flow_run] = client.read_flow_runs(sort="START_TIME_DESC", limit=1)
        again = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
        )
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
        )
    parameters = json.dumps(again[0].parameters)
    assert "storage_options" in parameters
    for value in (SECRET, "AKIA_named_key", ACCESS_KEY):
        assert value not in parameters
        assert all(value not in log.message for log in logs)
    # a second run with the same literal credentials finds the dataset up to date
    code = main(["run", str(_spec_file(tmp_path, OPTIONS)), "--out", str(out)], runner=run_flow)
    assert code == EXIT_OK
    assert "up to date" in capsys.readouterr().out


def test_references_resolve_from_the_environment_only_where_the_store_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from synthpipe.sink.output import output_location
    from synthpipe.spec import load_spec

    spec_path = _spec_file(tmp_path, {"secret": "${env:SYNTHPIPE_TEST_SECRET}"})
    monkeypatch.delenv("SYNTHPIPE_TEST_SECRET", raising=False)
    code = main(["run", str(spec_path), "--out", str(tmp_path / "data")], runner=run_flow)
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "synthpipe: error: `output.storage_options.secret` names the environment variable"
        " SYNTHPIPE_TEST_SECRET, which is not set"
    ]
    assert not (tmp_path / "data").exists()
    monkeypatch.setenv("SYNTHPIPE_TEST_SECRET", SECRET)
    spec = load_spec(spec_path)
    assert spec.output.storage_options == {"secret": "${env:SYNTHPIPE_TEST_SECRET}"}
    assert output_location(spec, str(tmp_path)).options == {"secret": SECRET}


def test_a_deployment_refuses_literal_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(_request: object) -> str:
        raise AssertionError("the deployer must not be reached")

    code = main(
        [
            "deploy",
            str(_spec_file(tmp_path, {"secret": SECRET})),
            "--name",
            "n",
            "--cron",
            "0 2 * * *",
        ],
        deployer=never,
    )
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "`output.storage_options.secret` holds a credential" in err
    assert SECRET not in err


@pytest.mark.parametrize(
    "override",
    [
        f"output.storage_options={{secret: {SECRET}, key: [",  # not YAML
        f"output.storage_options={SECRET}",  # not a mapping
    ],
)
def test_errors_never_echo_storage_options(
    tmp_path: Path, override: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", str(_spec_file(tmp_path, {})), "--set", override])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "output.storage_options" in err
    assert SECRET not in err
