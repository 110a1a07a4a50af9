"""Apache Iceberg output through the flow, in one dataset's life (Iceberg metadata holds
absolute paths, so a dataset cannot be copied for each test): one snapshot per table per
run, none when up to date, one per refresh with the previous snapshot readable, pyarrow,
Polars and pyiceberg agreeing; and a run killed between table commits completed by the
next one."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
import yaml
from helpers import ROOT, cli_environment, small_document, snapshot
from pyiceberg.catalog.sql import SqlCatalog

from flows.retail import retail_flow
from synthpipe.engine.summary import RunSummary
from synthpipe.formats.iceberg import CATALOG_FILE, CATALOG_NAME, DEFAULT_NAMESPACE
from synthpipe.vocabulary import FACT_TABLES, IDENTITY_TABLES, TABLES

# what an extended calendar changes: the sales, the feed, and the customers as of its end
# a customers task also rewrites its block's identity tables (files named by the as-of day)
EXTENDED = {"customers", "customer_history", "customer_changes", *FACT_TABLES, *IDENTITY_TABLES}

ICEBERG = {"output__format": "iceberg"}
MID_FEBRUARY = {"calendar__end": "2024-02-15", **ICEBERG}
SUMMED = {"transactions": "amount", "line_items": "quantity"}
KILL_DEADLINE_SECONDS = 180


def _run(out: Path, **changes: object) -> RunSummary:
    """Run the flow; its summary read back from the JSON it returns."""
    return RunSummary.model_validate(
        retail_flow(spec=small_document(**changes), out=str(out), workers=1)
    )


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "_manifest.json").read_text())  # type: ignore[no-any-return]


def _catalog(out: Path) -> SqlCatalog:
    return SqlCatalog(CATALOG_NAME, uri=f"sqlite:///{out / CATALOG_FILE}")


def _table(out: Path, table: str) -> Any:
    return _catalog(out).load_table((DEFAULT_NAMESPACE, table))


def _snapshots(out: Path) -> dict[str, int]:
    return {t: len(_table(out, t).snapshots()) for t in TABLES}


def _files(out: Path, table: str, snapshot_id: int | None = None) -> set[str]:
    scan = _table(out, table).scan(snapshot_id=snapshot_id)
    return {
        str(Path(t.file.file_path.removeprefix("file://")).relative_to(out))
        for t in scan.plan_files()
    }


def _listed(manifest: dict[str, Any], table: str) -> set[str]:
    return {p for p, e in manifest["files"].items() if e["table"] == table}


def test_an_iceberg_dataset_through_run_rerun_refresh_and_time_travel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLARS_ICEBERG_PLANNER", "pyiceberg")  # no polars_iceberg here
    out = tmp_path / "data"
    _run(out, **MID_FEBRUARY)
    first = _manifest(out)
    assert first["published"] is True
    assert _snapshots(out) == dict.fromkeys(TABLES, 1)
    for table in TABLES:
        assert _files(out, table) == _listed(first, table)
        summary = _table(out, table).current_snapshot().summary
        assert summary["synthpipe.run"] == "1"
        assert summary["synthpipe.spec_sha256"] == first["spec_sha256"]
        assert summary["synthpipe.report"].startswith("fidelity report: PASS")
    assert [f.name for f in _table(out, "transactions").spec().fields] == ["month"]

    before = snapshot(out)
    assert _run(out, **MID_FEBRUARY).generated == 0
    assert snapshot(out) == before  # no snapshot, no metadata file, no catalog write

    summary = _run(out, **ICEBERG)  # to the end of March
    assert summary.generated == 3 * 2 + 3  # sales of February and March, customers
    assert _snapshots(out) == {t: 2 if t in EXTENDED else 1 for t in TABLES}
    manifest = _manifest(out)
    for table in EXTENDED:
        iceberg = _table(out, table)
        assert _files(out, table) == _listed(manifest, table)
        oldest = iceberg.snapshots()[0].snapshot_id
        assert _files(out, table, oldest) == _listed(first, table)  # time travel
        assert (
            iceberg.scan(snapshot_id=oldest).to_arrow().num_rows == first["tables"][table]["rows"]
        )
        own = iceberg.scan().to_arrow()
        plain = ds.dataset(sorted(str(out / f) for f in _files(out, table))).to_table()
        frame = pl.scan_iceberg(iceberg).collect()
        rows = manifest["tables"][table]["rows"]
        assert own.num_rows == plain.num_rows == frame.height == rows
        if table in SUMMED:
            column = SUMMED[table]
            total = pc.sum(own[column]).as_py()
            assert pc.sum(plain[column]).as_py() == total
            assert frame[column].sum() == total


KILLER = """
import os, signal, sys
import synthpipe.formats.iceberg as iceberg

real_commit = iceberg.commit_table
committed = []

def commit_then_die(*args, **kwargs):
    committed.append(real_commit(*args, **kwargs))
    if any(committed):
        os.killpg(0, signal.SIGKILL)
    return committed[-1]

iceberg.commit_table = commit_then_die
from flows.cli import main
main()
"""


@pytest.mark.slow  # Delta's twin runs in make test; this one in make test-all
def test_a_refresh_killed_between_table_commits_is_completed_by_the_next_run(
    tmp_path: Path, prefect_api: str
) -> None:
    out = tmp_path / "data"
    _run(out, **MID_FEBRUARY)
    first = _manifest(out)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**ICEBERG)))
    command = ["run", str(spec), "--out", str(out), "--workers", "1"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, *command],
        cwd=ROOT,
        env=cli_environment(prefect_api),
        capture_output=True,
        start_new_session=True,
        timeout=KILL_DEADLINE_SECONDS,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # tables commit in name order: customer_changes has its second snapshot, transactions
    # still reads as the first run left it
    assert _snapshots(out) == {t: 1 + (t == "customer_changes") for t in TABLES}
    assert _files(out, "transactions") == _listed(first, "transactions")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("synthpipe")), *command],
        cwd=ROOT,
        env=cli_environment(prefect_api),
        capture_output=True,
        text=True,
        timeout=KILL_DEADLINE_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _snapshots(out) == {t: 2 if t in EXTENDED else 1 for t in TABLES}  # no repeat
    manifest = _manifest(out)
    for table in TABLES:
        assert _files(out, table) == _listed(manifest, table)
