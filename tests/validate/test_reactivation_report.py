"""The fidelity report on a world whose customers come back (customers.lifetime
.reactivation): it passes on the data as generated, and each reactivation parameter,
misstated, fails a check by name (judged on statistics read once: the purchases checks
read only the followed customers' samples, which no spec field changes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import build, small_spec

from synthpipe.engine.validation import collect_stats
from synthpipe.sink.manifest import load_dataset_spec
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.spec.loader import set_dotted, spec_document
from synthpipe.storage import Location
from synthpipe.validate.checks import FAMILIES
from synthpipe.validate.context import validation_context
from synthpipe.validate.listing import Listing
from synthpipe.validate.merge import Stats
from synthpipe.validate.results import load_report

# frequent dropouts, mostly dormant and short, so that a year shows many returns
RETURNING_WORLD = {
    "customers.count": 12_000,
    "calendar.end": "2024-09-30",
    "customers.lifetime.dropout_per_year": 2.0,
    "customers.lifetime.reactivation.probability": 0.8,
    "customers.lifetime.reactivation.dormant_days": 30.0,
}


pytestmark = pytest.mark.slow  # a default-size world with returns, and its misstated twins


@pytest.fixture(scope="module")
def returning_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published dataset of the returning world, built once."""
    out = tmp_path_factory.mktemp("returning") / "data"
    outcome = build(small_spec(**RETURNING_WORLD), out)
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
    return out


def test_the_returning_world_passes_with_its_reactivation_checks(returning_dataset: Path) -> None:
    report = load_report((returning_dataset / "_fidelity" / "report.json").read_text())
    judged = {test.name: test for test in report.tests}
    for name in (
        "customers.purchases_per_customer",
        "transactions.inter_purchase_time",
        "customers.return_gaps",
        "transactions.sales_by_tenure",
    ):
        assert judged[name].passed, judged[name]


@pytest.fixture(scope="module")
def returning_stats(returning_dataset: Path) -> tuple[Spec, Stats, Listing]:
    """The returning world's statistics, read once (the purchases checks judge them
    against whatever spec they are given)."""
    location = Location(str(returning_dataset))
    spec, manifest = load_dataset_spec(location)
    listing = manifest.listing()
    return spec, collect_stats(None, spec, location, listing), listing


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("probability", 0.0, "customers.purchases_per_customer"),
        ("dormant_days", 365.0, "customers.return_gaps"),
    ],
)
def test_a_misstated_reactivation_fails_its_check(
    returning_stats: tuple[Spec, Stats, Listing], field: str, value: float, expected: str
) -> None:
    spec, stats, listing = returning_stats
    document = spec_document(spec)
    set_dotted(document, f"customers.lifetime.reactivation.{field}", value)
    misstated = spec_from_dict(document)
    judged = {
        c.name: c
        for c in FAMILIES["purchases"].judge(validation_context(misstated), stats, listing)
    }
    assert not judged[expected].passed, judged[expected]
    truthful = {
        c.name: c for c in FAMILIES["purchases"].judge(validation_context(spec), stats, listing)
    }
    assert truthful[expected].passed, truthful[expected]
