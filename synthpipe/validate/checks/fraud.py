"""Checks of the fraud family."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthpipe.model.fraud import event_size_moments, fraud_schedule
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    CheckFamily,
    CheckInfo,
    expected_fraud_daily,
    fraud,
    stat,
)
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import (
    CI_CONFIDENCE,
    GATE_SIGMAS,
    Check,
    at_most,
    binomial_interval,
    binomial_p_value,
)
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import FRAUD_TYPES

# --- fraud -----------------------------------------------------------------------------------


def design_effect(spec_shares: dict[str, float], moments: dict[str, tuple[float, float]]) -> float:
    """Variance inflation of a count of transactions that come in events: a type whose
    event sizes have mean m and variance v has mean + variance / mean; a mix averages by
    share. (Event counts vary at most like Poisson counts: systematic rounding.)"""
    total = sum(spec_shares.values())
    if total <= 0:
        return 1.0
    return (
        sum(share * (m + v / m) for name, share in spec_shares.items() for m, v in [moments[name]])
        / total
    )


def widest_moments(ctx: ValidationContext) -> dict[str, tuple[float, float]]:
    """Each type's event-size moments at the difficulty in force that inflates its count's
    variance most (``fraud.drift`` may change it), so intervals are never too narrow."""
    levels = np.unique(fraud_schedule(ctx.spec, ctx.dates).difficulty)

    def inflation(moments: tuple[float, float]) -> float:
        mean, variance = moments
        return mean + variance / mean

    return {
        name: max(
            (event_size_moments(ctx.spec, name, float(level)) for level in levels), key=inflation
        )
        for name in FRAUD_TYPES
    }


def fraud_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Fraud rate overall, per type and per month, each with an exact binomial interval on
    the effective sample size (events make transactions cluster; see design_effect)."""
    fraud = ctx.spec.fraud
    checks: list[Check] = []
    daily_fraud = np.asarray(
        stat(stats, st.TRANSACTIONS_DAILY_FRAUD, np.zeros((ctx.days, len(FRAUD_TYPES))))
    )
    daily = np.asarray(stat(stats, st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    legit = float(daily.sum())
    total_fraud = float(daily_fraud.sum())
    total = legit + total_fraud
    expected = expected_fraud_daily(ctx, stats)
    expected_total = float(expected.sum())
    shares = {
        name: float(expected[:, t].sum()) / expected_total if expected_total > 0 else 0.0
        for t, name in enumerate(FRAUD_TYPES)
    }
    moments = widest_moments(ctx)
    overall_effect = design_effect(shares, moments)
    checks.append(
        rate_check(
            "fraud.rate", total_fraud, total, fraud.rate, "overall fraud rate", overall_effect
        )
    )
    for t, name in enumerate(FRAUD_TYPES):
        effect = design_effect({name: 1.0}, moments)
        checks.append(
            rate_check(f"fraud.rate_{name}", float(daily_fraud[:, t].sum()), total,
                        fraud.rate * shares[name], f"rate of {name}", effect)
        )  # fmt: skip
    monthly_fraud = np.bincount(ctx.month_of_day, daily_fraud.sum(axis=1), len(ctx.months))
    monthly_total = (
        np.bincount(ctx.month_of_day, daily.sum(axis=(1, 2)), len(ctx.months)) + monthly_fraud
    )
    failing = [
        check
        for m, label in enumerate(ctx.months)
        for check in [
            rate_check(f"fraud.rate_{label}", float(monthly_fraud[m]), float(monthly_total[m]),
                        fraud.rate, f"fraud rate in {label}", overall_effect)
        ]
        if not check.passed
    ]  # fmt: skip
    checks.append(count_by_month_check(ctx, stats, daily_fraud, moments))
    checks.append(
        at_most(
            "fraud.rate_by_month",
            "fraud",
            "months outside their interval",
            len(failing),
            0,
            f"every month's fraud rate has the target inside its exact {100 * CI_CONFIDENCE:.4f}%"
            " interval" + (f" (first failing: {failing[0].explanation})" if failing else ""),
        )
    )
    return checks


def count_by_month_check(
    ctx: ValidationContext,
    stats: Stats,
    daily_fraud: np.ndarray,
    moments: dict[str, tuple[float, float]],
) -> Check:
    """Each month's fraud transactions of each type against the count its events were
    placed on. Systematic rounding puts each partition within one event of its target,
    so a month's N events are within one per customer block of expected; its transactions
    then add the event sizes' spread: |realised - expected| <= blocks x mean +
    GATE_SIGMAS x sqrt((N + blocks) x variance). Exact at any rate, down to a handful."""
    expected_daily = expected_fraud_daily(ctx, stats)
    months = len(ctx.months)
    blocks = -(-ctx.spec.customers.count // ctx.spec.customers.block_size)
    worst, where = 0.0, ""
    for t, name in enumerate(FRAUD_TYPES):
        expected = np.bincount(ctx.month_of_day, expected_daily[:, t], months)
        realised = np.bincount(ctx.month_of_day, daily_fraud[:, t], months)
        mean, variance = moments[name]
        events = expected / mean
        tolerance = blocks * mean + GATE_SIGMAS * np.sqrt((events + blocks) * variance)
        excess = np.abs(realised - expected) / tolerance
        m = int(np.argmax(excess))
        if excess[m] > worst or not where:
            worst = float(excess[m])
            where = (
                f"worst {name} in {ctx.months[m]}: {realised[m]:,.0f} realised,"
                f" {expected[m]:,.1f} expected"
            )
    return at_most(
        "fraud.count_by_month",
        "fraud",
        "error / tolerance (worst month and type)",
        worst,
        1.0,
        "every month's fraud transactions per type within rounding and event-size spread"
        f" of its expected count ({where})",
    )


def rate_check(
    name: str, successes: float, trials: float, target: float, what: str, effect: float
) -> Check:
    """The target inside the exact interval of the observed rate at the effective size."""
    effective_successes = round(successes / effect)
    effective_trials = max(round(trials / effect), effective_successes)
    low, high = binomial_interval(effective_successes, effective_trials)
    observed = successes / trials if trials else 0.0
    outside = 0.0 if low <= target <= high else min(abs(target - low), abs(target - high))
    return at_most(
        name,
        "fraud",
        "distance of target from interval",
        outside,
        0.0,
        f"{what}: {observed:.5f} observed ({successes:,.0f} of {trials:,.0f}),"
        f" interval [{low:.5f}, {high:.5f}] (design effect {effect:.2f}), target {target:.5f}",
        binomial_p_value(effective_successes, effective_trials, target),
    )


def fraud_summary(ctx: ValidationContext, stats: Stats) -> dict[str, Any]:
    """Realised fraud counts per type and month, and each month's expected count: the
    month's legitimate transactions x rate x share / (1 - rate), the target the events
    are placed on (so a rare rate's expected handful is stated beside what came)."""
    daily_fraud = np.asarray(
        stat(stats, st.TRANSACTIONS_DAILY_FRAUD, np.zeros((ctx.days, len(FRAUD_TYPES))))
    )
    monthly = np.stack(
        [
            np.bincount(ctx.month_of_day, daily_fraud[:, t], len(ctx.months))
            for t in range(len(FRAUD_TYPES))
        ],
        1,
    )
    expected = expected_fraud_daily(ctx, stats)
    expected_monthly = np.stack(
        [
            np.bincount(ctx.month_of_day, expected[:, t], len(ctx.months))
            for t in range(len(FRAUD_TYPES))
        ],
        1,
    )
    return {
        "by_type": {name: int(daily_fraud[:, t].sum()) for t, name in enumerate(FRAUD_TYPES)},
        "by_month": {
            m: {name: int(monthly[i, t]) for t, name in enumerate(FRAUD_TYPES)}
            for i, m in enumerate(ctx.months)
        },
        "expected_by_month": {
            m: {name: round(float(expected_monthly[i, t]), 2) for t, name in enumerate(FRAUD_TYPES)}
            for i, m in enumerate(ctx.months)
        },
    }


_RATES = (st.TRANSACTIONS_DAILY_FRAUD, st.TRANSACTIONS_DAILY_LEGIT)
CHECKS: tuple[CheckInfo, ...] = (
    fraud("fraud.rate", "overall fraud rate inside its exact interval", *_RATES),
    *(
        fraud(f"fraud.rate_{name}", f"rate of {name} inside its exact interval", *_RATES)
        for name in FRAUD_TYPES
    ),
    fraud(
        "fraud.count_by_month",
        "every month's fraud transactions per type within rounding and event-size spread of"
        " its expected count",
        *_RATES,
    ),
    fraud(
        "fraud.rate_by_month",
        "every month's fraud rate has the target inside its exact interval",
        *_RATES,
    ),
)

FAMILY = CheckFamily(
    order=60,
    judge=lambda ctx, stats, _listing: fraud_checks(ctx, stats),
    checks=CHECKS,
)
