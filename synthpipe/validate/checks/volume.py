"""Checks of the volume family."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from synthpipe.model.sales import expected_hour_profile, repeat_factor
from synthpipe.model.seasonality import black_friday, holiday_names
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    DAILY_SLACK,
    MIX_SLACK,
    PROFILE_SLACK,
    VOLUME_SLACK,
    CheckFamily,
    CheckInfo,
    fidelity,
    ordinary_daily,
    stat,
    tvd_check,
)
from synthpipe.validate.context import ValidationContext, buying_base
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    Check,
    at_most,
    chi_square_p,
    chi_square_sum_p,
    poisson_ratio_threshold,
    tvd,
    two_sided_normal_p,
)
from synthpipe.validate.merge import Stats
from synthpipe.validate.sales import DAYS_PER_TENURE_YEAR, TENURE_YEARS
from synthpipe.validate.spread import month_covariance, profile_threshold
from synthpipe.vocabulary import CHANNELS

# --- volume and profiles ---------------------------------------------------------------------


def expected_sales(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(days, channels) expected legitimate sales given the customers on disk:
    F(d) x G_channel(d) x (sum of visible-attribute rates of customers signed up by d)
    x (1 + repeat_same_day)."""
    rate = _rates_by_signup(ctx, stats)
    base = np.stack(
        [buying_base(rate[:, c], ctx.active_by_lag, ctx.days) for c in range(2)], axis=1
    )
    return np.asarray(ctx.daily_factors * base * repeat_factor(ctx.spec))


