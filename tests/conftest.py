"""Fixtures shared across the suite."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import build, small_spec

from synthpipe.spec import Spec


@pytest.fixture(scope="session")
def small() -> Spec:
    """The small test world."""
    return small_spec()


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory, small: Spec) -> Path:
    """A published dataset of the small world, built once; copy it before changing it."""
    out = tmp_path_factory.mktemp("small") / "data"
    outcome = build(small, out)
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
    return out


@pytest.fixture
def dataset_copy(small_dataset: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the small dataset, free to tamper with."""
    target = tmp_path / "data"
    shutil.copytree(small_dataset, target)
    return target
