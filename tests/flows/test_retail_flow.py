"""The Prefect flow end to end under prefect_test_harness: layout, columns, keys and
foreign keys read back as one hive-partitioned dataset; artifacts; a failing report
leaves the data unpublished and fails the run with the report's path."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from helpers import small_document, small_spec
from prefect import get_client
from prefect.artifacts import Artifact
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

import synthpipe.engine.validation as validation
from flows.cli import run_flow
from flows.retail import ARTIFACT_KEY, retail_flow
from synthpipe.cli import EXIT_FAILURE, main
from synthpipe.engine.summary import RunSummary
from synthpipe.validate.gates import at_most
from synthpipe.validate.results import load_report

MINIMUM_COLUMNS = {
    "customers": {"customer_id", "age", "gender", "income", "region", "signup_date"},
    "products": {"product_id", "name", "category", "list_price"},
    "stores": {"store_id", "region"},
    "transactions": {
        "transaction_id", "ts", "customer_id", "store_id", "channel", "payment_method",
        "amount", "is_fraud", "fraud_type",
    },
    "line_items": {"transaction_id", "product_id", "quantity", "unit_price"},
}  # fmt: skip


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunSummary, UUID]:
    out = tmp_path_factory.mktemp("flow") / "retail"
    state = retail_flow(spec=small_document(), out=str(out), workers=2, return_state=True)
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return out, RunSummary.model_validate(state.result()), run_id


@pytest.fixture(scope="module")
def flow_output(
    flow_run: tuple[Path, RunSummary, UUID],
) -> tuple[Path, RunSummary]:
    return flow_run[0], flow_run[1]


def test_each_task_records_the_tasks_it_depends_on(
    flow_run: tuple[Path, RunSummary, UUID],
) -> None:
    """Large arguments are passed whole (not walked into), and still recorded as inputs."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run[2]]))
        )
    name = {run.id: run.task_key.split("-")[0] for run in runs}
    inputs = {
        name[run.id]: {
            argument: sorted(name[i.id] for i in found if i.id in name)
            for argument, found in run.task_inputs.items()
            if found
        }
        for run in runs
    }
    assert inputs == {
        "plan_run": {},
        "verify_kept": {"plan": ["plan_run"]},
        "generate_partitions": {"plan": ["verify_kept"]},
        "write_ground_truth": {"plan": ["verify_kept"], "results": ["generate_partitions"]},
        "write_dataset_manifest": {
            "plan": ["verify_kept"],
            "results": ["generate_partitions"],
            "truth": ["write_ground_truth"],
        },
        "validate_dataset": {"plan": ["verify_kept"], "manifest": ["write_dataset_manifest"]},
        "publish_dataset": {
            "plan": ["verify_kept"],
            "manifest": ["write_dataset_manifest"],
            "outcome": ["validate_dataset"],
        },
    }


def test_layout_and_summary(flow_output: tuple[Path, RunSummary]) -> None:
    out, summary = flow_output
    assert summary.data == str(out)
    assert summary.report == str(out / "_fidelity" / "report.html")
    for name in ("_manifest.json", "_SUCCESS", "_fidelity/report.json", "_fidelity/report.html"):
        assert (out / name).is_file(), name
    for table in ("customers", "products", "stores"):
        assert sorted(p.name for p in (out / table).iterdir())[0] == "part-00000.parquet"
    for table in ("transactions", "line_items"):
        months = sorted(p.name for p in (out / table).iterdir())
        assert months == ["month=2024-01", "month=2024-02", "month=2024-03"]
        assert sorted(p.name for p in (out / table / "month=2024-01").iterdir()) == [
            "part-00000.parquet", "part-00001.parquet", "part-00002.parquet",
        ]  # fmt: skip
    success = (out / "_SUCCESS").stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= success for p in out.rglob("*") if p.is_file())
    rows = summary.rows
    assert isinstance(rows, dict)
    assert rows["customers"] == 3_000
    assert rows["transactions"] > 3_000


