"""Rare stays rare at scale: at fraud.rate 1e-5 the default world still places every
month's expected handful of fraud, reports it, and passes every check."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from helpers import build, default_document

from synthpipe.spec import spec_from_dict
from synthpipe.validate.results import load_report

RARE = 1e-5


@pytest.mark.slow  # a large world
def test_one_in_a_hundred_thousand_is_placed_month_by_month(tmp_path: Path) -> None:
    spec = spec_from_dict(default_document(fraud__rate=RARE))
    outcome = build(spec, tmp_path / "data")
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
    report = load_report((tmp_path / "data" / "_fidelity" / "report.json").read_text())
    counts = report.fraud_counts
    assert len(counts.expected_by_month) == 12
    expected = sum(v for month in counts.expected_by_month.values() for v in month.values())
    realised = sum(v for month in counts.by_month.values() for v in month.values())
    # about 18 fraud transactions in 1.8 million; placement is systematic, so the year's
    # count is its expectation up to a few events of a few transactions
    assert 5 < expected < 40
    assert abs(realised - expected) <= 3 * math.sqrt(expected) * 2.5
    by_name = {t.name: t for t in report.tests}
    assert by_name["fraud.count_by_month"].passed, by_name["fraud.count_by_month"]
    assert by_name["fraud.rate_by_month"].passed
