"""Estimators of how often and how long customers buy: the Pareto/NBD fits (from the
first purchase, or seasonal from signup), the signup history and the monthly profile."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from synthpipe.clock import DAYS_PER_YEAR
from synthpipe.fit.sample import Sample
from synthpipe.fit.seasonal import SeasonalSeen, seasonal_log_likelihood, seen_chance
from synthpipe.fit.shared import OPEN_BOUND_MARGIN, Values, row_weights
from synthpipe.fit.timing import (
    buying_customers,
    flat_month_factors,
    month_basis,
    month_end,
    month_start,
    monthly_from_daily,
)
from synthpipe.model.blockmonth import cached_day_factors
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.customers import median_income, reference_income
from synthpipe.model.expectation import age_distribution, rate_moments
from synthpipe.spec.base import field_bounds
from synthpipe.spec.models import Customers, Lifetime, Sales, Spec

START = np.log([1.0, 0.2, 1.0, 1.0])  # Pareto/NBD starting point: log r, alpha, s, beta
LOG_BOUNDS = (-9.0, 9.0)  # each Pareto/NBD parameter between e^-9 and e^9
DAYS_PER_FULL_YEAR = 365  # a sample this long sees every month (the monthly profile)
# visits_per_year's open floor 0: a sample with almost no purchases keeps this many a year
VISITS_FLOOR_MARGIN = 1e-3
# the spec's ranges of the fields the lifecycle sets, as its models declare them
VISITS = field_bounds(Sales, "visits_per_year")
ACTIVITY_SHAPE = field_bounds(Customers, "activity_shape")
DROPOUT_SHAPE = field_bounds(Lifetime, "dropout_shape")
DROPOUT_PER_YEAR = field_bounds(Lifetime, "dropout_per_year")
SIGNUP_GROWTH = field_bounds(Customers, "signup_growth")


def distinct_days(customer: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (customer, day) pairs of purchases (days from the sample's first),
    sorted by customer then day: one sort of a packed key."""
    key = np.unique(customer * np.int64(1 << 32) + day)
    return key >> 32, key & ((1 << 32) - 1)


