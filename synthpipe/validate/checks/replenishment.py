"""Checks of the replenishment family: staples reordered on a cycle
(``synthpipe.model.replenishment``). Their number per category against the spec's share
and cycles; and, for the customers followed across months (ids that are multiples of
the context's ``sample_modulus``), that each staple is reordered on a fixed period and
that the intervals between reorders follow the cycle distribution."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as distributions

from synthpipe.clock import UNIX_EPOCH
from synthpipe.model.lifecycle import survival
from synthpipe.model.products import product_world
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import MIX_SLACK, CheckFamily, CheckInfo, fidelity, stat
from synthpipe.validate.context import ValidationContext, per_signup_day
from synthpipe.validate.gates import GATE_SIGMAS, Check, at_most, kish_effective, tvd, tvd_threshold
from synthpipe.validate.merge import Stats

VOLUME_SLACK = 0.01  # relative: the rounding of reorder days and of the survival's days
MIN_SERIES = 30  # fewer sampled staples of a category with an interval: not judged
MIN_ORDERS_IN_SERIES = 3  # a staple's intervals are compared when it has this many orders
ORDER_CHUNK = 4_096  # orders per block of the expected-interval sum
INTERVAL_QUANTILE = 1.0 - 1e-7  # longest interval considered: this quantile of the cycle


def inverse_cycle_moments(ctx: ValidationContext, category: int) -> tuple[float, float]:
    """E[1 / P] and E[1 / P^2] of a staple's period P = days x Gamma(k, 1 / k)."""
    k = ctx.spec.sales.replenishment.cycle_shape
    days = ctx.spec.products.categories[category].replenish_days
    return k / ((k - 1.0) * days), k * k / ((k - 1.0) * (k - 2.0) * days * days)


def alive_days_moments(ctx: ValidationContext) -> tuple[np.ndarray, np.ndarray]:
    """Per signup day of the window: E[T] and E[T^2], T the calendar days a customer still
    buys: E[T^2] = sum_j S(j - u) (1 + 2 (j - j_u)), j_u the first calendar day it can."""
    window = ctx.exposure_from_signup.shape[0]
    days = ctx.days
    ones = np.ones(days)
    mean = per_signup_day(ones, ctx.survival_by_lag, window)
    weighted = per_signup_day(np.arange(days, dtype=np.float64), ctx.survival_by_lag, window)
    first = np.maximum(np.arange(window) - (window - days), 0)
    return mean, 2.0 * weighted - 2.0 * first * mean + mean


def volume_check(ctx: ValidationContext, stats: Stats) -> Check | None:
    """Reorders per staple category against share x E[1 / P] x the customers' buying days.
    A customer's count is T / P (give or take one), so the spread is counted per customer:
    Var = share E[1/P^2] E[T^2] - (share E[1/P] E[T])^2 summed, plus a quarter per staple."""
    categories = [k for k, c in enumerate(ctx.spec.products.categories) if c.replenish_days > 0]
    if not categories:
        return None
    share = ctx.spec.sales.replenishment.share
    window = ctx.exposure_from_signup.shape[0]
    customers = np.asarray(stat(stats, st.CUSTOMERS_BY_SIGNUP, np.zeros(window)), float)
    observed = np.asarray(stat(stats, st.REPLENISH_ORDERS, np.zeros(len(ctx.categories))), float)
    mean_t, second_t = alive_days_moments(ctx)
    worst, detail = 0.0, ""
    for k in categories:
        inverse, inverse_square = inverse_cycle_moments(ctx, k)
        expected = share * inverse * float(customers @ mean_t)
        variance = (
            share * inverse_square * float(customers @ second_t)
            - (share * inverse) ** 2 * float(customers @ (mean_t * mean_t))
            + 0.25 * share * float(customers[mean_t > 0].sum())
        )
        gate = GATE_SIGMAS * math.sqrt(max(variance, expected)) + VOLUME_SLACK * expected
        ratio = abs(observed[k] - expected) / gate if gate > 0 else 0.0
        if ratio >= worst:
            worst = ratio
            detail = f"{ctx.categories[k]}: {observed[k]:,.0f} observed vs {expected:,.0f}"
    return at_most(
        "transactions.replenishment_volume",
        "fidelity",
        "error / tolerance (worst)",
        worst,
        1.0,
        f"staples' reorders per category vs share x E[1/P] x buying days (worst {detail})",
    )