def test_dataset_reads_back_with_hive_partitioning(
    flow_output: tuple[Path, RunSummary],
) -> None:
    out, _ = flow_output
    tables = {
        name: ds.dataset(out / name, format="parquet", partitioning="hive").to_table()
        for name in MINIMUM_COLUMNS
    }
    for name, columns in MINIMUM_COLUMNS.items():
        assert columns <= set(tables[name].column_names), name
    assert "month" in tables["transactions"].column_names
    assert set(tables["transactions"].column("month").to_pylist()) == {
        "2024-01",
        "2024-02",
        "2024-03",
    }
    assert tables["transactions"].schema.field("amount").type == pa.decimal128(14, 2)
    assert tables["transactions"].schema.field("ts").type == pa.timestamp("us")
    keys = {
        "customers": "customer_id",
        "products": "product_id",
        "stores": "store_id",
        "transactions": "transaction_id",
    }
    for name, key in keys.items():
        column = tables[name].column(key)
        assert pc.count_distinct(column).as_py() == len(column), name
    t, lines = tables["transactions"], tables["line_items"]
    assert pc.all(
        pc.is_in(t.column("customer_id"), tables["customers"].column("customer_id"))
    ).as_py()
    stores = t.column("store_id").drop_null()
    assert pc.all(pc.is_in(stores, tables["stores"].column("store_id"))).as_py()
    assert pc.all(pc.is_in(lines.column("transaction_id"), t.column("transaction_id"))).as_py()
    assert pc.all(
        pc.is_in(lines.column("product_id"), tables["products"].column("product_id"))
    ).as_py()
    keys = pa.table({"t": lines.column("transaction_id"), "n": lines.column("line_number")})
    assert keys.group_by(["t", "n"]).aggregate([]).num_rows == lines.num_rows


def test_duckdb_reads_the_same_dataset(flow_output: tuple[Path, RunSummary]) -> None:
    out, summary = flow_output
    glob = str(out / "transactions" / "*" / "*.parquet")
    query = "select count(*), count(distinct month) from read_parquet(?, hive_partitioning = true)"
    [(count, months)] = duckdb.execute(query, [glob]).fetchall()
    rows = summary.rows
    assert isinstance(rows, dict)
    assert count == rows["transactions"]
    assert months == 3


def test_the_flow_posts_its_verdict_as_artifacts(
    flow_output: tuple[Path, RunSummary],
) -> None:
    markdown = Artifact.get(ARTIFACT_KEY)
    link = Artifact.get(f"{ARTIFACT_KEY}-link")
    assert markdown is not None
    assert link is not None
    assert "fidelity report: PASS" in str(markdown.data)
    assert "| integrity |" in str(markdown.data)
    assert str(flow_output[0] / "_fidelity" / "report.html") in str(link.data)


def test_a_failing_report_leaves_data_unpublished_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = validation.evaluate

    def evaluate_with_a_failure(*args: object, **kwargs: object) -> list[object]:
        broken = at_most("planted.failure", "integrity", "violations", 1, 0, "a test that fails")
        return [*real(*args, **kwargs), broken]  # type: ignore[arg-type]

    monkeypatch.setattr(validation, "evaluate", evaluate_with_a_failure)
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps(small_document(customers__count=1_000, calendar__end="2024-01-31")))
    out = tmp_path / "out"
    code = main(["run", str(spec), "--out", str(out), "--workers", "1"], runner=run_flow)
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert "planted.failure" in err
    assert str(out / "_fidelity" / "report.html") in err
    assert not (out / "_SUCCESS").exists()
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["published"] is False
    assert len(list((out / "transactions").rglob("*.parquet"))) == 1
    report = load_report((out / "_fidelity" / "report.json").read_text())
    assert list(report.summary.failed_tests) == ["planted.failure"]
    assert small_spec().seed == manifest["seed"]