def _rates_by_signup(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    window = ctx.exposure_from_signup.shape[0]
    return np.asarray(stat(stats, st.CUSTOMERS_RATE_BY_SIGNUP, np.zeros((window, 2))))


def expected_by_tenure(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """Expected legitimate sales by whole years since signup: over calendar days d and
    signup days u, (1 + r) x sum f_ch(d) R_ch(u) S(d - u) in the bucket of d - u."""
    rate = _rates_by_signup(ctx, stats)
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


def _tenure_check(ctx: ValidationContext, stats: Stats) -> Check:
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


def customers_cv2(stats: Stats) -> float:
    """Relative variance of the calendar's legitimate sales that the customers' latent
    activity and lifetimes add to the Poisson draws: the exact variance of their expected
    first sales, sum over customers of m^2 ((1 + 1/k) E[T^2] / E[T]^2 - 1)
    (``customers.class_extra_variance``), over the square of their sum. Same-day repeats
    scale both alike."""
    first = float(np.sum(stat(stats, st.CUSTOMERS_CLASS_EXPECTED, 0.0)))
    extra = float(np.sum(stat(stats, st.CUSTOMERS_CLASS_EXTRA_VARIANCE, 0.0)))
    return extra / (first * first) if first > 0 else 0.0


def compound_poisson_factor(repeat: float) -> float:
    """Variance over mean of a count of sales whose first sales are Poisson, each bringing
    a same-day repeat with probability r: (1 + 3r) / (1 + r)."""
    return (1.0 + 3.0 * repeat) / (1.0 + repeat)


def volume_and_profile_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Total volume, and daily, weekday, month, holiday, hour, channel and payment profiles."""
    spec = ctx.spec
    checks: list[Check] = []
    daily = ordinary_daily(ctx, stats)
    sales = daily[:, :, 0]
    refunds = daily[:, :, 1]
    expected = expected_sales(ctx, stats)
    observed_total, expected_total = float(sales.sum()), float(expected.sum())
    repeat = spec.sales.habits.repeat_same_day
    # the customers' latent activity and lifetimes move all of a customer's days together:
    # their covariance over the months (see synthpipe.validate.spread)
    spread = month_covariance(ctx, stats)
    volume_cv2 = customers_cv2(stats)
    poisson_expected = expected_total / compound_poisson_factor(repeat)
    active = max(float(stat(stats, st.CUSTOMERS_ROWS)), 1.0)
    extra_cv2 = 1.0 / (spec.customers.activity_shape * active)
    ratio_error = abs(observed_total / expected_total - 1.0) if expected_total > 0 else math.inf
    z = (observed_total - expected_total) / math.sqrt(max(expected_total, 1.0))
    checks.append(
        at_most(
            "transactions.volume",
            "fidelity",
            "|observed / expected - 1|",
            ratio_error,
            poisson_ratio_threshold(poisson_expected, volume_cv2, VOLUME_SLACK),
            f"legitimate sales {observed_total:,.0f} vs {expected_total:,.0f} expected from"
            " the spec"
            " and the customers on disk",
            two_sided_normal_p(z),
        )
    )
    checks.append(_intensity_check(ctx, stats))
    checks.append(_online_by_age_check(ctx, stats))
    total_daily = sales.sum(axis=1)
    expected_daily = expected.sum(axis=1)
    n = float(total_daily.sum())
    checks.append(
        at_most(
            "transactions.daily_profile",
            "fidelity",
            "TVD",
            tvd(total_daily, expected_daily),
            profile_threshold(expected_daily, n, repeat, spread, ctx.month_of_day, DAILY_SLACK),
            "share of sales on each calendar day vs base x trend x weekday x yearly x holidays",
            chi_square_p(total_daily, expected_daily),
        )
    )
    weekday = (ctx.dates.astype(np.int64) + 3) % 7
    checks.append(
        tvd_check(
            "transactions.weekday_profile",
            np.bincount(weekday, total_daily, 7),
            np.bincount(weekday, expected_daily, 7),
            n,
            PROFILE_SLACK,
            "share of sales per weekday (Monday..Sunday) vs the expected curve",
        )
    )
    months = len(ctx.months)
    observed_months = np.bincount(ctx.month_of_day, total_daily, months)
    expected_months = np.bincount(ctx.month_of_day, expected_daily, months)
    checks.append(
        at_most(
            "transactions.month_profile",
            "fidelity",
            "TVD",
            tvd(observed_months, expected_months),
            profile_threshold(expected_months, n, repeat, spread, np.arange(months), PROFILE_SLACK),
            "share of sales per month vs the expected curve",
            chi_square_p(observed_months, expected_months),
        )
    )
    checks += _holiday_checks(ctx, total_daily, expected_daily, spread)
    checks.append(_tenure_check(ctx, stats))
    hours = np.asarray(stat(stats, st.TRANSACTIONS_HOURS, np.zeros((2, 24))))
    for ch, name in enumerate(CHANNELS):
        checks.append(
            tvd_check(
                f"transactions.hour_profile_{name}",
                hours[ch],
                expected_hour_profile(spec, ch),
                float(hours[ch].sum()),
                PROFILE_SLACK,
                f"share of {name} sales per hour vs the spec (night shopping and same-day"
                " repeats included)",
            )
        )
    online_share = float(sales[:, 1].sum()) / max(n, 1.0)
    expected_online = float(expected[:, 1].sum()) / max(expected_total, 1e-12)
    tolerance = (
        GATE_SIGMAS * math.sqrt(expected_online * (1 - expected_online) / max(n, 1.0) + extra_cv2)
        + MIX_SLACK
    )
    checks.append(
        at_most(
            "transactions.channel_mix",
            "fidelity",
            "|online share - expected|",
            abs(online_share - expected_online),
            tolerance,
            f"online share of sales {online_share:.4f} vs {expected_online:.4f} expected",
        )
    )
    payments = np.asarray(stat(stats, st.TRANSACTIONS_PAYMENTS, np.zeros((2, len(ctx.payments)))))
    for ch, (name, channel) in enumerate(
        (("in_store", spec.sales.channels.in_store), ("online", spec.sales.channels.online))
    ):
        weights = np.asarray([channel.payment.get(p, 0.0) for p in ctx.payments])
        checks.append(
            tvd_check(
                f"transactions.payment_mix_{name}",
                payments[ch],
                weights,
                float(payments[ch].sum()),
                MIX_SLACK,
                f"payment methods of {name} sales vs the spec",
            )
        )
    refund_total = float(refunds.sum())
    expected_refunds = spec.sales.return_rate * expected_total
    refund_error = (
        abs(refund_total / expected_refunds - 1.0)
        if expected_refunds > 0
        else float(refund_total > 0)
    )
    checks.append(
        at_most(
            "transactions.refund_rate",
            "fidelity",
            "|observed / expected - 1|",
            refund_error,
            poisson_ratio_threshold(expected_refunds, volume_cv2, VOLUME_SLACK)
            if expected_refunds > 0
            else 0,
            f"ordinary refunds {refund_total:,.0f} vs {expected_refunds:,.0f}"
            " (return_rate x expected sales)",
        )
    )
    observed_home = float(stat(stats, st.STORE_CHOICE_HOME_REGION_OBSERVED))
    expected_home = float(stat(stats, st.STORE_CHOICE_HOME_REGION_EXPECTED))
    in_store = float(stat(stats, st.STORE_CHOICE_IN_STORE_SALES))
    if in_store > 0:
        p = expected_home / in_store
        checks.append(
            at_most(
                "transactions.home_region_share",
                "fidelity",
                "|observed - expected| share",
                abs(observed_home - expected_home) / in_store,
                GATE_SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / in_store) + MIX_SLACK,
                f"in-store sales in the home region: {observed_home / in_store:.4f}"
                f" vs {p:.4f} expected",
            )
        )
    return checks


def _intensity_check(ctx: ValidationContext, stats: Stats) -> Check:
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
    online = CHANNELS.index("online")
    sales = observed.sum(axis=1).astype(np.float64)
    expected_total = expected.sum(axis=1)
    judged = (sales > 0) & (expected_total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(judged, expected[:, online] / expected_total, 0.0)
        observed_share = np.where(judged, observed[:, online] / sales, 0.0)
    return OnlineShares(observed_share, share, sales, judged)


def _online_by_age_check(ctx: ValidationContext, stats: Stats) -> Check:
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


def _holiday_checks(
    ctx: ValidationContext, observed: np.ndarray, expected: np.ndarray, spread: np.ndarray
) -> list[Check]:
    """Sales on public holidays and on Black Fridays against their expectation. The count
    is compound Poisson given the customers' intensities, which vary with their latent
    activity and lifetimes: a month's share w of the days' expected sales carries that
    share of the month's customer spread, so their variance is (1 + r)^2 w' C w with C the
    months' covariance (``month_covariance``)."""
    spec = ctx.spec
    repeat = spec.sales.habits.repeat_same_day
    months = len(ctx.months)
    month_expected = np.bincount(ctx.month_of_day, expected, months)
    names = holiday_names(spec, ctx.dates)
    holiday = np.asarray(
        [
            n is not None and not all(p.strip().endswith("(observed)") for p in n.split(";"))
            for n in names
        ]
    )
    years = sorted({d.year for d in ctx.dates.astype(dt.date).tolist()})
    fridays = [np.datetime64(black_friday(y), "D") for y in years]
    friday = np.isin(ctx.dates, fridays)
    checks = []
    for name, mask, what in (
        ("transactions.holiday_lift", holiday, "public holidays"),
        ("transactions.black_friday_lift", friday, "Black Friday"),
    ):
        exp = float(expected[mask].sum())
        if exp <= 0:
            continue
        obs = float(observed[mask].sum())
        # Compare the lift over the ordinary days of the same weeks: observed vs expected.
        error = abs(obs / exp - 1.0)
        share = np.divide(
            np.bincount(ctx.month_of_day[mask], expected[mask], months),
            month_expected,
            out=np.zeros(months),
            where=month_expected > 0,
        )
        customers = (1.0 + repeat) ** 2 * float(share @ spread @ share) / (exp * exp)
        checks.append(
            at_most(
                name,
                "fidelity",
                "|observed / expected - 1|",
                error,
                poisson_ratio_threshold(
                    exp / compound_poisson_factor(repeat), customers, PROFILE_SLACK
                ),
                f"sales on {what}: {obs:,.0f} vs {exp:,.0f} expected with the spec's multipliers",
                two_sided_normal_p((obs - exp) / math.sqrt(exp)),
            )
        )
    return checks


_EXPECTED = (
    st.TRANSACTIONS_DAILY_LEGIT,
    st.TRANSACTIONS_DAILY_REORDERS,
    st.CUSTOMERS_RATE_BY_SIGNUP,
    st.CUSTOMERS_ROWS,
)
# the customers' spread: the exact variance of their calendar's expected first sales, and
# the followed customers whose simulated histories share it out over the months
_CUSTOMERS_CV2 = (st.CUSTOMERS_CLASS_EXPECTED, st.CUSTOMERS_CLASS_EXTRA_VARIANCE)
_SPREAD = (st.CUSTOMERS_SAMPLE, st.CUSTOMERS_CLASS_EXTRA_VARIANCE)
CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "transactions.volume",
        "legitimate sales vs those expected from the spec and the customers on disk",
        *_EXPECTED,
        *_CUSTOMERS_CV2,
    ),
    fidelity(
        "transactions.intensity_by_class",
        "legitimate sales per customer class (segment x loyalty x income band) vs the spec's"
        " purchase rate of the customers on disk",
        st.CUSTOMERS_CLASS_EXPECTED,
        st.CUSTOMERS_CLASS_EXTRA_VARIANCE,
        st.TRANSACTIONS_SALES_BY_CLASS,
    ),
    fidelity(
        "transactions.online_share_by_age",
        "online share of sales in each age band vs the spec",
        st.CUSTOMERS_BAND_CHANNEL_EXPECTED,
        st.TRANSACTIONS_SALES_BY_BAND_CHANNEL,
    ),
    fidelity(
        "transactions.daily_profile",
        "share of sales on each calendar day vs base x trend x weekday x yearly x holidays",
        *_EXPECTED,
        *_SPREAD,
    ),
    fidelity(
        "transactions.weekday_profile",
        "share of sales per weekday (Monday..Sunday) vs the expected curve",
        *_EXPECTED,
    ),
    fidelity(
        "transactions.month_profile",
        "share of sales per month vs the expected curve",
        *_EXPECTED,
        *_SPREAD,
    ),
    fidelity(
        "transactions.holiday_lift",
        "sales on public holidays vs those expected with the spec's multipliers",
        *_EXPECTED,
        *_SPREAD,
        only_when="the calendar holds a public holiday",
    ),
    fidelity(
        "transactions.black_friday_lift",
        "sales on Black Friday vs those expected with the spec's multipliers",
        *_EXPECTED,
        *_SPREAD,
        only_when="the calendar holds a Black Friday",
    ),
    fidelity(
        "transactions.sales_by_tenure",
        "legitimate sales by whole years since signup vs the lifetime model's survival",
        st.TRANSACTIONS_SALES_BY_TENURE,
        st.CUSTOMERS_RATE_BY_SIGNUP,
        st.CUSTOMERS_CLASS_EXPECTED,
        st.CUSTOMERS_CLASS_EXTRA_VARIANCE,
    ),
    *(
        fidelity(
            f"transactions.hour_profile_{channel}",
            f"share of {channel} sales per hour vs the spec",
            st.TRANSACTIONS_HOURS,
        )
        for channel in CHANNELS
    ),
    fidelity("transactions.channel_mix", "online share of sales vs the expected", *_EXPECTED),
    *(
        fidelity(
            f"transactions.payment_mix_{channel}",
            f"payment methods of {channel} sales vs the spec",
            st.TRANSACTIONS_PAYMENTS,
        )
        for channel in CHANNELS
    ),
    fidelity(
        "transactions.refund_rate",
        "ordinary refunds vs return_rate x expected sales",
        *_EXPECTED,
        *_CUSTOMERS_CV2,
    ),
    fidelity(
        "transactions.home_region_share",
        "in-store sales in the home region vs the spec's store choice",
        st.STORE_CHOICE_HOME_REGION_EXPECTED,
        st.STORE_CHOICE_HOME_REGION_OBSERVED,
        st.STORE_CHOICE_IN_STORE_SALES,
    ),
)

FAMILY = CheckFamily(
    order=40,
    judge=lambda ctx, stats, _listing: volume_and_profile_checks(ctx, stats),
    checks=CHECKS,
)
