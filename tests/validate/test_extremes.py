"""The fidelity report at the extremes of the spec's range (issue 31): a few customers who
buy very often, or for decades. Their latent activity, lifetimes and favourite brands are
then most of the data's spread, and another sale of the day undercuts a repeat's gap: each
corrected gate is held to the law it gates, and the extreme worlds pass their reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import build, default_document, small_spec
from scipy import stats as scipy_stats

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_MINUTE, UNIX_EPOCH
from synthpipe.engine.validation import collect_stats
from synthpipe.model.baskets import products_by_popularity, products_of_brand
from synthpipe.model.products import brand_shares, product_world
from synthpipe.sink.manifest import load_dataset_spec
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.storage import Location
from synthpipe.validate import statistics as st
from synthpipe.validate.checks import FAMILIES
from synthpipe.validate.checks.base import KS_SLACK, ordinary_daily
from synthpipe.validate.checks.baskets import brand_price_spread, price_design_effect
from synthpipe.validate.checks.habits import habit_checks
from synthpipe.validate.checks.volume import expected_sales
from synthpipe.validate.context import ValidationContext, validation_context
from synthpipe.validate.dimensions import LOG_PRICE_EDGES
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    ks_distance,
    ks_threshold,
    poisson_ratio_threshold,
    tvd,
)
from synthpipe.validate.lifecycles import buying_mask
from synthpipe.validate.listing import Listing
from synthpipe.validate.measures.habits import repeat_gap_hist
from synthpipe.validate.merge import Stats
from synthpipe.validate.results import load_report
from synthpipe.validate.spread import followed_rates, month_covariance, profile_spread

# 300 customers buying 400 times a year for three years: each customer's activity and
# lifetime move its hundreds of sales together, it often buys twice a day, and its
# hundreds of lines in a category share its favourite brand (today's code failed this
# world's unit prices, 1.35 of their gate, and repeat gap, 0.185 against 0.129)
FREQUENT_WORLD = {
    "customers__count": 300,
    "sales__visits_per_year": 400.0,
    "calendar__end": "2026-12-31",
}
# the world: configs/retail.yaml with 1,000 customers over fifty years
DECADES_WORLD = {
    "customers__count": 1_000,
    "calendar__start": "2024-01-01",
    "calendar__end": "2074-01-01",
}
SIMULATED_WORLDS = 40


def _world(overrides: dict[str, Any]) -> Spec:
    return spec_from_dict(default_document(**overrides))


@pytest.fixture(scope="module")
def frequent_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The frequent world, built and validated once (it must publish)."""
    out = tmp_path_factory.mktemp("frequent") / "data"
    outcome = build(_world(FREQUENT_WORLD), out)
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
    return out


@pytest.fixture(scope="module")
def frequent_stats(frequent_dataset: Path) -> tuple[ValidationContext, Stats, Listing]:
    location = Location(str(frequent_dataset))
    spec, manifest = load_dataset_spec(location)
    listing = manifest.listing()
    return validation_context(spec), collect_stats(None, spec, location, listing), listing


@pytest.mark.slow  # many worlds or a whole report; the gates' unit cases stay fast
def test_a_few_frequent_buyers_pass_their_report(frequent_dataset: Path) -> None:
    report = load_report((frequent_dataset / "_fidelity" / "report.json").read_text())
    judged = {test.name: test for test in report.tests}
    assert report.passed, report.summary
    for name in ("line_items.unit_price_by_category", "transactions.repeat_gap"):
        assert judged[name].passed, judged[name]


def _simulated_daily(ctx: ValidationContext, stats: Stats, rng: np.random.Generator) -> np.ndarray:
    """A world's legitimate ordinary sales per (day, channel) drawn from the model, for the
    customers on disk: each buys Poisson(A x its rate x the day factors) on the days its
    drawn lifetime buys in, A ~ Gamma(k, 1/k), and each sale has a repeat with chance r."""
    spec = ctx.spec
    customers = followed_rates(ctx, stats)
    assert ctx.sample_modulus == 1  # every customer is followed: the sample is all of them
    signup = UNIX_EPOCH + customers[:, 1].astype(np.int64).astype("timedelta64[D]")
    buying = buying_mask(ctx, signup, rng)
    k = spec.customers.activity_shape
    activity = rng.gamma(k, 1.0 / k, customers.shape[0])
    daily = np.zeros((ctx.days, 2))
    for channel in range(2):
        rate = customers[:, 2 + channel, None] * ctx.daily_factors[None, :, channel]
        first = rng.poisson(np.where(buying, rate * activity[:, None], 0.0)).sum(axis=0)
        daily[:, channel] = first + rng.binomial(first, spec.sales.habits.repeat_same_day)
    return daily


