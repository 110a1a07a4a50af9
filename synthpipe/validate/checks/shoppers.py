"""Checks of who buys, in the volume family: legitimate sales per purchase-rate class of
customer, per age band and channel, by whole years since signup, and in the home region,
each against what the spec's rates expect of the customers on disk. The volume family
(``checks/volume.py``) runs and declares them among its checks; their statistics come
from ``measures/shoppers.py``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthpipe.model.sales import repeat_factor
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import MIX_SLACK, VOLUME_SLACK, CheckInfo, fidelity, stat
from synthpipe.validate.context import ValidationContext, buying_base
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    Check,
    at_most,
    chi_square_sum_p,
    poisson_ratio_threshold,
)
from synthpipe.validate.measures.shoppers import DAYS_PER_TENURE_YEAR, TENURE_YEARS
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import CHANNELS, ONLINE


def rates_by_signup(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(signup days in the exposure window, channels) summed purchase rates of the customers
    on disk by signup day (``customers.rate_by_signup``)."""
    window = ctx.exposure_from_signup.shape[0]
    return np.asarray(stat(stats, st.CUSTOMERS_RATE_BY_SIGNUP, np.zeros((window, 2))))


def expected_by_tenure(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """Expected legitimate sales by whole years since signup: over calendar days d and
    signup days u, (1 + r) x sum f_ch(d) R_ch(u) S(d - u) in the bucket of d - u."""
    rate = rates_by_signup(ctx, stats)
    lag = np.arange(ctx.active_by_lag.shape[0])
    bucket = np.minimum(lag // DAYS_PER_TENURE_YEAR, TENURE_YEARS - 1)
    expected = np.zeros(TENURE_YEARS)
    for year in range(TENURE_YEARS):
        alive = np.where(bucket == year, ctx.active_by_lag, 0.0)
        expected[year] = sum(
            float(buying_base(rate[:, c], alive, ctx.days) @ ctx.daily_factors[:, c])
            for c in range(ctx.daily_factors.shape[1])
        )
    return expected * repeat_factor(ctx.spec)


def tenure_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Sales by tenure year against the lifetime model (the cohort curve). A year's count
    varies like a Poisson count plus the customers' activity and dropout: their extra
    variance (the classes' sum) is shared out in proportion to each year's volume."""
    observed = np.asarray(stat(stats, st.TRANSACTIONS_SALES_BY_TENURE, np.zeros(TENURE_YEARS)))
    expected = expected_by_tenure(ctx, stats)
    classes = ctx.intensity_classes()
    extra = float(np.sum(stat(stats, st.CUSTOMERS_CLASS_EXTRA_VARIANCE, np.zeros(classes))))
    first = float(np.sum(stat(stats, st.CUSTOMERS_CLASS_EXPECTED, np.zeros(classes))))
    r = ctx.spec.sales.habits.repeat_same_day
    judged = expected > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.where(judged, np.abs(observed / expected - 1.0), 0.0)
        cv2 = (1.0 + r) ** 2 * extra / max(first, 1.0) / np.maximum(expected, 1.0)
        tolerance = np.asarray(
            [
                poisson_ratio_threshold(float(e), float(c), VOLUME_SLACK)
                for e, c in zip(expected, cv2, strict=True)
            ]
        )
        excess = np.where(judged, error / tolerance, np.where(observed > 0, np.inf, 0.0))
    worst = int(np.argmax(excess))
    shares = ", ".join(
        f"{year}{'+' if year == TENURE_YEARS - 1 else ''}: {o:,.0f}/{e:,.0f}"
        for year, (o, e) in enumerate(zip(observed, expected, strict=True))
    )
    return at_most(
        "transactions.sales_by_tenure",
        "fidelity",
        "error / tolerance (worst year)",
        float(excess[worst]),
        1.0,
        f"legitimate sales by whole years since signup, observed/expected ({shares})",
    )


def intensity_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Legitimate sales per purchase-rate class of customer (segment x loyalty x income
    band) against the purchases the spec's rate formula expects of the customers on disk:
    it tests frequency by segment, the loyalty uplift and the income elasticity, which the
    total volume alone cannot tell apart. A class's count varies with the Poisson draws
    and with its customers' gamma activity: variance sum(m) + sum(m^2) / activity_shape
    over its customers' expected first sales m; each sale then has a same-day repeat with
    probability r, so the count's mean is (1 + r) sum(m) and its variance
    r (1 - r) sum(m) + (1 + r)^2 (sum(m) + sum(m^2) / activity_shape)."""
    classes = ctx.intensity_classes()
    observed = np.asarray(stat(stats, st.TRANSACTIONS_SALES_BY_CLASS, np.zeros(classes)), float)
    first = np.asarray(stat(stats, st.CUSTOMERS_CLASS_EXPECTED, np.zeros(classes)), float)
    extra = np.asarray(stat(stats, st.CUSTOMERS_CLASS_EXTRA_VARIANCE, np.zeros(classes)), float)
    r = ctx.spec.sales.habits.repeat_same_day
    expected = first * (1.0 + r)
    variance = r * (1.0 - r) * first + (1.0 + r) ** 2 * (first + extra)
    judged = expected > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_error = np.abs(observed / expected - 1.0)
        tolerance = GATE_SIGMAS * np.sqrt(variance) / expected + VOLUME_SLACK
        excess = np.where(judged, relative_error / tolerance, np.where(observed > 0, np.inf, 0.0))
        z = np.where(judged, (observed - expected) / np.sqrt(variance), 0.0)
    worst = int(np.argmax(excess)) if classes else 0
    ratio = observed[worst] / expected[worst] if classes and judged[worst] else math.nan
    return at_most(
        "transactions.intensity_by_class",
        "fidelity",
        "error / tolerance (worst class)",
        float(excess[worst]) if classes else 0.0,
        1.0,
        "legitimate sales per customer class (segment x loyalty x income band) vs the spec's"
        f" purchase rate of the customers on disk; worst: {ctx.intensity_label(worst)},"
        f" {ratio:.3f} of expected",
        chi_square_sum_p(float((z * z).sum()), int(judged.sum())),
    )


@dataclass(frozen=True)
class OnlineShares:
    """Per age band: observed and expected online share, sales, and whether judged."""

    observed: np.ndarray
    expected: np.ndarray
    sales: np.ndarray
    judged: np.ndarray


def online_shares(ctx: ValidationContext, stats: Stats) -> OnlineShares:
    """Online share of legitimate sales per age band, observed and expected (the spec's
    online share x age factor, weighted by the band's expected purchases)."""
    shape = (len(ctx.spec.customers.age_pyramid), len(CHANNELS))
    observed = np.asarray(stat(stats, st.TRANSACTIONS_SALES_BY_BAND_CHANNEL, np.zeros(shape)))
    expected = np.asarray(stat(stats, st.CUSTOMERS_BAND_CHANNEL_EXPECTED, np.zeros(shape)))
    online = ONLINE
    sales = observed.sum(axis=1).astype(np.float64)
    expected_total = expected.sum(axis=1)
    judged = (sales > 0) & (expected_total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(judged, expected[:, online] / expected_total, 0.0)
        observed_share = np.where(judged, observed[:, online] / sales, 0.0)
    return OnlineShares(observed_share, share, sales, judged)


def online_by_age_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Online share of legitimate sales in each age band vs the spec. Given a band's
    sales, its online count is binomial (both channels of a customer share the same
    activity)."""
    bands = ctx.spec.customers.age_pyramid
    shares = online_shares(ctx, stats)
    share, judged = shares.expected, shares.judged
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(judged, np.sqrt(share * (1.0 - share) / shares.sales), 0.0)
        error = np.abs(shares.observed - share)
        excess = np.where(judged, error / (GATE_SIGMAS * spread + MIX_SLACK), 0.0)
        z = np.where(spread > 0, (shares.observed - share) / spread, 0.0)
    worst = int(np.argmax(excess)) if excess.size else 0
    return at_most(
        "transactions.online_share_by_age",
        "fidelity",
        "error / tolerance (worst band)",
        float(excess[worst]) if excess.size else 0.0,
        1.0,
        f"online share of sales in each age band vs the spec (worst {bands[worst].label}:"
        f" {shares.observed[worst]:.4f} observed, {share[worst]:.4f} expected)",
        chi_square_sum_p(float((z * z).sum()), int(judged.sum())),
    )


def home_region_check(stats: Stats) -> Check | None:
    """In-store sales in the customer's home region against the spec's store choice (none
    without in-store sales)."""
    observed_home = float(stat(stats, st.STORE_CHOICE_HOME_REGION_OBSERVED))
    expected_home = float(stat(stats, st.STORE_CHOICE_HOME_REGION_EXPECTED))
    in_store = float(stat(stats, st.STORE_CHOICE_IN_STORE_SALES))
    if in_store <= 0:
        return None
    p = expected_home / in_store
    return at_most(
        "transactions.home_region_share",
        "fidelity",
        "|observed - expected| share",
        abs(observed_home - expected_home) / in_store,
        GATE_SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / in_store) + MIX_SLACK,
        f"in-store sales in the home region: {observed_home / in_store:.4f} vs {p:.4f} expected",
    )


INTENSITY_BY_CLASS = fidelity(
    "transactions.intensity_by_class",
    "legitimate sales per customer class (segment x loyalty x income band) vs the spec's"
    " purchase rate of the customers on disk",
    st.CUSTOMERS_CLASS_EXPECTED,
    st.CUSTOMERS_CLASS_EXTRA_VARIANCE,
    st.TRANSACTIONS_SALES_BY_CLASS,
)
ONLINE_SHARE_BY_AGE = fidelity(
    "transactions.online_share_by_age",
    "online share of sales in each age band vs the spec",
    st.CUSTOMERS_BAND_CHANNEL_EXPECTED,
    st.TRANSACTIONS_SALES_BY_BAND_CHANNEL,
)
SALES_BY_TENURE = fidelity(
    "transactions.sales_by_tenure",
    "legitimate sales by whole years since signup vs the lifetime model's survival",
    st.TRANSACTIONS_SALES_BY_TENURE,
    st.CUSTOMERS_RATE_BY_SIGNUP,
    st.CUSTOMERS_CLASS_EXPECTED,
    st.CUSTOMERS_CLASS_EXTRA_VARIANCE,
)
HOME_REGION_SHARE = fidelity(
    "transactions.home_region_share",
    "in-store sales in the home region vs the spec's store choice",
    st.STORE_CHOICE_HOME_REGION_EXPECTED,
    st.STORE_CHOICE_HOME_REGION_OBSERVED,
    st.STORE_CHOICE_IN_STORE_SALES,
)
DECLARED: tuple[CheckInfo, ...] = (
    INTENSITY_BY_CLASS,
    ONLINE_SHARE_BY_AGE,
    SALES_BY_TENURE,
    HOME_REGION_SHARE,
)
