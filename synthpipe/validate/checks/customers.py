"""Checks of the customers family."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.model.customers import median_income
from synthpipe.model.expectation import age_distribution
from synthpipe.model.geography import region_shares
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    KS_SLACK,
    MEDIAN_SLACK,
    MIX_SLACK,
    CheckFamily,
    CheckInfo,
    fidelity,
    histogram_median,
    stat,
    tvd_check,
)
from synthpipe.validate.context import MAX_AGE, ValidationContext
from synthpipe.validate.dimensions import LOG_INCOME_EDGES, Z_EDGES
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    Check,
    at_most,
    ks_distance,
    ks_p_value,
    ks_threshold,
    normal_cdf,
    normalise,
)
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import GENDERS

# --- customers ---------------------------------------------------------------------------


def customer_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Demographics, income, signup and loyalty against the spec."""
    spec = ctx.spec
    checks: list[Check] = []
    ages = np.asarray(stat(stats, st.CUSTOMERS_AGE_COUNTS, np.zeros(MAX_AGE + 1)))
    age_values, age_probability, _ = age_distribution(spec)
    expected_ages = np.zeros(MAX_AGE + 1)
    expected_ages[age_values] = age_probability
    n = float(ages.sum())
    checks.append(
        tvd_check(
            "customers.age_pyramid",
            ages,
            expected_ages,
            n,
            MIX_SLACK,
            "share of customers at each age vs the population pyramid",
        )
    )
    distance = float(np.max(np.abs(np.cumsum(normalise(ages)) - np.cumsum(expected_ages))))
    checks.append(
        at_most(
            "customers.age_ks",
            "fidelity",
            "KS D",
            distance,
            ks_threshold(n, KS_SLACK),
            "distribution of ages vs the pyramid (Kolmogorov-Smirnov)",
            ks_p_value(distance, n),
        )
    )
    gender = np.asarray(stat(stats, st.CUSTOMERS_GENDER_COUNTS, np.zeros(len(GENDERS))))
    expected_gender = np.asarray([spec.customers.gender.get(g, 0.0) for g in GENDERS])  # type: ignore[call-overload]
    checks.append(
        tvd_check(
            "customers.gender_mix",
            gender,
            expected_gender,
            n,
            MIX_SLACK,
            "gender shares vs the spec",
        )
    )
    segments = np.asarray(stat(stats, st.CUSTOMERS_SEGMENT_COUNTS, np.zeros(len(ctx.segments))))
    expected_segments = np.asarray([s.share for s in spec.customers.segments.values()])
    checks.append(
        tvd_check(
            "customers.segment_mix",
            segments,
            expected_segments,
            n,
            MIX_SLACK,
            "segment shares vs the spec",
        )
    )
    regions = np.asarray(stat(stats, st.CUSTOMERS_REGION_COUNTS, np.zeros(len(ctx.regions))))
    checks.append(
        tvd_check(
            "customers.region_mix",
            regions,
            region_shares(spec.calendar.country),
            n,
            MIX_SLACK,
            "home regions vs population weights",
        )
    )
    z_hist = np.asarray(stat(stats, st.CUSTOMERS_INCOME_Z_HIST, np.zeros(Z_EDGES.shape[0] + 1)))
    z_n = float(z_hist.sum())
    d_z = ks_distance(z_hist, normal_cdf(Z_EDGES))
    checks.append(
        at_most(
            "customers.income_lognormal",
            "fidelity",
            "KS D",
            d_z,
            ks_threshold(z_n, KS_SLACK),
            "log income around its age and segment median is normal with the spec's sigma",
            ks_p_value(d_z, z_n),
        )
    )
    income_hist = np.asarray(
        stat(
            stats,
            st.CUSTOMERS_LOG_INCOME_HIST,
            np.zeros((len(spec.customers.age_pyramid), LOG_INCOME_EDGES.shape[0] + 1)),
        )
    )
    checks.append(_income_marginal(ctx, income_hist))
    checks.append(_income_medians(ctx, income_hist))
    signup = np.asarray(stat(stats, st.CUSTOMERS_SIGNUP_HIST, np.zeros(1)))
    checks.append(_signup_check(ctx, signup))
    loyal = np.asarray(
        stat(stats, st.CUSTOMERS_LOYAL_BY_SEGMENT, np.zeros(len(ctx.segments))), dtype=np.float64
    )
    rates = np.asarray([s.loyalty_rate for s in spec.customers.segments.values()])
    members = np.maximum(segments, 1)
    tolerance = GATE_SIGMAS * np.sqrt(rates * (1 - rates) / members) + MIX_SLACK
    excess = np.where(segments > 0, np.abs(loyal / members - rates) / tolerance, 0.0)
    checks.append(
        at_most(
            "customers.loyalty_by_segment",
            "fidelity",
            "error / tolerance (worst)",
            float(excess.max()) if excess.size else 0.0,
            1.0,
            "loyalty-programme share of each segment vs the spec's loyalty_rate",
        )
    )
    return checks


