"""The fraud typology registry: every stable key has one module, each module declares all
of its parts, and the numbers other layers read from a typology are what its generator does."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from helpers import small_document, small_spec

import synthpipe.fraud as fraud_package
from synthpipe.errors import SpecError
from synthpipe.fraud import TYPOLOGIES
from synthpipe.fraud.base import LEGIT_GROUPS
from synthpipe.model.blockmonth import block_month
from synthpipe.model.fraud import BlockFraudDraws, event_counts, event_size_moments, expected_lines
from synthpipe.seeds import FraudKey
from synthpipe.spec import spec_from_dict
from synthpipe.vocabulary import FRAUD_TYPES


def test_every_stable_key_has_exactly_one_module_named_like_it() -> None:
    modules = sorted(
        p.stem for p in Path(fraud_package.__file__).parent.glob("*.py") if p.stem != "__init__"
    )
    assert sorted([*TYPOLOGIES, "base"]) == modules
    assert list(TYPOLOGIES) == list(FRAUD_TYPES)
    assert [t.key for t in TYPOLOGIES.values()] == sorted(FraudKey)
    # today's keys keep their values: the fraud streams and id subranges stay where they were
    assert [t.code for t in TYPOLOGIES.values()] == [0, 1, 2, 3, 4]


def test_signatures_name_unique_checks_and_known_baselines() -> None:
    names = [
        s.name for t in TYPOLOGIES.values() for s in (*t.share_signatures, *t.amount_signatures)
    ]
    assert len(names) == len(set(names))
    for typology in TYPOLOGIES.values():
        for signature in (*typology.share_signatures, *typology.amount_signatures):
            assert signature.name.startswith(typology.name)
            assert signature.baseline in LEGIT_GROUPS


def test_spec_fraud_types_are_the_typologies_own_models() -> None:
    spec = small_spec()
    for name, typology in TYPOLOGIES.items():
        assert type(getattr(spec.fraud.types, name)) is typology.params
    with pytest.raises(SpecError, match=r"fraud\.types\.phishing"):
        spec_from_dict(small_document(**{"fraud.types.phishing": {"share": 0.1}}))
    with pytest.raises(SpecError, match=r"fraud\.types\.card_testing\.burst_size"):
        spec_from_dict(small_document(**{"fraud.types.card_testing.burst_size": 3}))


def _realised(name: str, seed: int) -> tuple[np.ndarray, float, float]:
    """Event sizes and mean lines per transaction of one typology over a month."""
    spec = small_spec(seed=seed, fraud__rate=0.3)
    ctx = block_month(spec, 0, dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    events = event_counts(ctx, np.full(ctx.days, 2_000))[name]
    typology = TYPOLOGIES[name]
    made = typology.generate(
        BlockFraudDraws(ctx, typology.key), getattr(spec.fraud.types, name), events
    )
    lines_per_transaction = made.lines.transaction.shape[0] / made.size
    return events, made.size / events.sum(), lines_per_transaction


@pytest.mark.parametrize("name", FRAUD_TYPES)
def test_declared_moments_and_lines_are_what_the_generator_does(name: str) -> None:
    """The expectation and the validation read a typology's event size and lines per
    transaction from its declaration; the generator must produce them (6 standard errors)."""
    spec = small_spec(fraud__rate=0.3)
    mean_size, variance = event_size_moments(spec, name)
    events, observed_size, observed_lines = _realised(name, seed=3)
    n_events = int(events.sum())
    assert n_events > 500
    assert abs(observed_size - mean_size) <= 6 * math.sqrt(max(variance, 1e-12) / n_events) + 1e-9
    lines = expected_lines(spec, name)
    n_transactions = observed_size * n_events
    # lines per transaction are 1 + a bounded count: variance at most (max extra)^2 / 4 <= 1
    assert abs(observed_lines - lines) <= 6 * math.sqrt(1.0 / n_transactions) + 1e-9
