"""The command-line contract: exit 2 and one clear line for bad input, no traceback, and
an existing output folder left exactly as it was; `plan` prints the partitions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, small_document, snapshot

from synthpipe.cli import EXIT_BAD_INPUT, main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, small_dataset: Path) -> Path:
    """A folder with a good spec, bad specs, an existing dataset and a few traps."""
    root = tmp_path_factory.mktemp("cli")
    (root / "good.yaml").write_text(yaml.safe_dump(small_document()))
    (root / "invalid.yaml").write_text("seed: [1\ncalendar: {\n")
    (root / "list.yaml").write_text("- 1\n- 2\n")
    (root / "empty.yaml").write_text("")
    (root / "duplicate.yaml").write_text(yaml.safe_dump(small_document()) + "seed: 2\n")
    (root / "unknown.yaml").write_text(yaml.safe_dump(dict(small_document(), colour="blue")))
    impossible = small_document()
    impossible["calendar"]["start"] = "2024-02-30"
    (root / "impossible_date.yaml").write_text(
        yaml.safe_dump(impossible).replace("'2024-02-30'", "2024-02-30")  # a bare YAML date
    )
    (root / "a_file.txt").write_text("not a folder")
    (root / "stuff").mkdir()
    (root / "stuff" / "notes.txt").write_text("someone's files")
    shutil.copytree(small_dataset, root / "existing")
    return root


def cases(root: Path) -> list[tuple[list[str], str]]:
    """(arguments, fragment of the one-line message) for every malformed input."""
    good, out = str(root / "good.yaml"), ["--out", str(root / "existing")]
    return [
        (["run", str(root / "missing.yaml"), *out], "does not exist"),
        (["run", str(root), *out], "is not a file"),
        (["run", str(root / "invalid.yaml"), *out], "is not valid YAML at line"),
        (["run", str(root / "list.yaml"), *out], "must be a YAML mapping, got list"),
        (["run", str(root / "empty.yaml"), *out], "is empty"),
        (["run", str(root / "duplicate.yaml"), *out], "duplicate key `seed` (first given at line"),
        (["run", str(root / "unknown.yaml"), *out], "`colour` is not a known field"),
        (["run", good, *out, "--set", "fraud.rate=2"], "`fraud.rate` must be at most 0.5, got 2"),
        (["run", good, *out, "--set", "fraud.rate"], "--set expects KEY=VALUE"),
        (["run", good, *out, "--set", "fraud.ratio=0.1"], "`fraud.ratio` is not a known field"),
        (["run", good, *out, "--set", "customers.count=abc"], "`customers.count`"),
        (
            ["run", good, *out, "--set", "calendar.end=2020-01-01"],
            "must not be before `calendar.start`",
        ),
        (["run", good, *out, "--set", "calendar.country=ZZ"], "`calendar.country` must be one of"),
        (
            ["run", good, *out, "--set", "customers.locales={zz_ZZ: 1}"],
            "unknown Faker locale 'zz_ZZ'",
        ),
        (["run", good, *out, "--set", "products.count=2"], "`products.count` must be at least"),
        (
            ["run", good, *out, "--set", "sales.weekday=[1, 2]"],
            "`sales.weekday` must have exactly 7",
        ),
        (["run", good, *out, "--set", "seed=-1"], "`seed` must be at least 0, got -1"),
        (
            ["run", good, *out, "--set", "sales.weekday=[1, 1, 1, 1, 1, 1, .inf]"],
            "`sales.weekday.6`: input should be a finite number, got Infinity",
        ),
        (["run", good, *out, "--set", "fraud.rate=.nan"], "`fraud.rate`: input should be a finite"),
        (
            ["run", good, *out, "--set", "customers.count=yes"],
            "`customers.count` is the YAML boolean true: write a number, or put text in quotes",
        ),
        (
            ["run", good, *out, "--set", "calendar.country=NO"],
            "`calendar.country` is the YAML bool",
        ),
        (
            ["run", good, *out, "--set", "calendar.start=2024-13-01"],
            "`calendar.start`: input should be a valid date",
        ),
        (
            ["run", str(root / "impossible_date.yaml"), *out],
            "`calendar.start`: input should be a valid date or datetime, day value is outside",
        ),
        (["run", good, *out, "--workers", "0"], "--workers must be between 1 and"),
        (["run", good, *out, "--workers", "many"], "--workers must be a whole number"),
        (
            ["run", good, *out, "--scheduler", "localhost:8786"],
            "--scheduler must look like tcp://HOST:PORT",
        ),
        (["run", good, *out, "--mode", "sideways"], "argument --mode: invalid choice"),
        (["run", good, *out, "--colour"], "unrecognized arguments: --colour"),
        (["run", good, "--out", str(root / "a_file.txt")], "is a file, not a folder"),
        (["run", good, "--out", str(root / "a_file.txt" / "data")], "is below a file"),
        (
            ["run", good, "--out", str(root / "stuff")],
            "non-empty folder without a synthpipe dataset",
        ),
        ([], "the following arguments are required: command"),
        (["explode"], "invalid choice: 'explode'"),
        (
            ["plan", good, "--set", "customers.block_size=5"],
            "`customers.block_size` must be at least 1000",
        ),
        (["validate", str(root / "stuff")], "holds no synthpipe dataset (_manifest.json missing)"),
        (["validate", str(root / "nowhere")], "does not exist"),
        (
            ["validate", str(root / "existing"), "--reference", str(root / "missing.csv")],
            "is not a file",
        ),
    ]


def test_bad_input_exits_2_with_one_line_and_touches_nothing(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(workspace / "existing")
    all_cases = cases(workspace)
    assert len(all_cases) >= 20
    for arguments, fragment in all_cases:
        code = main(arguments)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert code == EXIT_BAD_INPUT, (arguments, captured.err)
        assert len(lines) == 1, (arguments, captured.err)
        assert lines[0].startswith("synthpipe: error: "), lines
        assert fragment in lines[0], (arguments, lines[0])
        assert "Traceback" not in captured.err
        assert captured.out == ""
        assert snapshot(workspace / "existing") == before, arguments
    assert not (workspace / "a_file.txt").is_dir()
    assert [p.name for p in (workspace / "stuff").iterdir()] == ["notes.txt"]


def _synthpipe() -> str:
    return str(Path(sys.executable).with_name("synthpipe"))


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (
            ["run", "configs/retail.yaml", "--set", "fraud.rate=2"],
            "`fraud.rate` must be at most 0.5, got 2",
        ),
        (["run", "configs/missing.yaml"], "does not exist"),
        (["run", "configs/retail.yaml", "--workers", "-2"], "--workers must be between"),
        (
            ["deploy", "configs/retail.yaml", "--cron", "61 2 * * *"],
            "--cron '61 2 * * *' is not a valid cron expression",
        ),
        (["deploy", "configs/retail.yaml", "--cron", "0 2 * * *", "--name", " "], "not be empty"),
        (
            ["deploy", "configs/retail.yaml", "--cron", "0 2 * * *", "--name", "a/b"],
            "--name must not contain / (Prefect refuses it)",
        ),
    ],
)
def test_the_installed_command_keeps_the_contract(arguments: list[str], fragment: str) -> None:
    done = subprocess.run(
        [_synthpipe(), *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_prints_partitions_and_expected_rows(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", str(workspace / "good.yaml"), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    kinds = [p["kind"] for p in plan]
    assert kinds.count("sales") == 3 * 3
    assert kinds.count("customers") == 3
    sales = [p for p in plan if p["kind"] == "sales"]
    assert sales[0]["files"] == {
        "transactions": "transactions/month=2024-01/part-00000.parquet",
        "line_items": "line_items/month=2024-01/part-00000.parquet",
        "customer_changes": "customer_changes/month=2024-01/part-00000.parquet",
    }
    assert all(p["expected_rows"]["transactions"] > 100 for p in sales)
    assert main(["plan", str(workspace / "good.yaml"), "--set", "customers.count=1500"]) == 0
    text = capsys.readouterr().out
    assert "partitions: 10" in text
    assert "customers     ~1,500 rows expected" in text


def test_expected_rows_match_what_is_generated(
    small_dataset: Path, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["plan", str(workspace / "good.yaml"), "--json"])
    plan = json.loads(capsys.readouterr().out)
    expected = sum(p["expected_rows"].get("transactions", 0) for p in plan)
    manifest = json.loads((small_dataset / "_manifest.json").read_text())
    actual = manifest["tables"]["transactions"]["rows"]
    # The plan's expectation averages over customer bases; this one has 3,000 customers,
    # whose Gamma(1.2) activities alone move the total by ~2% (1 sd).
    assert abs(actual / expected - 1) < 0.1


def test_plan_summarises_without_visiting_partitions(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, plan listed every partition: 84 s and 300,010 lines for 10^9 customers.
    The summary's totals are the partitions' sums, in closed form."""
    good = str(workspace / "good.yaml")
    assert main(["plan", good, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    import synthpipe.cli as cli

    def refuse(*_: object) -> None:
        raise AssertionError("the summary must not build the partition list")

    monkeypatch.setattr(cli, "make_plan", refuse)
    monkeypatch.setattr(cli, "expected_partition_rows", refuse)
    assert main(["plan", good]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) < 12
    assert f"partitions: {len(listed)} " in lines[1]
    for table in ("customers", "transactions", "line_items"):
        total = sum(p["expected_rows"].get(table, 0.0) for p in listed)
        [line] = [line for line in lines if line.strip().startswith(table)]
        assert f"~{total:,.0f} rows expected" in line
    assert main(["plan", good, "--set", "customers.count=1000000000000",
                 "--set", "customers.block_size=2000000"]) == 0  # fmt: skip
    assert "partitions: 2,000,002 " in capsys.readouterr().out  # 3 months, 500,000 blocks


def test_a_refresh_says_what_it_generated_and_what_it_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: "wrote 20,000 customers ..." when one partition was regenerated."""
    from synthpipe.cli import _print_summary
    from synthpipe.engine.summary import RunSummary

    _print_summary(
        RunSummary(
            rows={"customers": 20_000, "transactions": 90_000},
            generated_rows={"transactions": 1_200},
            seconds=3.25,
            data="/d",
            report="/d/_fidelity/report.html",
            partitions=28,
            generated=1,
            skipped=27,
            timings={},
        )
    )
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == "generated 1 of 28 partitions (1,200 transactions) in 3.2s; kept 27 unchanged"
    )
    assert lines[1] == "dataset: 20,000 customers, 90,000 transactions"
    assert not any(line.startswith("wrote") for line in lines)
