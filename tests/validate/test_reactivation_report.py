"""The fidelity report on a world whose customers come back (customers.lifetime
.reactivation): it passes on the data as generated, and each reactivation parameter,
misstated, fails a check by name."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import build, misstate_spec, small_spec

from synthpipe.cli import EXIT_FAILURE, main

# frequent dropouts, mostly dormant and short, so that a year shows many returns
RETURNING_WORLD = {
    "customers.count": 12_000,
    "calendar.end": "2024-09-30",
    "customers.lifetime.dropout_per_year": 2.0,
    "customers.lifetime.reactivation.probability": 0.8,
    "customers.lifetime.reactivation.dormant_days": 30.0,
}


@pytest.fixture(scope="module")
def returning_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published dataset of the returning world, built once."""
    out = tmp_path_factory.mktemp("returning") / "data"
    outcome = build(small_spec(**RETURNING_WORLD), out)
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
    return out


def test_the_returning_world_passes_with_its_reactivation_checks(returning_dataset: Path) -> None:
    report = json.loads((returning_dataset / "_fidelity" / "report.json").read_text())
    judged = {test["name"]: test for test in report["tests"]}
    for name in (
        "customers.purchases_per_customer",
        "transactions.inter_purchase_time",
        "customers.return_gaps",
        "transactions.sales_by_tenure",
    ):
        assert judged[name]["passed"], judged[name]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            misstate_spec("customers.lifetime.reactivation.probability", 0.0),
            "customers.purchases_per_customer",
        ),
        (
            misstate_spec("customers.lifetime.reactivation.dormant_days", 365.0),
            "customers.return_gaps",
        ),
    ],
    ids=["probability", "dormant_days"],
)
def test_a_misstated_reactivation_fails_its_check(
    returning_dataset: Path, tmp_path: Path, tamper: Callable[[Path], None], expected: str
) -> None:
    copy = tmp_path / "data"
    shutil.copytree(returning_dataset, copy)
    tamper(copy)
    assert main(["validate", str(copy)]) == EXIT_FAILURE
    report = json.loads((copy / "_fidelity" / "report.json").read_text())
    assert expected in report["summary"]["failed_tests"], report["summary"]["failed_tests"]
