"""Delta Lake output through the flow: one commit per table per run, an up-to-date re-run
commits nothing, an extended calendar is one commit that adds the new months and
replaces the partial one, older versions stay readable, three readers agree, and the
data files hold the same bytes as the Parquet format's."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
import yaml
from deltalake import DeltaTable
from helpers import (
    ROOT,
    build,
    cli_environment,
    file_hashes,
    small_document,
    small_spec,
    snapshot,
)

import synthpipe.engine.validation as validation
from flows.cli import run_flow
from flows.retail import retail_flow
from synthpipe.cli import EXIT_FAILURE, main
from synthpipe.engine.summary import RunSummary
from synthpipe.formats.delta import APP_ID
from synthpipe.validate.gates import at_most
from synthpipe.vocabulary import FACT_TABLES, IDENTITY_TABLES, TABLES

# what an extended calendar changes: the sales, the feed, and the customers as of its end
# a customers task also rewrites its block's identity tables (files named by the as-of day)
EXTENDED = {"customers", "customer_history", "customer_changes", *FACT_TABLES, *IDENTITY_TABLES}

DELTA = {"output__format": "delta"}
MID_FEBRUARY = {"calendar__end": "2024-02-15", **DELTA}
TAG = re.compile(r"-[0-9a-f]{16}(?=\.parquet$)")
SUMMED = {"transactions": "amount", "line_items": "quantity"}


def _run(out: Path, **changes: object) -> RunSummary:
    """Run the flow; its summary read back from the JSON it returns."""
    return RunSummary.model_validate(
        retail_flow(spec=small_document(**changes), out=str(out), workers=1)
    )


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "_manifest.json").read_text())  # type: ignore[no-any-return]


def _versions(out: Path) -> dict[str, int]:
    return {table: DeltaTable(str(out / table)).version() for table in TABLES}


def _current_files(out: Path, table: str, version: int | None = None) -> set[str]:
    found = DeltaTable(str(out / table), version=version).file_uris()
    return {str(Path(uri).relative_to(out)) for uri in found}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Delta dataset up to mid-February (copied by tests that change it)."""
    out = tmp_path_factory.mktemp("delta") / "data"
    _run(out, **MID_FEBRUARY)
    return out


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_first_run_commits_each_table_once_with_the_runs_identity(published: Path) -> None:
    manifest = _manifest(published)
    assert manifest["published"] is True
    assert manifest["run"] == 1
    assert _versions(published) == dict.fromkeys(TABLES, 0)
    assert not (published / "_SUCCESS").exists()  # the commits are the publish step
    for table in TABLES:
        delta = DeltaTable(str(published / table))
        assert delta.transaction_version(APP_ID) == 1
        info = delta.history(1)[0]
        assert info["synthpipe.run"] == 1
        assert info["synthpipe.spec_sha256"] == manifest["spec_sha256"]
        assert info["synthpipe.rows"] == manifest["tables"][table]["rows"]
        assert info["synthpipe.report"].startswith("fidelity report: PASS")
        listed = {p for p, e in manifest["files"].items() if e["table"] == table}
        assert _current_files(published, table) == listed
    protocol = DeltaTable(str(published / "transactions")).protocol()
    # naive local timestamps are Delta's timestamp_ntz (docs/lakehouse.md)
    assert (protocol.min_reader_version, protocol.min_writer_version) == (3, 7)
    assert protocol.reader_features == ["timestampNtz"]