@pytest.mark.slow  # many worlds or a whole report; the gates' unit cases stay fast
def test_volume_gates_hold_worlds_drawn_from_the_model(
    frequent_stats: tuple[ValidationContext, Stats, Listing],
) -> None:
    """The customers' spread of the volume and its day and month profiles, against worlds
    drawn from the model for the same customers: the month profile's TVD has the mean and
    spread ``profile_spread`` gives it, and no world fails a gate (with the multinomial
    gate of today's code, 0.013, most of them failed the month profile: its TVD is about
    0.016)."""
    ctx, stats, listing = frequent_stats
    reorders = np.asarray(stats[st.TRANSACTIONS_DAILY_REORDERS], dtype=np.float64)
    expected = expected_sales(ctx, stats).sum(axis=1)
    months = len(ctx.months)
    expected_months = np.bincount(ctx.month_of_day, expected, months)
    rng = np.random.default_rng(31)
    judged = ("volume", "daily_profile", "month_profile", "holiday_lift", "black_friday_lift")
    distances = []
    for _ in range(SIMULATED_WORLDS):
        world = dict(stats)
        daily = np.asarray(stats[st.TRANSACTIONS_DAILY_LEGIT], dtype=np.float64).copy()
        daily[:, :, 0] = _simulated_daily(ctx, stats, rng) + reorders
        world[st.TRANSACTIONS_DAILY_LEGIT] = daily
        checks = {c.name: c for c in FAMILIES["volume"].judge(ctx, world, listing)}
        for name in judged:
            assert checks[f"transactions.{name}"].passed, checks[f"transactions.{name}"]
        sales = ordinary_daily(ctx, world)[:, :, 0].sum(axis=1)
        distances.append(tvd(np.bincount(ctx.month_of_day, sales, months), expected_months))
    mean, sd = profile_spread(
        expected_months,
        float(expected.sum()),
        ctx.spec.sales.habits.repeat_same_day,
        month_covariance(ctx, stats),
        np.arange(months),
    )
    # the mean of the draws is within 3 of its standard errors, their spread near sd
    assert abs(float(np.mean(distances)) - mean) < 3.0 * sd / np.sqrt(SIMULATED_WORLDS)
    assert 0.6 * sd < float(np.std(distances)) < 1.6 * sd


@pytest.mark.slow  # many worlds or a whole report; the gates' unit cases stay fast
def test_unit_price_gate_counts_the_favourite_brand() -> None:
    """Lines of one customer in a category share its favourite brand (brand_loyalty rho):
    the price sample is worth n / design effect lines, and the KS gate at that size holds
    samples drawn like the generator's, a few customers buying hundreds of lines each, where
    the gate of n independent lines (today's) fails most of them."""
    spec = small_spec()
    world = product_world(spec)
    per = spec.products.brands_per_category
    loyalty = spec.products.brand_loyalty
    category = 0
    rows = np.flatnonzero(world.category == category)
    log_price = np.log10(np.maximum(world.price_cents[rows], 1))
    cdf, spread = brand_price_spread(
        log_price, world.popularity[rows], world.brand[rows] % per, per
    )
    shares = brand_shares(world, spec)[category]
    lines = np.asarray([1_000] * 30 + [40] * 100)  # a customer's lines in the category
    pairs = float((lines * (lines - 1)).sum() / lines.sum())
    n = float(lines.sum())
    gate = ks_threshold(n / price_design_effect(cdf, spread, loyalty, pairs), KS_SLACK)
    independent = ks_threshold(n, KS_SLACK)
    rng = np.random.default_rng(9)
    owner = np.repeat(np.arange(lines.shape[0]), lines)
    distances = []
    for _ in range(60):
        favourite = category * per + rng.choice(per, size=lines.shape[0], p=shares)
        u = rng.random(owner.shape[0])
        product = products_by_popularity(world, np.full(owner.shape[0], category), u)
        loyal = rng.random(owner.shape[0]) < loyalty
        product[loyal] = products_of_brand(world, favourite[owner[loyal]], u[loyal])
        cell = np.searchsorted(LOG_PRICE_EDGES, np.log10(world.price_cents[product]), "right")
        hist = np.bincount(cell, minlength=LOG_PRICE_EDGES.shape[0] + 1)
        distances.append(ks_distance(hist, cdf))
    assert max(distances) <= gate
    assert np.mean(np.asarray(distances) > independent) > 0.5
    assert float(np.median(distances)) > 0.15 * gate  # a gate, not a wall


