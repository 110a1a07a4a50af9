"""Data-lake refresh through the flow: a re-run changes nothing, extending the calendar
adds only the new periods (byte-identical to a rebuild), other changes are refused unless
overwriting, and a failed refresh leaves the previous published dataset as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import build, file_hashes, small_document, small_spec, snapshot

import synthpipe.engine.validation as validation
from flows.cli import run_flow
from flows.retail import retail_flow
from synthpipe.cli import EXIT_BAD_INPUT, EXIT_FAILURE, main
from synthpipe.engine.summary import RunSummary
from synthpipe.validate.gates import at_most

MID_FEBRUARY = {"calendar__end": "2024-02-15"}


def _run(out: Path, **changes: object) -> RunSummary:
    """Run the flow; its summary read back from the JSON it returns."""
    return RunSummary.model_validate(
        retail_flow(spec=small_document(**changes), out=str(out), workers=1)
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published small dataset up to mid-February (copied by tests that change it)."""
    out = tmp_path_factory.mktemp("refresh") / "data"
    summary = _run(out, **MID_FEBRUARY)
    assert summary.generated == 3 + 2 + 3 * 2
    return out


def _copy(source: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(source, target)
    return target


def test_rerun_of_the_same_spec_changes_nothing(published: Path, tmp_path: Path) -> None:
    out = _copy(published, tmp_path / "data")
    before = snapshot(out)
    summary = _run(out, **MID_FEBRUARY)
    assert summary.generated == 0
    assert summary.skipped == 11
    assert snapshot(out) == before  # not one byte, not one modification time


def test_extending_the_calendar_generates_only_new_periods(published: Path, tmp_path: Path) -> None:
    out = _copy(published, tmp_path / "data")
    january = {p: v for p, v in snapshot(out).items() if "month=2024-01" in p}
    summary = _run(out)  # to 2024-03-31
    assert summary.skipped == 2 + 3  # products, stores and January
    # the partial February, the new March, and the customers as of the new end (they
    # change over the calendar); January's sales and change feed keep every byte
    assert summary.generated == 3 * 2 + 3
    assert {p: v for p, v in snapshot(out).items() if "month=2024-01" in p} == january
    scratch = tmp_path / "scratch"
    build(small_spec(), scratch)
    assert file_hashes(out) == file_hashes(scratch)  # truth files included
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["files"] == json.loads((scratch / "_manifest.json").read_text())["files"]
    assert manifest["published"] is True
    assert not (out / "_staging").exists()
    made = {
        t: sum(
            i["rows"]
            for p, i in manifest["files"].items()
            if i["table"] == t and "2024-01" not in p
        )
        for t in ("transactions", "line_items")
    }
    assert summary.generated_rows is not None
    made_now = {t: summary.generated_rows[t] for t in made}
    assert made_now == made  # what this run made, not what the dataset holds


def test_other_changes_are_refused_unless_overwriting(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(published, tmp_path / "data")
    before = snapshot(out)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document(**MID_FEBRUARY)))
    changed = ["run", str(spec), "--out", str(out), "--set", "fraud.rate=0.02"]
    assert main(changed, runner=run_flow) == EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert "holds data of a different spec (`fraud.rate`: 0.03 -> 0.02)" in error
    assert "--mode overwrite" in error
    shorter = ["run", str(spec), "--out", str(out), "--set", "calendar.end=2024-02-01"]
    assert main(shorter, runner=run_flow) == EXIT_BAD_INPUT
    assert "`calendar.end` moves back from 2024-02-15 to 2024-02-01" in capsys.readouterr().err
    assert snapshot(out) == before
    fewer = ["--set", "customers.count=2000", "--mode", "overwrite", "--workers", "1"]
    assert main(["run", str(spec), "--out", str(out), *fewer], runner=run_flow) == 0
    assert not list(out.rglob("part-00002.parquet"))  # block 2 is gone with its files
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["tables"]["customers"]["rows"] == 2000
    assert set(manifest["files"]) == {str(p.relative_to(out)) for p in out.rglob("*.parquet")} - {
        str(p.relative_to(out)) for p in (out / "_truth").glob("*.parquet")
    }


def test_a_refresh_by_other_generator_versions_is_refused(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """New months made by another Faker (or numpy, holidays, synthpipe) would not match
    the kept ones: extending is refused; re-running what exists still changes nothing."""
    out = _copy(published, tmp_path / "data")
    manifest_path = out / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    current_faker = manifest["versions"]["faker"]
    manifest["versions"]["faker"] = "0.0.1"
    manifest_path.write_text(json.dumps(manifest))
    before = snapshot(out)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))  # to 2024-03-31: new months
    assert main(["run", str(spec), "--out", str(out)], runner=run_flow) == EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert f"generated by other versions (faker 0.0.1 -> {current_faker})" in error
    assert "--mode overwrite" in error
    assert snapshot(out) == before
    summary = _run(out, **MID_FEBRUARY)  # nothing to generate: nothing mixed
    assert summary.generated == 0
    assert snapshot(out) == before  # the manifest still names the versions that wrote it


def test_a_failed_refresh_leaves_the_published_dataset_intact(
    published: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _copy(published, tmp_path / "data")
    before = snapshot(out)
    real = validation.evaluate

    def failing(*args: object, **kwargs: object) -> list[object]:
        return [*real(*args, **kwargs), at_most("planted.failure", "integrity", "n", 1, 0, "fails")]  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "evaluate", failing)
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(small_document()))
    assert (
        main(["run", str(spec), "--out", str(out), "--workers", "1"], runner=run_flow)
        == EXIT_FAILURE
    )
    error = capsys.readouterr().err
    assert "planted.failure" in error
    assert "_staging/" in error  # the failed report is kept beside the staged files
    after = {p: v for p, v in snapshot(out).items() if not p.startswith("_staging/")}
    assert after == before  # previous files, manifest and _SUCCESS untouched
    staged = list((out / "_staging").rglob("report.html"))
    assert len(staged) == 1
    assert str(staged[0]) in error
    monkeypatch.setattr(validation, "evaluate", real)
    assert main(["run", str(spec), "--out", str(out), "--workers", "1"], runner=run_flow) == 0
    assert not (out / "_staging").exists()
    assert (out / "_SUCCESS").exists()
    assert (
        json.loads((out / "_manifest.json").read_text())["spec"]["calendar"]["end"] == "2024-03-31"
    )