def test_delta_files_hold_the_bytes_the_parquet_format_writes(
    published: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "parquet"
    build(small_spec(calendar__end="2024-02-15"), reference, validate=False)
    untagged = {TAG.sub("", path): digest for path, digest in file_hashes(published).items()}
    assert untagged == file_hashes(reference)


def test_pyarrow_polars_and_deltalake_read_the_same_rows_and_sums(published: Path) -> None:
    manifest = _manifest(published)
    for table in FACT_TABLES:
        root = published / table
        delta = DeltaTable(str(root))
        own = pa.table(delta.to_pyarrow_dataset().to_table())
        files = sorted(_current_files(published, table))
        plain = ds.dataset(
            [str(published / f) for f in files], partitioning="hive", partition_base_dir=str(root)
        ).to_table()
        frame = pl.read_delta(str(root))
        rows = manifest["tables"][table]["rows"]
        assert own.num_rows == plain.num_rows == frame.height == rows
        column = SUMMED[table]
        total = pc.sum(own[column]).as_py()
        assert pc.sum(plain[column]).as_py() == total
        assert frame[column].sum() == total
        months = sorted(set(frame["month"].to_list()))
        assert months == ["2024-01", "2024-02"]


def test_a_rerun_with_nothing_to_add_makes_no_commit(published: Path, tmp_path: Path) -> None:
    out = _copy(published, tmp_path / "data")
    before = snapshot(out)
    summary = _run(out, **MID_FEBRUARY)
    assert summary.generated == 0
    assert snapshot(out) == before  # no log entry, no file, no manifest change


def test_extending_the_calendar_is_one_commit_and_the_old_version_stays(
    published: Path, tmp_path: Path
) -> None:
    out = _copy(published, tmp_path / "data")
    first = _manifest(out)
    summary = _run(out, **DELTA)  # to 2024-03-31
    # the partial February, the new March, and the customers as of the new end
    assert summary.generated == 3 * 2 + 3
    facts_moved = {t: int(t in EXTENDED) for t in TABLES}
    assert _versions(out) == facts_moved  # the dimensions did not change: no commit
    manifest = _manifest(out)
    assert manifest["run"] == 2
    scratch = tmp_path / "scratch"
    _run(scratch, **DELTA)
    for table in EXTENDED:
        assert _current_files(out, table) == _current_files(scratch, table)
        assert DeltaTable(str(out / table)).transaction_version(APP_ID) == 2
        old = {p for p, e in first["files"].items() if e["table"] == table}
        assert _current_files(out, table, version=0) == old  # time travel
        assert all((out / p).exists() for p in old)  # replaced files stay for version 0
        previous = DeltaTable(str(out / table), version=0).to_pyarrow_dataset().count_rows()
        assert previous == first["tables"][table]["rows"]
    assert file_hashes(out / "_truth") == file_hashes(scratch / "_truth")


def test_a_failed_refresh_commits_nothing(
    published: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _copy(published, tmp_path / "data")
    logs = {p: v for p, v in snapshot(out).items() if "_delta_log" in p}
    real = validation.evaluate

    def failing(*args: object, **kwargs: object) -> list[object]:
        return [*real(*args, **kwargs), at_most("planted.failure", "integrity", "n", 1, 0, "fails")]  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "evaluate", failing)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**DELTA)))
    run = ["run", str(spec), "--out", str(out), "--workers", "1"]
    assert main(run, runner=run_flow) == EXIT_FAILURE
    assert "planted.failure" in capsys.readouterr().err
    assert {p: v for p, v in snapshot(out).items() if "_delta_log" in p} == logs
    assert _versions(out) == dict.fromkeys(TABLES, 0)
    monkeypatch.setattr(validation, "evaluate", real)
    assert main(run, runner=run_flow) == 0
    assert _versions(out)["transactions"] == 1


# A `synthpipe run` that SIGKILLs its whole process group at a chosen moment of the flow
# (the patched function runs in the flow's process): after the workers wrote the run's
# files, or after the first commit (customer_changes: the tables commit in name order),
# before the commits of the other tables.
KILLER = """
import os, signal, sys
import flows.retail
import synthpipe.formats.delta as delta

moment = sys.argv.pop(1)
if moment == "written":
    real_generate = flows.retail.generate

    def generate_then_die(*args, **kwargs):
        real_generate(*args, **kwargs)
        os.killpg(0, signal.SIGKILL)

    flows.retail.generate = generate_then_die
else:
    real_commit = delta.commit_table
    committed = []

    def commit_then_die(*args, **kwargs):
        committed.append(real_commit(*args, **kwargs))
        if any(committed):
            os.killpg(0, signal.SIGKILL)
        return committed[-1]

    delta.commit_table = commit_then_die
from flows.cli import main
main()
"""
KILL_DEADLINE_SECONDS = 180


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, published: Path) -> Path:
    """The published dataset extended to the end of March by an uninterrupted run."""
    out = _copy(published, tmp_path_factory.mktemp("delta-extended") / "data")
    _run(out, **DELTA)
    return out


@pytest.mark.parametrize(
    "moment",
    [pytest.param(m, marks=pytest.mark.slow) for m in ("written", "committing")],  # both slow
)
def test_a_refresh_killed_while_writing_or_committing_is_completed_by_the_next_run(
    moment: str, published: Path, uninterrupted: Path, tmp_path: Path, prefect_api: str
) -> None:
    out = _copy(published, tmp_path / "data")
    first = _manifest(out)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**DELTA)))
    command = ["run", str(spec), "--out", str(out), "--workers", "1"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, moment, *command],
        cwd=ROOT,
        env=cli_environment(prefect_api),
        capture_output=True,
        start_new_session=True,
        timeout=KILL_DEADLINE_SECONDS,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    for table in TABLES:  # each table reads as one whole version: the old one or the new
        current = _current_files(out, table)
        old = {p for p, e in first["files"].items() if e["table"] == table}
        assert current in (old, _current_files(uninterrupted, table))
    if moment == "written":
        assert _versions(out) == dict.fromkeys(TABLES, 0)
    else:
        assert _versions(out) == {t: int(t == "customer_changes") for t in TABLES}
    assert _manifest(out) == first  # the published manifest is the old one
    done = subprocess.run(
        [str(Path(sys.executable).with_name("synthpipe")), *command],
        cwd=ROOT,
        env=cli_environment(prefect_api),
        capture_output=True,
        text=True,
        timeout=KILL_DEADLINE_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for table in TABLES:
        assert _current_files(out, table) == _current_files(uninterrupted, table)
        version = DeltaTable(str(out / table)).version()
        assert version == _versions(uninterrupted)[table]  # one commit, not two
    assert _manifest(out)["files"] == _manifest(uninterrupted)["files"]
    assert not (out / "_staging").exists()
