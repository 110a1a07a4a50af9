"""Checks of the fraud family."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthpipe.model.fraud import event_size_moments
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import CheckFamily, CheckInfo, fraud, stat
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import (
    CI_CONFIDENCE,
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
    shares = fraud.shares()
    moments = {name: event_size_moments(ctx.spec, name) for name in FRAUD_TYPES}
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
    daily_legit = np.asarray(stat(stats, st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    legit_monthly = np.bincount(ctx.month_of_day, daily_legit.sum(axis=(1, 2)), len(ctx.months))
    fraud = ctx.spec.fraud
    odds = fraud.rate / (1.0 - fraud.rate)
    shares = fraud.shares()
    return {
        "by_type": {name: int(daily_fraud[:, t].sum()) for t, name in enumerate(FRAUD_TYPES)},
        "by_month": {
            m: {name: int(monthly[i, t]) for t, name in enumerate(FRAUD_TYPES)}
            for i, m in enumerate(ctx.months)
        },
        "expected_by_month": {
            m: {
                name: round(float(legit_monthly[i]) * odds * shares[name], 2)
                for name in FRAUD_TYPES
            }
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
