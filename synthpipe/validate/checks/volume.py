"""Checks of the volume family: total volume, its calendar profiles (day, weekday, month,
holidays, hour), the channel and payment mixes and the refund rate. The checks of who buys
(per class, age band, tenure, home region) live in ``checks/shoppers.py`` and are run and
declared here, in the family's order."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from synthpipe.clock import weekday_of
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
from synthpipe.validate.checks.shoppers import (
    HOME_REGION_SHARE,
    INTENSITY_BY_CLASS,
    ONLINE_SHARE_BY_AGE,
    SALES_BY_TENURE,
    home_region_check,
    intensity_check,
    online_by_age_check,
    rates_by_signup,
    tenure_check,
)

# the report draws the online share by age from here
from synthpipe.validate.checks.shoppers import online_shares as online_shares
from synthpipe.validate.context import ValidationContext, buying_base
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    Check,
    at_most,
    chi_square_p,
    poisson_ratio_threshold,
    tvd,
    two_sided_normal_p,
)
from synthpipe.validate.merge import Stats
from synthpipe.validate.spread import month_covariance, profile_threshold
from synthpipe.vocabulary import CHANNELS

# --- volume and profiles ---------------------------------------------------------------------


def expected_sales(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(days, channels) expected legitimate sales given the customers on disk:
    F(d) x G_channel(d) x (sum of visible-attribute rates of customers signed up by d)
    x (1 + repeat_same_day)."""
    rate = rates_by_signup(ctx, stats)
    base = np.stack(
        [buying_base(rate[:, c], ctx.active_by_lag, ctx.days) for c in range(2)], axis=1
    )
    return np.asarray(ctx.daily_factors * base * repeat_factor(ctx.spec))


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
    checks.append(intensity_check(ctx, stats))
    checks.append(online_by_age_check(ctx, stats))
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
    weekday = weekday_of(ctx.dates.astype(np.int64))
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
    checks.append(tenure_check(ctx, stats))
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
        zip(CHANNELS, spec.sales.channels.sections(), strict=True)
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
    home_region = home_region_check(stats)
    if home_region is not None:
        checks.append(home_region)
    return checks


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
    INTENSITY_BY_CLASS,
    ONLINE_SHARE_BY_AGE,
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
    SALES_BY_TENURE,
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
    HOME_REGION_SHARE,
)

FAMILY = CheckFamily(
    order=40,
    judge=lambda ctx, stats, _listing: volume_and_profile_checks(ctx, stats),
    checks=CHECKS,
)
