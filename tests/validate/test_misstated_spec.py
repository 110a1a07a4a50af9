"""The report fails when the spec misstates the data: each misstated parameter makes
`synthpipe validate` exit non-zero with the right test named as failed; and a dataset
validates the same whether it is read in process or on workers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import QUICK_VALIDATE, assert_revalidation_fails, fidelity_report, misstate_spec

from synthpipe.cli import EXIT_FAILURE, main

MISSTATED: list[tuple[Callable[[Path], None], str]] = [
    (misstate_spec("sales.habits.repeat_same_day", 0.02), "transactions.repeat_same_day"),
    (misstate_spec("sales.habits.repeat_gap_minutes", 90.0), "transactions.repeat_gap"),
    (misstate_spec("sales.habits.gift_shipping", 0.01), "transactions.gift_shipping"),
    (misstate_spec("sales.habits.night_online", 0.3), "transactions.hour_profile_online"),
    (misstate_spec("sales.habits.splurge", 0.05), "line_items.basket_size"),
    (misstate_spec("fraud.rate", 0.15), "fraud.count_by_month"),
    (misstate_spec("products.brand_loyalty", 0.0), "line_items.brand_repeat_share"),
    (misstate_spec("products.complements.lift", 40.0), "line_items.complement_attach"),
    (misstate_spec("customers.activity_shape", 10.0), "customers.purchases_per_customer"),
    (misstate_spec("sales.replenishment.cycle_shape", 60.0), "line_items.replenishment_interval"),
    (
        misstate_spec("customers.lifetime.dropout_per_year", 0.1),
        "transactions.sales_by_tenure",
    ),
    (
        misstate_spec("fraud.drift", [{"start": "2024-01-15", "shares": {"stolen_card": 0.0}}]),
        "fraud.rate_stolen_card",
    ),
]
# Every parameter of customers.changes misstated at once: each must fail its own check
CHANGE_RATES_MISSTATED = {
    "move_rate": ("customer_history.move_rate", 0.5),
    "income_change_rate": ("customer_history.income_rate", 1.0),
    "loyalty_join_rate": ("customer_history.loyalty_join_rate", 0.5),
    "loyalty_leave_rate": ("customer_history.loyalty_leave_rate", 0.5),
    "email_change_rate": ("customer_history.email_rate", 0.3),
    "income_change_sigma": ("customer_history.income_step", 0.3),
}


@pytest.mark.parametrize(("misstate", "expected"), MISSTATED, ids=[e for _, e in MISSTATED])
def test_a_misstated_parameter_fails_the_right_test(
    dataset_copy: Path,
    misstate: Callable[[Path], None],
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the untouched copy passes (test_tampering's test_untouched_dataset_revalidates_clean)
    misstate(dataset_copy)
    assert main([*QUICK_VALIDATE, str(dataset_copy)]) == EXIT_FAILURE
    assert_revalidation_fails(dataset_copy, expected, capsys.readouterr())


def test_each_misstated_change_parameter_fails_its_own_check(dataset_copy: Path) -> None:
    assert main([*QUICK_VALIDATE, str(dataset_copy)]) == 0
    for field, (_, value) in CHANGE_RATES_MISSTATED.items():
        misstate_spec(f"customers.changes.{field}", value)(dataset_copy)
    assert main([*QUICK_VALIDATE, str(dataset_copy)]) == EXIT_FAILURE
    failed = set(fidelity_report(dataset_copy).summary.failed_tests)
    assert {name for name, _ in CHANGE_RATES_MISSTATED.values()} <= failed


CLOCK_FIELDS = ("created_at", "busy_seconds")  # when it ran and how long it took


def _without_clock(report: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in report.items() if key not in CLOCK_FIELDS}


def test_workers_and_in_process_reading_give_the_same_report(
    dataset_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A small dataset is read in process by default; --workers reads it on a Dask
    LocalCluster; the statistics merge in unit order either way, so the report is the same
    to the last bit."""
    report_path = dataset_copy / "_fidelity" / "report.json"
    assert main(["validate", str(dataset_copy)]) == 0
    in_process = json.loads(report_path.read_text())
    report_path.unlink()
    assert main(["validate", str(dataset_copy), "--workers", "2"]) == 0
    on_workers = json.loads(report_path.read_text())
    assert _without_clock(on_workers) == _without_clock(in_process)
    assert len(in_process["tests"]) >= 75