def _income_mixture_cdf(
    ctx: ValidationContext, log10_values: np.ndarray, band: int | None = None
) -> np.ndarray:
    """CDF of income under the spec: ages x segments x log-normal, optionally in one band."""
    spec = ctx.spec
    ages, probability, band_index = age_distribution(spec)
    if band is not None:
        inside = band_index == band  # other ages weigh nothing: leave them out
        ages, probability = ages[inside], probability[inside]
    probability = probability / probability.sum()
    sigma = spec.customers.income.sigma
    segments = list(spec.customers.segments.values())
    shares = normalise(np.asarray([s.share for s in segments]))
    ln_x = log10_values * math.log(10.0)
    cdf = np.zeros_like(ln_x, dtype=np.float64)
    medians = np.log(median_income(spec, ages))
    for share, segment in zip(shares, segments, strict=True):
        centre = medians + math.log(segment.income_factor)
        z = (ln_x[:, None] - centre[None, :]) / sigma
        cdf += share * (normal_cdf(z) * probability[None, :]).sum(axis=1)
    return cdf


def _income_marginal(ctx: ValidationContext, income_hist: np.ndarray) -> Check:
    total = income_hist.sum(axis=0)
    n = float(total.sum())
    expected = _income_mixture_cdf(ctx, LOG_INCOME_EDGES)
    distance = ks_distance(total, expected)
    return at_most(
        "customers.income_marginal",
        "fidelity",
        "KS D",
        distance,
        ks_threshold(n, KS_SLACK),
        "income distribution vs the spec's mixture over ages and segments",
        ks_p_value(distance, n),
    )


def _income_medians(ctx: ValidationContext, income_hist: np.ndarray) -> Check:
    """Median income of each age band vs the spec's mixture median for that band."""
    bands = ctx.spec.customers.age_pyramid
    grid = np.linspace(LOG_INCOME_EDGES[0], LOG_INCOME_EDGES[-1], 6001)
    worst, detail = 0.0, ""
    for b, band in enumerate(bands):
        n = float(income_hist[b].sum())
        if n < 100:
            continue
        observed = 10 ** histogram_median(income_hist[b], LOG_INCOME_EDGES)
        expected = 10 ** float(np.interp(0.5, _income_mixture_cdf(ctx, grid, b), grid))
        # The sample median's relative standard error for a log-normal-like law is about
        # 1.25 x (spread in log units) / sqrt(n); the spread is at most sigma + segment mix.
        spread = ctx.spec.customers.income.sigma + 0.5
        tolerance = GATE_SIGMAS * 1.2533 * spread / math.sqrt(n) + MEDIAN_SLACK
        excess = abs(observed / expected - 1.0) / tolerance
        if excess > worst:
            worst, detail = excess, f"{band.label}: {observed:,.0f} vs {expected:,.0f}"
    return at_most(
        "customers.income_median_by_age",
        "fidelity",
        "error / tolerance",
        worst,
        1.0,
        f"median income of each age band vs the spec (worst {detail or 'n/a'})",
    )


def _signup_check(ctx: ValidationContext, signup: np.ndarray) -> Check:
    spec = ctx.spec
    span = signup.shape[0]
    n = float(signup.sum())
    g = math.log1p(spec.customers.signup_growth) / 365.25
    days = np.arange(1, span + 1, dtype=np.float64)
    expected = days / span if abs(g * span) < 1e-9 else np.expm1(g * days) / math.expm1(g * span)
    observed = np.cumsum(signup) / max(n, 1.0)
    distance = float(np.max(np.abs(observed - expected)))
    return at_most(
        "customers.signup_dates",
        "fidelity",
        "KS D",
        distance,
        ks_threshold(n, KS_SLACK),
        "signup dates vs the growing signup density of the spec",
        ks_p_value(distance, n),
    )


CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "customers.age_pyramid",
        "share of customers at each age vs the population pyramid (TVD)",
        st.CUSTOMERS_AGE_COUNTS,
    ),
    fidelity(
        "customers.age_ks",
        "distribution of ages vs the pyramid (Kolmogorov-Smirnov)",
        st.CUSTOMERS_AGE_COUNTS,
    ),
    fidelity("customers.gender_mix", "gender shares vs the spec", st.CUSTOMERS_GENDER_COUNTS),
    fidelity("customers.segment_mix", "segment shares vs the spec", st.CUSTOMERS_SEGMENT_COUNTS),
    fidelity(
        "customers.region_mix", "home regions vs population weights", st.CUSTOMERS_REGION_COUNTS
    ),
    fidelity(
        "customers.income_lognormal",
        "log income around its age and segment median is normal with the spec's sigma",
        st.CUSTOMERS_INCOME_Z_HIST,
    ),
    fidelity(
        "customers.income_marginal",
        "income distribution vs the spec's mixture over ages and segments",
        st.CUSTOMERS_LOG_INCOME_HIST,
    ),
    fidelity(
        "customers.income_median_by_age",
        "median income of each age band vs the spec",
        st.CUSTOMERS_LOG_INCOME_HIST,
    ),
    fidelity(
        "customers.signup_dates",
        "signup dates vs the growing signup density of the spec",
        st.CUSTOMERS_SIGNUP_HIST,
    ),
    fidelity(
        "customers.loyalty_by_segment",
        "loyalty-programme share of each segment vs the spec's loyalty_rate",
        st.CUSTOMERS_LOYAL_BY_SEGMENT,
        st.CUSTOMERS_SEGMENT_COUNTS,
    ),
)

FAMILY = CheckFamily(
    order=20,
    judge=lambda ctx, stats, _listing: customer_checks(ctx, stats),
    checks=CHECKS,
)