def customer_histories(sample: Sample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer, in years: repeat purchase days x, the last purchase day after the
    first t_x, and the time from the first to the sample's end T (distinct days: a second
    purchase the same day is not a new visit)."""
    customer, day = distinct_days(sample.customer, sample.day - sample.day.min())
    first = np.full(sample.customers, np.iinfo(np.int64).max)
    last = np.zeros(sample.customers, dtype=np.int64)
    np.minimum.at(first, customer, day)
    np.maximum.at(last, customer, day)
    visits = np.bincount(customer, minlength=sample.customers)
    end = int(sample.day.max() - sample.day.min())
    return (
        (visits - 1).astype(np.float64),
        (last - first) / DAYS_PER_YEAR,
        (end + 1 - first) / DAYS_PER_YEAR,
    )


def pareto_nbd_log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, weight: np.ndarray
) -> float:
    """Weighted log-likelihood of Pareto/NBD (Schmittlein, Morrison and Colombo; Fader and
    Hardie's form) with log r, log alpha, log s, log beta, time counted from each
    customer's first purchase (x: the purchases after it)."""
    r, alpha, s, beta = np.exp(params)
    rsx = r + s + x
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
    if alpha >= beta:
        base, b = alpha, s + 1.0
        gap = alpha - beta
    else:
        base, b = beta, r + x
        gap = beta - alpha
    early = np.log(special.hyp2f1(rsx, b, rsx + 1.0, gap / (base + t_x))) - rsx * np.log(base + t_x)
    late = np.log(special.hyp2f1(rsx, b, rsx + 1.0, gap / (base + big_t))) - rsx * np.log(
        base + big_t
    )
    with np.errstate(invalid="ignore", over="ignore"):  # a wild step: -1e300 below
        top = np.maximum(alive, early)
        mixed = np.exp(alive - top) + s / rsx * (np.exp(early - top) - np.exp(late - top))
        value = head + top + np.log(np.maximum(mixed, 1e-300))
    total = float((weight * value).sum())
    return total if math.isfinite(total) else -1e300


def multiplier_cv2(spec: Spec) -> float:
    """Squared coefficient of variation of a customer's visible rate multiplier (segment
    frequency x (income / reference)^b x (1 + uplift x loyal)) over the population: the
    spread the fitted Gamma holds besides the latent activity."""
    customers, sales = spec.customers, spec.sales
    ages, p_age, _ = age_distribution(spec)
    b, sigma, u = sales.income_elasticity, customers.income.sigma, sales.loyalty_uplift
    reference = reference_income(spec)
    segments = list(customers.segments.values())
    total = sum(s.share for s in segments)
    first = second = 0.0
    for segment in segments:
        median = median_income(spec, ages) * segment.income_factor / reference
        p = segment.loyalty_rate
        w = segment.share / total
        first += (
            w
            * segment.frequency
            * (1 + u * p)
            * float((p_age * median**b * np.exp(0.5 * (b * sigma) ** 2)).sum())
        )
        second += (
            w
            * segment.frequency**2
            * (1 + 2 * u * p + u * u * p)
            * float((p_age * median ** (2 * b) * np.exp(2 * (b * sigma) ** 2)).sum())
        )
    return second / (first * first) - 1.0


def mean_multiplier(spec: Spec) -> float:
    """Expected visits a year per unit of visits_per_year (the multiplier's mean)."""
    unit = spec.model_copy(update={"sales": spec.sales.model_copy(update={"visits_per_year": 1.0})})
    return float(rate_moments(unit)["rate"].sum()) * DAYS_PER_YEAR


def first_purchase_days(sample: Sample) -> np.ndarray:
    """Each customer's first purchase, in days from the sample's first day."""
    first = np.full(sample.customers, np.iinfo(np.int64).max)
    np.minimum.at(first, sample.customer, sample.day - sample.day.min())
    return first


def observed_day_factor(spec: Spec, start: np.ndarray, weights: np.ndarray) -> float:
    """The spec's day factor F(d) (trend, weekday, season, holidays) averaged over the days
    each customer was watched, from its day ``start`` (days from the sample's first) to the
    end: what a Poisson rate fitted without seasons has absorbed."""
    factors = cached_day_factors(spec, spec.calendar.start, spec.calendar.end).overall
    running = np.concatenate([[0.0], np.cumsum(factors)])
    start = np.minimum(start, factors.shape[0])
    covered = running[-1] - running[start]
    days = factors.shape[0] - start
    return float((weights * covered).sum()) / max(float((weights * days).sum()), 1e-300)


def fit_pareto_nbd(
    objective: Callable[[np.ndarray], float], total: float
) -> tuple[float, float, float, float]:
    """(r, alpha, s, beta) maximising a weighted Pareto/NBD log-likelihood."""
    result = optimize.minimize(
        lambda p: -objective(p) / total,
        START,
        method="L-BFGS-B",
        bounds=[LOG_BOUNDS] * 4,
    )
    r, alpha, s, beta = (float(v) for v in np.exp(result.x))
    return r, alpha, s, beta


def lifecycle_values(
    fitted: tuple[float, float, float, float], spec: Spec, day_factor: float, per_visit: float
) -> Values:
    """The spec's purchase and lifetime fields from a Pareto/NBD fit (r, alpha, s, beta) of
    purchases counted ``per_visit`` times a visit: the rate is Gamma(r, alpha) a year, so
    visits_per_year = r / alpha / per_visit / E[multiplier] / the mean day factor over the
    days watched, and 1/activity_shape = (1 + 1/r) / (1 + cv^2) - 1 (the
    visible multipliers' spread taken out); the dropout rate is Gamma(s, beta):
    dropout_shape = s, dropout_per_year = s / beta."""
    r, alpha, s, beta = fitted
    # the spec's moments: once per spec, not once per bootstrap replicate
    multiplier = cached_per_spec("mean_multiplier", spec, mean_multiplier)
    spread = cached_per_spec("multiplier_cv2", spec, multiplier_cv2)
    visits = r / alpha / per_visit / multiplier / day_factor
    inverse_k = (1.0 + 1.0 / r) / (1.0 + spread) - 1.0
    # a sample with almost no spread reads as an extreme shape: kept inside the spec's range
    return {
        "sales.visits_per_year": round(float(VISITS.clip(visits, VISITS_FLOOR_MARGIN)), 4),
        "customers.activity_shape": round(
            float(ACTIVITY_SHAPE.clip(1.0 / max(inverse_k, 1e-9), OPEN_BOUND_MARGIN)), 4
        ),
        "customers.lifetime.dropout_shape": round(
            float(DROPOUT_SHAPE.clip(s, OPEN_BOUND_MARGIN)), 4
        ),
        "customers.lifetime.dropout_per_year": round(float(DROPOUT_PER_YEAR.clip(s / beta)), 4),
    }


def lifecycle(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """Purchase frequency, activity and dropout from a Pareto/NBD fit on each customer's
    visits after the first (frequency, recency and age), for samples without signup dates.
    Customers who joined before the sample are survivors, so the dropout reads low."""
    if sample.signup is not None:
        return {}  # the estimator from signup reads the same fields without that bias
    x, t_x, big_t = customer_histories(sample)
    key = np.stack([x, np.round(t_x * DAYS_PER_YEAR), np.round(big_t * DAYS_PER_YEAR)], axis=1)
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    grouped = np.bincount(inverse.ravel(), weights=weights, minlength=unique.shape[0])
    ux, ut, u_end = unique[:, 0], unique[:, 1] / DAYS_PER_YEAR, unique[:, 2] / DAYS_PER_YEAR
    fitted = fit_pareto_nbd(
        lambda p: pareto_nbd_log_likelihood(p, ux, ut, u_end, grouped),
        max(float(grouped.sum()), 1.0),
    )
    day_factor = observed_day_factor(spec, first_purchase_days(sample) + 1, weights)
    return lifecycle_values(fitted, spec, day_factor, 1.0)  # distinct days: visits


@dataclass(frozen=True)
class Watched:
    """Per customer, watched from signup or the sample's first day, whichever is later
    (``start``, days from the sample's first), after ``before`` days alive unwatched: its
    legitimate sales' distinct days and the last of them (-1: none)."""

    start: np.ndarray
    before: np.ndarray
    days: np.ndarray  # 0 for a customer seen only in fraud or refunds
    last: np.ndarray  # watched day index of the last purchase day


def watched_histories(sample: Sample) -> Watched:
    """Each customer's legitimate sales from the later of signup and the sample's first
    day, as purchase days: a day's second sale is mostly a same-day repeat, which the model
    adds on top of a visit (``undo_day_merging`` turns day rates back into visit rates)."""
    assert sample.signup is not None
    origin = int(sample.day.min())
    legitimate = sample.amount >= 0
    if sample.fraud is not None:
        legitimate &= ~sample.fraud
    buyer, day = distinct_days(sample.customer[legitimate], sample.day[legitimate] - origin)
    last = np.full(sample.customers, -1, dtype=np.int64)
    np.maximum.at(last, buyer, day)
    start = np.maximum(sample.signup - origin, 0)
    return Watched(
        start=start,
        before=np.maximum(origin - sample.signup, 0),
        days=np.bincount(buyer, minlength=sample.customers).astype(np.float64),
        last=np.where(last >= 0, last - start, -1),
    )


def signup_growth(
    signup: np.ndarray, weights: np.ndarray, seen: Callable[[np.ndarray], np.ndarray]
) -> tuple[float, float]:
    """(signup_growth, customers signed up in all, seen or not) by maximum likelihood: the
    seen signups have density g(a) x P(seen | a), g growing by e^(rho) a day over the
    window of seen signups; the count is the seen over the mean of P(seen) under g."""
    first, last = int(signup.min()), int(signup.max())
    days = np.arange(last - first + 1, dtype=np.float64)
    p_seen = seen(days + first)
    offsets = (signup - first).astype(np.float64)
    total = float(weights.sum())
    mean_offset = float((weights * offsets).sum()) / max(total, 1e-300)

    def negative(growth: float) -> float:
        rho = math.log1p(growth) / DAYS_PER_YEAR
        log_g = rho * days
        top = float(log_g.max())
        norm = top + math.log(float((np.exp(log_g - top) * p_seen).sum()))
        return -(rho * mean_offset - norm)

    found = optimize.minimize_scalar(
        negative, bounds=SIGNUP_GROWTH.inside(OPEN_BOUND_MARGIN), method="bounded"
    )
    growth = float(found.x)
    g = np.exp(math.log1p(growth) / DAYS_PER_YEAR * days)
    count = total * float(g.sum()) / max(float((g * p_seen).sum()), 1e-300)
    return growth, count


def day_moments(r: float, alpha: float, step: np.ndarray) -> tuple[float, float]:
    """E[D] and E[D(D - 1)] of the purchase days D of a year in which a customer buys on
    day d with probability 1 - exp(-lambda step[d]), lambda ~ Gamma(r, alpha): sums of the
    Gamma's Laplace transform (alpha / (alpha + t))^r over days and pairs of days."""
    laplace = (alpha / (alpha + step)) ** r
    pairs = (alpha / (alpha + step[:, None] + step[None, :])) ** r
    first = float((1.0 - laplace).sum())
    both = 1.0 - laplace[:, None] - laplace[None, :] + pairs
    np.fill_diagonal(both, 0.0)
    return first, float(both.sum())


def undo_day_merging(r: float, alpha: float, step: np.ndarray) -> tuple[float, float]:
    """Gamma(r, alpha) of the visit rates whose purchase days (a day's visits merge into
    one) have the first two factorial moments that the Gamma(r_d, alpha_d) fitted to them
    as Poisson counts gives over the same exposure L: r_d L / alpha_d and L^2 r_d
    (r_d + 1) / alpha_d^2."""
    exposure = float(step.sum())
    target = np.asarray(
        [r * exposure / alpha, exposure**2 * r * (r + 1.0) / alpha**2], dtype=np.float64
    )

    def gap(log_params: np.ndarray) -> np.ndarray:
        moments = day_moments(float(np.exp(log_params[0])), float(np.exp(log_params[1])), step)
        return np.asarray(moments) / target - 1.0

    found = optimize.least_squares(gap, np.log([r, alpha]))
    return float(np.exp(found.x[0])), float(np.exp(found.x[1]))


def lifecycle_from_signup(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """Purchase frequency, activity, dropout, the signup history and the customers in all,
    from the seasonal Pareto/NBD (``synthpipe.fit.seasonal``) of customers watched from
    signup or the sample's first day, with the survival to that day, the spec's day factors
    and being seen at all in the likelihood: long-standing survivors do not read as a low
    dropout, nor the seasons as a spread of dropout rates. The signup window is the seen
    signups' months; the growth and count are ``signup_growth``'s."""
    assert sample.signup is not None
    origin, end = int(sample.day.min()), int(sample.day.max())
    factors = cached_day_factors(spec, spec.calendar.start, spec.calendar.end).overall
    if factors.shape[0] != end - origin + 1:
        return {}  # --set moved the calendar off the sample's days
    watched = watched_histories(sample)
    present = (weights > 0) & (watched.days > 0)  # a customer seen only in fraud or refunds: not
    histories = SeasonalSeen.of(
        watched.days[present],
        watched.last[present],
        watched.start[present],
        watched.before[present],
        weights[present],
        factors,
    )
    r, alpha, s, beta = fit_pareto_nbd(
        lambda p: seasonal_log_likelihood(p, histories), max(float(histories.weight.sum()), 1.0)
    )
    # the fitted rates are of purchase days (a day's visits, and a visit's same-day repeat,
    # are one day); the visit rates are those whose merged days have the same moments
    visit_r, visit_alpha = undo_day_merging(r, alpha, factors / DAYS_PER_YEAR)
    values = lifecycle_values((visit_r, visit_alpha, s, beta), spec, 1.0, 1.0)

    def seen(signup: np.ndarray) -> np.ndarray:
        day = signup.astype(np.int64)
        return seen_chance(
            (r, alpha, s, beta),
            np.maximum(day - origin, 0),
            np.maximum(origin - day, 0),
            histories.cumulative,
        )

    growth, count = signup_growth(sample.signup[present], weights[present], seen)
    days = np.arange(origin, end + 1)
    flat = cached_per_spec("flat_month_factors", spec, flat_month_factors)
    # a year sees every month's weight; the spec's calendar is the sample's unless --set
    if days.shape[0] >= DAYS_PER_FULL_YEAR and flat.shape[0] == days.shape[0]:
        row = row_weights(sample, weights) * (sample.amount >= 0)
        first_signup, last_signup = int(sample.signup.min()), int(sample.signup.max())
        buying = buying_customers(
            (first_signup, last_signup, math.log1p(growth) / DAYS_PER_YEAR), (s, beta), days
        )
        values.update(
            monthly_from_daily(
                np.bincount(sample.day - origin, weights=row, minlength=days.shape[0]),
                buying * flat,
                cached_per_spec("month_basis", spec, month_basis),
            )
        )
    values["customers.signup_start"] = month_start(int(sample.signup.min()))
    values["customers.signup_end"] = month_end(int(sample.signup.max()), end)
    values["customers.signup_growth"] = round(growth, 4)
    values["customers.count"] = round(count)
    return values