@pytest.mark.slow  # many worlds or a whole report; the gates' unit cases stay fast
def test_repeat_gap_keeps_its_law_when_customers_buy_often() -> None:
    """A repeat's gap to its own sale is Exponential(repeat_gap_minutes): measured on the
    customer-days of just the two, its median keeps to repeat_gap_minutes x ln 2 when the
    customers buy twice a day besides (today's nearest-sale gap came out 10% short, failing
    its gate)."""
    spec = small_spec()
    ctx = validation_context(spec)
    rng = np.random.default_rng(4)
    days = 100_000
    others = rng.poisson(2.0, days)  # the customer-day's other first sales
    first = rng.integers(0, MICROS_PER_DAY, days)
    gap = (rng.exponential(spec.sales.habits.repeat_gap_minutes, days) * MICROS_PER_MINUTE).astype(
        np.int64
    )
    repeat = np.where(first + gap < MICROS_PER_DAY, first + gap, first - gap)
    owner = np.concatenate([np.arange(days), np.arange(days), np.repeat(np.arange(days), others)])
    micros = np.concatenate([first, repeat, rng.integers(0, MICROS_PER_DAY, int(others.sum()))])
    is_repeat = np.zeros(owner.shape[0], dtype=bool)
    is_repeat[days : 2 * days] = True
    day = owner % ctx.days
    unix_day = int((ctx.dates[0] - UNIX_EPOCH).astype(np.int64)) + day
    stats: Stats = {
        st.HABITS_REPEAT_GAP_HIST: repeat_gap_hist(
            owner + 1, unix_day * MICROS_PER_DAY + micros, day, is_repeat
        )
    }
    checks = {c.name: c for c in habit_checks(ctx, stats)}
    assert checks["transactions.repeat_gap"].passed, checks["transactions.repeat_gap"]
    assert int(np.sum(stats[st.HABITS_REPEAT_GAP_HIST])) == int(np.sum(others == 0))


@pytest.mark.parametrize("expected", [0.008, 0.3, 2.0, 40.0, 1e6])
def test_ratio_gate_of_a_small_count_follows_the_poisson_tail(expected: float) -> None:
    """A one-day calendar expects 0.008 sales of customers five years signed up: one such
    sale is a 1-in-125 event, not 12 normal sds (today's gate, 6 / sqrt(0.008) = 67,
    failed the error of 124). The gate admits every count the Poisson reaches more often
    than GATE_SIGMAS normal sds would, and is the normal one for a large mean."""
    gate = poisson_ratio_threshold(expected, 0.0, 0.0)
    tail = float(scipy_stats.norm.sf(GATE_SIGMAS))
    highest = expected * (1.0 + gate)  # the largest count that passes
    assert scipy_stats.poisson.sf(np.floor(highest), expected) <= tail
    assert scipy_stats.poisson.sf(np.floor(highest) - 1.0, expected) > tail
    if expected < 1.0:
        assert gate >= 1.0 / expected - 1.0  # a single count passes
    if expected >= 1e6:
        assert gate == pytest.approx(GATE_SIGMAS / np.sqrt(expected), rel=0.01)


@pytest.mark.slow
def test_fifty_years_of_a_thousand_customers_pass_their_report(tmp_path: Path) -> None:
    """The issue's world (about 4 minutes): today's code failed its month profile (0.0285
    against 0.0282) and, at other seeds, its unit prices, volume and holiday lifts."""
    out = tmp_path / "data"
    outcome = build(_world(DECADES_WORLD), out)
    assert outcome is not None
    assert outcome.passed, outcome.failed_tests()