def _series(stats: Stats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sampled reorders sorted by (customer, product, day): customer, product, day."""
    parts = [p for p in stat(stats, st.REPLENISH_SAMPLE, []) if p.shape[0]]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    rows = np.concatenate(parts)
    order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))
    rows = rows[order]
    return rows[:, 0], rows[:, 1], rows[:, 2]


def regularity_check(stats: Stats) -> Check:
    """Every sampled staple with MIN_ORDERS_IN_SERIES orders or more is reordered on one
    period: its intervals differ by at most a day (the rounding of t_j to days)."""
    customer, product, day = _series(stats)
    same = (customer[1:] == customer[:-1]) & (product[1:] == product[:-1])
    interval = np.diff(day)
    starts = np.flatnonzero(np.concatenate([[True], ~same]))
    irregular = series = 0
    if day.shape[0]:
        sizes = np.diff(np.append(starts, day.shape[0]))
        long = sizes >= MIN_ORDERS_IN_SERIES
        series = int(np.count_nonzero(long))
        # intervals inside a series, grouped by the series' first row
        owner = np.repeat(np.arange(starts.shape[0]), sizes)[1:][same]
        inside = interval[same]
        if inside.size:
            top = np.full(starts.shape[0], -1, dtype=np.int64)
            low = np.full(starts.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
            np.maximum.at(top, owner, inside)
            np.minimum.at(low, owner, inside)
            irregular = int(np.count_nonzero(long & (top - low > 1)))
    return at_most(
        "line_items.replenishment_regular",
        "fidelity",
        "staples reordered off their period",
        float(irregular),
        0.0,
        f"sampled staples with {MIN_ORDERS_IN_SERIES}+ reorders whose intervals differ by more"
        f" than a day: {irregular} of {series}",
    )


def interval_distribution(ctx: ValidationContext, category: int, longest: int) -> np.ndarray:
    """P(I = i), i = 0..longest, for the interval I after a reorder: the reorder's period
    is drawn with weight 1/P (short periods reorder more often), so P ~ Gamma(k - 1,
    days / k), and I = floor(U + P) with U uniform: P(I <= i) = C(i + 1) - C(i), C the
    integral of P's CDF, C(y) = y F_a(y) - a theta F_(a+1)(y)."""
    k = ctx.spec.sales.replenishment.cycle_shape
    theta = ctx.spec.products.categories[category].replenish_days / k
    a = k - 1.0
    y = np.arange(longest + 2, dtype=np.float64)
    integral = y * distributions.gamma.cdf(y, a, scale=theta) - a * theta * (
        distributions.gamma.cdf(y, a + 1.0, scale=theta)
    )
    at_most_i = np.diff(integral)  # P(I <= i), i = 0..longest
    return np.asarray(np.diff(at_most_i, prepend=0.0))


def interval_check(ctx: ValidationContext, stats: Stats) -> Check | None:
    """Per staple category, the sampled reorders' next intervals against their expected
    distribution: P(I = i) times the chance the next one is seen, S(t + i) / S(t) for a
    customer t days after signup, and 0 past the calendar's end. A staple's intervals
    share its period, so the sample's size is the Kish effective number of staples."""
    customer, product, day = _series(stats)
    if day.shape[0] < 2:
        return None
    sample = [p for p in stat(stats, st.CUSTOMERS_SAMPLE, []) if p.shape[0]]
    if not sample:
        return None
    signups = np.concatenate(sample)[:, :2].astype(np.int64)
    signups = signups[np.argsort(signups[:, 0])]
    where = np.clip(np.searchsorted(signups[:, 0], customer), 0, signups.shape[0] - 1)
    known = signups[where, 0] == customer
    tenure = day - signups[where, 1]
    end = int((ctx.dates[-1] - UNIX_EPOCH).astype(np.int64))
    same = np.concatenate(
        [(customer[1:] == customer[:-1]) & (product[1:] == product[:-1]), [False]]
    )
    following = np.where(same, np.append(np.diff(day), 0), -1)
    category_of = product_world(ctx.spec).category.astype(np.int64)
    category = np.where(
        (product >= 1) & (product <= category_of.shape[0]),
        category_of[np.clip(product - 1, 0, category_of.shape[0] - 1)],  # unknown ids: -1
        -1,
    )
    series_id = np.cumsum(np.concatenate([[True], ~same[:-1]])) - 1
    worst, detail = 0.0, ""
    judged = False
    for k, spec_category in enumerate(ctx.spec.products.categories):
        if spec_category.replenish_days <= 0:
            continue
        rows = np.flatnonzero((category == k) & known & (tenure >= 0))
        seen = rows[following[rows] >= 0]
        per_series = np.bincount(series_id[seen])
        per_series = per_series[per_series > 0]
        if per_series.shape[0] < MIN_SERIES:
            continue
        shape = ctx.spec.sales.replenishment.cycle_shape
        theta = spec_category.replenish_days / shape
        longest = (
            math.ceil(distributions.gamma.ppf(INTERVAL_QUANTILE, shape - 1.0, scale=theta)) + 1
        )
        probability = interval_distribution(ctx, k, longest)
        reach = np.zeros(longest + 1)
        steps = np.arange(longest + 1)
        for chunk in range(0, rows.shape[0], ORDER_CHUNK):
            part = rows[chunk : chunk + ORDER_CHUNK]
            start = survival(ctx.spec, tenure[part])
            later = survival(ctx.spec, tenure[part][:, None] + steps[None, :])
            inside = steps[None, :] <= (end - day[part])[:, None]
            reach += (later / start[:, None] * inside).sum(axis=0)
        expected = probability * reach
        observed = np.bincount(np.minimum(following[seen], longest), minlength=longest + 1)
        effective = kish_effective(per_series)
        distance = tvd(observed, expected)
        gate = tvd_threshold(effective, expected, MIX_SLACK)
        judged = True
        if distance / gate >= worst:
            worst = distance / gate
            detail = (
                f"{spec_category.name}: TVD {distance:.3f} over {int(per_series.shape[0])}"
                f" staples, median {np.median(following[seen]):.0f} days"
            )
    if not judged:
        return None
    return at_most(
        "line_items.replenishment_interval",
        "fidelity",
        "TVD / tolerance (worst)",
        worst,
        1.0,
        f"days from a staple's reorder to the next vs its cycle, dropout and the calendar's"
        f" end (worst {detail})",
    )


def replenishment_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Volume, regularity and intervals of the staples' reorders."""
    found = [volume_check(ctx, stats), regularity_check(stats), interval_check(ctx, stats)]
    return [check for check in found if check is not None]


CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "transactions.replenishment_volume",
        "staples' reorders per category vs sales.replenishment.share x E[1/P] x the"
        " customers' buying days",
        st.REPLENISH_ORDERS,
        st.CUSTOMERS_BY_SIGNUP,
        only_when="a category has replenish_days",
    ),
    fidelity(
        "line_items.replenishment_regular",
        "each sampled staple with 3+ reorders is reordered on one period (intervals within a"
        " day of each other)",
        st.REPLENISH_SAMPLE,
    ),
    fidelity(
        "line_items.replenishment_interval",
        "days from a sampled staple's reorder to its next vs the category's cycle"
        " (replenish_days x Gamma(cycle_shape)), dropout and the calendar's end",
        st.REPLENISH_SAMPLE,
        st.CUSTOMERS_SAMPLE,
        only_when=f"a staple category with {MIN_SERIES}+ sampled staples reordered",
    ),
)

FAMILY = CheckFamily(
    order=56,
    judge=lambda ctx, stats, _listing: replenishment_checks(ctx, stats),
    checks=CHECKS,
)
