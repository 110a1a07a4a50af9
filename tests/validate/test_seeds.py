"""A correct generator passes its own fidelity report at every seed."""

from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from helpers import build, default_document

from synthpipe.spec import spec_from_dict

SEEDS = range(1, 21)
# The default spec, scaled to run 20 times in seconds: 4,000 customers over the second
# half of the year (Black Friday, Christmas, back-to-school and promotions included).
SCALE = {"customers__count": 4_000, "customers__block_size": 1_000, "calendar__start": "2024-07-01"}


def failures_at(seed: int) -> tuple[int, list[str], int]:
    """(seed, failed tests, number of tests) of the scaled default spec at ``seed``."""
    spec = spec_from_dict(default_document(seed=seed, **SCALE))
    with tempfile.TemporaryDirectory() as folder:
        outcome = build(spec, Path(folder) / "data")
    assert outcome is not None
    return seed, outcome.failed_tests(), len(outcome.report.tests)


@pytest.mark.slow  # 20 default worlds, about 100 s of a core
def test_default_spec_passes_at_twenty_seeds() -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = list(pool.map(failures_at, SEEDS))
    failing = {seed: failed for seed, failed, _ in results if failed}
    assert not failing, failing
    assert all(count >= 80 for _, _, count in results)
