"""Generator artefacts an outside attack found: fraud times clamped to the end of the day,
and camouflaged stolen cards that imitate the victim's region but not its store."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from helpers import small_spec

from synthpipe.clock import MICROS_PER_HOUR
from synthpipe.fraud import TYPOLOGIES
from synthpipe.model.blockmonth import block_month
from synthpipe.model.fraud import (
    HALF_DAY,
    LAST_MICRO,
    BlockFraudDraws,
    burst_times,
    event_counts,
    event_rows,
)
from synthpipe.model.transactions import legitimate_sets
from synthpipe.spec import Spec
from synthpipe.vocabulary import IN_STORE, SALE


def _made(spec: Spec, name: str):  # type: ignore[no-untyped-def]
    ctx = block_month(spec, 0, dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    events = event_counts(ctx, np.full(ctx.days, 2_000))[name]
    typology = TYPOLOGIES[name]
    made = typology.generate(
        BlockFraudDraws(ctx, typology.key), getattr(spec.fraud.types, name), events
    )
    return ctx, made


def test_burst_times_move_late_events_back_instead_of_clamping() -> None:
    rng = np.random.default_rng(5)
    n = 20_000
    size = rng.integers(1, 30, n)
    start = (rng.random(n) * LAST_MICRO).astype(np.int64)
    gaps = rng.uniform(0.5, 60.0, int(size.sum()))
    gaps[: int(size[:50].sum())] = 5_000.0  # a few events longer than a day
    times = burst_times(start, size, gaps)
    event, position = event_rows(size)
    assert times.min() >= 0
    assert times.max() < LAST_MICRO
    assert np.unique(times, return_counts=True)[1].max() <= 2  # no point mass anywhere
    first = times[position == 0]
    last = times[np.cumsum(size) - 1]
    assert (last - first <= HALF_DAY).all()
    # every event holds its drawn start: as its first transaction, or as its last when
    # the event would have run past midnight
    assert ((first == start) | (last == start)).all()
    fits = start + (last - first) <= LAST_MICRO  # events that fit start where drawn
    assert (first[fits] == start[fits]).all()
    assert (last[~fits] == start[~fits]).all()
    assert (~fits).sum() > 100
    gap_micros = np.diff(times)[np.diff(event) == 0]
    assert (gap_micros >= 0).all()


def test_late_takeovers_are_never_clamped_and_keep_their_drawn_hour() -> None:
    """Every takeover starts at 23:xx and runs up to 19 gaps of 5-45 minutes: most would
    leave the day. No time of any class sits at the day's last microsecond or repeats,
    and every event keeps an order in its drawn hour (the documented hour law)."""
    spec = small_spec(
        fraud__rate=0.3,
        fraud__difficulty=0.0,
        **{"fraud.types.account_takeover.night_hours": [23]},
        **{"fraud.types.account_takeover.orders_max": 20},
    )
    ctx, made = _made(spec, "account_takeover")
    assert made.size > 2_000
    assert int((made.micros == LAST_MICRO).sum()) == 0
    assert np.unique(made.day * (LAST_MICRO + 1) + made.micros, return_counts=True)[1].max() == 1
    key = made.day * 10**7 + made.customer
    groups, index = np.unique(key, return_inverse=True)
    at_hour = np.bincount(
        index, weights=made.micros // MICROS_PER_HOUR == 23, minlength=groups.shape[0]
    )
    assert (at_hour >= 1).all()
    late = made.micros < 23 * MICROS_PER_HOUR
    assert late.mean() > 0.3  # many events did need to move
    for part in legitimate_sets(ctx):
        assert int((part.micros == LAST_MICRO).sum()) == 0


def test_card_testing_bursts_fit_their_day() -> None:
    spec = small_spec(
        fraud__rate=0.3,
        fraud__difficulty=0.0,
        **{"fraud.types.card_testing.gap_minutes_min": 29.0},
        **{"fraud.types.card_testing.gap_minutes_max": 30.0},
        **{"fraud.types.card_testing.burst_extra_mean": 30.0},
    )
    _, made = _made(spec, "card_testing")
    assert made.size > 2_000
    assert int((made.micros == LAST_MICRO).sum()) == 0
    assert made.micros.max() < LAST_MICRO
    assert np.unique(made.day * (LAST_MICRO + 1) + made.micros, return_counts=True)[1].max() == 1
    assert made.micros.min() >= 0
    assert int((made.micros == 0).sum()) <= 1  # no point mass at midnight either


def _home_count(ctx, part) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """In-store sales at the customer's home store, and in-store sales."""
    mine = (part.channel == IN_STORE) & (part.kind == SALE)
    home = ctx.home_store(part.customer[mine], part.day[mine])
    return int((part.store[mine] == home).sum()), int(mine.sum())


def test_camouflaged_stolen_cards_pick_stores_like_the_victims_purchases() -> None:
    """At difficulty 1 every stolen-card purchase picks its store by the legitimate
    in-store law (home store most often); at difficulty 0 it is always away from home."""
    spec = small_spec(fraud__rate=0.3, fraud__difficulty=1.0)
    ctx, made = _made(spec, "stolen_card")
    at_home, n_fraud = _home_count(ctx, made)
    fraud_share = at_home / n_fraud
    hits = [_home_count(ctx, p) for p in legitimate_sets(ctx)]
    n_legit = sum(n for _, n in hits)
    legit_share = sum(h for h, _ in hits) / n_legit
    assert n_fraud > 1_000
    assert legit_share > 0.5
    tolerance = 6 * math.sqrt(legit_share * (1 - legit_share) * (1 / n_fraud + 1 / n_legit))
    assert abs(fraud_share - legit_share) <= tolerance
    uncamouflaged = small_spec(fraud__rate=0.3, fraud__difficulty=0.0)
    ctx, made = _made(uncamouflaged, "stolen_card")
    away = ctx.stores.region[made.store] != ctx.home_region(made.customer, made.day)
    assert away.mean() > 0.99
