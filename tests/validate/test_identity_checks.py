"""The identity family: devices, cards and addresses against the spec, from the tables
a world holds; a world with a wrong count fails the check by name."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import small_spec

from synthpipe.model.customers import block_count
from synthpipe.model.identity import identity_tables
from synthpipe.spec import Spec
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.identity import identity_checks
from synthpipe.validate.context import validation_context


def _stats(spec: Spec) -> dict[Any, Any]:
    """The statistics the identity family reads, measured on the generated tables."""
    stats: dict[Any, Any] = {st.CUSTOMERS_ROWS: spec.customers.count}
    for block in range(block_count(spec)):
        for name, table in identity_tables(spec, block).items():
            stats[st.ROWS[name]] = stats.get(st.ROWS[name], 0) + table.num_rows
    stats[st.IDENTITY_KEY_DUPLICATES] = 0
    return stats


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"identity.household_share": 0.9, "identity.household_size_max": 10},
        {"identity.devices_mean": 3.0, "identity.family_card_share": 1.0},
    ],
    ids=["default", "big-households", "many-devices"],
)
def test_a_generated_world_passes(overrides: dict[str, object]) -> None:
    spec = small_spec(**{"customers.count": 6_000, "customers.block_size": 3_000, **overrides})
    checks = identity_checks(validation_context(spec), _stats(spec))
    assert [c.name for c in checks] == [
        "identity.keys_unique",
        "identity.devices",
        "identity.cards",
        "identity.addresses",
    ]
    assert all(c.passed for c in checks), [c for c in checks if not c.passed]


@pytest.mark.parametrize("table", ["devices", "cards", "addresses"])
def test_a_wrong_count_fails_by_name(table: str) -> None:
    spec = small_spec(**{"customers.count": 6_000, "customers.block_size": 3_000})
    stats = _stats(spec)
    stats[st.ROWS[table]] = int(stats[st.ROWS[table]] * 0.8)
    failed = [c.name for c in identity_checks(validation_context(spec), stats) if not c.passed]
    assert failed == [f"identity.{table}"]
