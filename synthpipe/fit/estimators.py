"""The estimators of ``synthpipe fit``: each one declared once, here, with the spec fields it
sets and the sample columns it reads.

Every estimator takes the sample, one weight per customer (1 for the estimate, Poisson(1)
draws for a bootstrap replicate) and the spec it starts from, and returns values by
dotted spec path. Weights make the bootstrap over customers a re-weighting, not a copy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special
from scipy.special import ndtri

from synthpipe.clock import (
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    NIGHT_END_HOUR,
    THURSDAY_OFFSET,
)
from synthpipe.fit.sample import Sample
from synthpipe.fit.seasonal import SeasonalSeen, seasonal_log_likelihood, seen_chance
from synthpipe.model.blockmonth import cached_day_factors
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.customers import median_income, reference_income
from synthpipe.model.expectation import age_distribution, rate_moments
from synthpipe.model.money import CENTS
from synthpipe.model.products import charm_price_cents
from synthpipe.model.sales import splurge_lines_mean
from synthpipe.model.seasonality import date_range, day_factors, yearly_factor
from synthpipe.model.truth import expected_mean_sale_value, line_values
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, GENDERS

PROFILE_FLOOR = 1e-3  # a profile cell with no purchase keeps this much weight (spec: > 0)
START = np.log([1.0, 0.2, 1.0, 1.0])  # Pareto/NBD starting point: log r, alpha, s, beta
SHAPES = (0.06, 100.0)  # customers.activity_shape's range in the spec
DROPOUT_SHAPES = (0.06, 100.0)  # customers.lifetime.dropout_shape's range
MAX_DROPOUT = 50.0  # customers.lifetime.dropout_per_year's largest value
MAX_VISITS = 2_000.0  # sales.visits_per_year's largest value
MAX_BASKET = 100.0  # sales.basket_mean_items's largest value
MAX_RETURN_RATE = 0.5  # sales.return_rate's largest value
LIFECYCLE_REPLICATES = 10  # a Pareto/NBD fit costs seconds at 10^5 customers
LOG_BOUNDS = (-9.0, 9.0)  # each Pareto/NBD parameter between e^-9 and e^9
GROWTH_RANGE = (-0.89, 5.0)  # customers.signup_growth's range in the spec
MONTHS = 12
DAYS_PER_FULL_YEAR = 365  # a sample this long sees every month (the monthly profile)

Values = dict[str, object]


@dataclass(frozen=True)
class Estimator:
    """One estimator: a name, the spec fields it sets, the columns it needs and its function."""

    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]
    estimate: Callable[[Sample, np.ndarray, Spec, int], Values]
    replicates: int = 40  # bootstrap replicates over customers for its interval (0: none)

    def applies(self, sample: Sample) -> bool:
        """Whether the sample has the columns this estimator reads."""
        have = {"customer_id", "ts", "amount"}
        have |= {
            name
            for name, value in (
                ("items", sample.items),
                ("channel", sample.channel),
                ("payment_method", sample.payment),
                ("is_fraud", sample.fraud),
                ("category", sample.category),
                ("hour", sample.hour),
                ("signup_date", sample.signup),
                ("fraud_type", sample.fraud_type),
                ("age", sample.age),
                ("gender", sample.gender),
            )
            if value is not None
        }
        return set(self.columns) <= have


def _row_weights(sample: Sample, weights: np.ndarray) -> np.ndarray:
    """Each row's bootstrap weight; 0 for a row labelled fraud (the legitimate behaviour
    is what these estimators describe)."""
    row = np.asarray(weights[sample.customer], dtype=np.float64)
    return row if sample.fraud is None else np.where(sample.fraud, 0.0, row)


def calendar_range(sample: Sample, _weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """calendar.start and calendar.end: the sample's first and last days."""
    first = np.datetime64(int(sample.day.min()), "D")
    last = np.datetime64(int(sample.day.max()), "D")
    return {"calendar.start": str(first), "calendar.end": str(last)}


def weekday_profile(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """sales.weekday: each day's purchases over the centred 7-day mean around it (which
    holds every weekday once, so trend, seasons and a growing customer base divide out),
    averaged per weekday and scaled to mean 1."""
    first = int(sample.day.min())
    counts = np.bincount(
        sample.day - first, weights=_row_weights(sample, weights) * (sample.amount >= 0)
    )
    return weekday_from_daily(counts, first)


def weekday_from_daily(counts: np.ndarray, first: int) -> Values:
    """``weekday_profile`` from purchases per day (day 0 is ``first``, days since 1970)."""
    if counts.shape[0] < 2 * DAYS_PER_WEEK:
        return {}
    counts = np.maximum(counts, 0.0)
    window = np.convolve(counts, np.ones(DAYS_PER_WEEK) / DAYS_PER_WEEK, mode="valid")
    inner = counts[DAYS_PER_WEEK // 2 : DAYS_PER_WEEK // 2 + window.shape[0]]
    ratio = inner / np.maximum(window, 1e-300)
    days = np.arange(window.shape[0]) + first + DAYS_PER_WEEK // 2
    weekday = (days + THURSDAY_OFFSET) % DAYS_PER_WEEK
    used = window > 0
    mean = np.bincount(weekday[used], weights=ratio[used], minlength=DAYS_PER_WEEK) / np.maximum(
        np.bincount(weekday[used], minlength=DAYS_PER_WEEK), 1
    )
    return {"sales.weekday": _profile(mean)}


def _profile(values: np.ndarray) -> list[float]:
    """Scaled to mean 1, no cell below PROFILE_FLOOR, rounded for the spec."""
    scaled = values / max(float(values.mean()), 1e-300)
    return [round(float(v), 4) for v in np.maximum(scaled, PROFILE_FLOOR)]


def hour_profiles(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """sales.channels.<channel>.hours: purchases per hour of each channel (both channels
    alike when the sample has no channel), when the channel has min_customers customers.
    Online, the night shopping the spec adds on top (a share ``habits.night_online`` of
    online sales, uniform over hours 0 to NIGHT_END_HOUR) is taken out first."""
    assert sample.hour is not None
    row = _row_weights(sample, weights)
    values: Values = {}
    for c, name in enumerate(CHANNELS):
        mask = np.ones(sample.rows, dtype=bool) if sample.channel is None else sample.channel == c
        if np.unique(sample.customer[mask]).shape[0] < min_customers:
            continue
        counts = np.bincount(sample.hour[mask], weights=row[mask], minlength=HOURS_PER_DAY)
        if name == "online" and sample.channel is not None:
            counts = without_night_shopping(counts, spec.sales.habits.night_online)
        values[f"sales.channels.{name}.hours"] = _profile(counts)
    return values


def without_night_shopping(counts: np.ndarray, night: float) -> np.ndarray:
    """Online purchases per hour less the night shopping: the observed shares are
    (1 - night) x the profile + night x uniform over the first NIGHT_END_HOUR hours."""
    shares = counts / max(float(counts.sum()), 1e-300)
    shares[:NIGHT_END_HOUR] -= night / NIGHT_END_HOUR
    return np.asarray(np.maximum(shares, 0.0) / max(1.0 - night, 1e-12))


def online_share(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """sales.channels.online_share: the online share of purchases, scaled by what the spec's
    online_share gives in purchases (P(online | band) = online_share x factor[band], the
    bands weighted by their purchase rates: ``rate_moments``)."""
    assert sample.channel is not None
    row = _row_weights(sample, weights) * (sample.amount >= 0)
    known = sample.channel >= 0
    share = float(row[known & (sample.channel == CHANNELS.index("online"))].sum()) / max(
        float(row[known].sum()), 1e-300
    )
    return online_share_from(share, spec)


def online_share_from(share: float, spec: Spec) -> Values:
    """``online_share`` from the observed online share of purchases."""
    rate = rate_moments(spec)["rate"]
    modelled = float(rate[CHANNELS.index("online")] / rate.sum())
    scaled = share * spec.sales.channels.online_share / max(modelled, 1e-12)
    return {"sales.channels.online_share": round(float(np.clip(scaled, 0.0, 1.0)), 5)}


def payment_mixes(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """sales.channels.<channel>.payment: the mix of the payment methods the spec knows,
    per channel, each method kept when min_customers customers used it there."""
    assert sample.payment is not None
    row = _row_weights(sample, weights)
    values: Values = {}
    for c, name in enumerate(CHANNELS):
        ours = list(getattr(spec.sales.channels, name).payment)
        mask = np.ones(sample.rows, dtype=bool) if sample.channel is None else sample.channel == c
        mix: dict[str, float] = {}
        for method in ours:
            if method not in sample.payment_labels:
                continue
            rows = mask & (sample.payment == sample.payment_labels.index(method))
            if np.unique(sample.customer[rows]).shape[0] >= min_customers:
                mix[method] = float(row[rows].sum())
        total = sum(mix.values())
        if total > 0 and len(mix) >= 1:
            values[f"sales.channels.{name}.payment"] = {
                k: round(v / total, 5) for k, v in mix.items()
            }
    return values


def basket_size(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """sales.basket_mean_items: 1 + (mean items - 1 - splurge lines) / the mean of the
    segment x channel basket factors."""
    assert sample.items is not None
    row = _row_weights(sample, weights)
    sales = sample.amount >= 0
    mean_items = float((sample.items * row)[sales].sum()) / max(float(row[sales].sum()), 1e-300)
    return basket_from(mean_items, spec)


def basket_from(mean_items: float, spec: Spec) -> Values:
    """``basket_size`` from the mean items per sale."""
    segments = list(spec.customers.segments.values())
    share = np.asarray([s.share for s in segments]) / sum(s.share for s in segments)
    basket = float((share * np.asarray([s.basket for s in segments])).sum())
    channels = spec.sales.channels
    online = spec.sales.channels.online_share
    factor = (
        1.0 - online
    ) * channels.in_store.basket_factor + online * channels.online.basket_factor
    extra = (mean_items - 1.0 - splurge_lines_mean(spec)) / max(basket * factor, 1e-12)
    return {"sales.basket_mean_items": round(float(np.clip(1.0 + extra, 1.0, MAX_BASKET)), 4)}


def return_rate(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """sales.return_rate: refunds (rows with a negative amount) per sale, the legitimate
    ones (refunds come at return_rate x the sales intensity, same-day repeats included)."""
    row = _row_weights(sample, weights)
    refunds = float(row[sample.amount < 0].sum())
    if refunds <= 0:
        return {}
    sales = float(row[sample.amount >= 0].sum())
    return {"sales.return_rate": round(min(refunds / max(sales, 1e-300), MAX_RETURN_RATE), 6)}


def fraud_rate(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """fraud.rate: the labelled share of transactions."""
    assert sample.fraud is not None
    row = np.asarray(weights[sample.customer], dtype=np.float64)
    return {"fraud.rate": round(float(row[sample.fraud].sum()) / float(row.sum()), 6)}


def fraud_mix(sample: Sample, weights: np.ndarray, _spec: Spec, min_customers: int) -> Values:
    """fraud.types.<type>.share: each of the spec's fraud types' share of the labelled fraud
    transactions (the spec's mix is per transaction), counting a type only when
    min_customers customers have it (a type absent or suppressed gets 0; labels that are
    not our type names never leave the sample)."""
    assert sample.fraud is not None
    assert sample.fraud_type is not None
    row = np.asarray(weights[sample.customer], dtype=np.float64)
    counts: dict[str, float] = {}
    for name in FRAUD_TYPES:
        if name not in sample.fraud_type_labels:
            continue
        rows = sample.fraud & (sample.fraud_type == sample.fraud_type_labels.index(name))
        if np.unique(sample.customer[rows]).shape[0] >= min_customers:
            counts[name] = float(row[rows].sum())
    total = sum(counts.values())
    if total <= 0:
        return {}
    return {
        f"fraud.types.{name}.share": round(counts.get(name, 0.0) / total, 5) for name in FRAUD_TYPES
    }


def _customer_shares(
    groups: np.ndarray, count: int, weights: np.ndarray, min_customers: int
) -> np.ndarray | None:
    """Each group's weighted share of the customers (``groups``: a group index per
    customer, -1 for none); a group of fewer than min_customers customers counts 0. None
    when no group is left."""
    known = groups >= 0
    seen = np.bincount(groups[known], minlength=count)
    weighted = np.bincount(groups[known], weights=weights[known], minlength=count)
    weighted = np.where(seen >= min_customers, weighted, 0.0)
    total = float(weighted.sum())
    return None if total <= 0 else np.asarray(weighted / total)


def gender_mix(sample: Sample, weights: np.ndarray, _spec: Spec, min_customers: int) -> Values:
    """customers.gender: the share of the sample's customers of each gender (labels read
    as female, male or nonbinary; others left out)."""
    assert sample.gender is not None
    shares = _customer_shares(sample.gender, len(GENDERS), weights, min_customers)
    if shares is None:
        return {}
    return {
        f"customers.gender.{g}": round(float(v), 5) for g, v in zip(GENDERS, shares, strict=True)
    }


def age_pyramid(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """customers.age_pyramid.<band>.weight: the share of the sample's customers (with an
    age) in each of the spec's age bands."""
    assert sample.age is not None
    bands = spec.customers.age_pyramid
    band = np.full(sample.customers, -1, dtype=np.int64)
    for i, b in enumerate(bands):
        band[(sample.age >= b.min) & (sample.age < b.max + 1)] = i
    shares = _customer_shares(band, len(bands), weights, min_customers)
    if shares is None:
        return {}
    return {f"customers.age_pyramid.{i}.weight": round(float(v), 5) for i, v in enumerate(shares)}


def price_scale(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """products.categories.*.price.median: every category's median list price times the
    ratio of the sample's mean sale amount to the spec's expected one."""
    if sample.category is not None and sample.items is not None:
        return {}  # the per-category estimator reads the same fields more closely
    row = _row_weights(sample, weights)
    sales = sample.amount >= 0
    observed = float((sample.amount * row)[sales].sum()) / max(float(row[sales].sum()), 1e-300)
    ratio = observed / max(expected_mean_sale_value(spec), 1e-12)
    return {
        f"products.categories.{k}.price.median": round(c.price.median * ratio, 4)
        for k, c in enumerate(spec.products.categories)
        if not c.price.values
    }


PRICE_QUANTILES = 4_001  # points of the normal grid for a category's expected list price


def population_line_values(spec: Spec) -> np.ndarray:
    """Per category, the expected net amount of a sale line in currency units for any
    catalogue the spec could draw: (1 + quantity_mean) x E[charm(median e^(sigma Z))] x
    (1 - E[discount rate]) over the calendar's days weighted by volume (a drawn list price
    is independent of its popularity, so popularity does not weigh in)."""
    factors = day_factors(spec, spec.calendar.start, spec.calendar.end)
    z = ndtri((np.arange(PRICE_QUANTILES) + 0.5) / PRICE_QUANTILES)
    prices = np.asarray(
        [
            float(np.mean(c.price.values))
            if c.price.values
            else float(charm_price_cents(c.price.median * np.exp(c.price.sigma * z)).mean()) / CENTS
            for c in spec.products.categories
        ]
    )
    day = factors.overall / factors.overall.sum()
    return np.asarray((day[:, None] * line_values(spec, factors)).sum(axis=0) * prices)


def category_prices(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """products.categories.<k>.price.median, for each category of the spec the sample
    names (by name, any case) in rows of min_customers customers: the median times the
    sample's mean amount per item there over the spec's expected net amount of a line
    (``population_line_values``)."""
    assert sample.category is not None
    assert sample.items is not None
    row = _row_weights(sample, weights)
    usable = (sample.amount >= 0) & (sample.items > 0)
    expected = cached_per_spec("population_line_values", spec, population_line_values)
    values: Values = {}
    for k, category in enumerate(spec.products.categories):
        name = category.name.lower()
        if category.price.values or name not in sample.category_labels:
            continue
        rows = usable & (sample.category == sample.category_labels.index(name))
        if np.unique(sample.customer[rows]).shape[0] < min_customers:
            continue
        per_item = float((row * sample.amount)[rows].sum()) / max(
            float((row * sample.items)[rows].sum()), 1e-300
        )
        ratio = per_item / max(float(expected[k]), 1e-12)
        values[f"products.categories.{k}.price.median"] = round(category.price.median * ratio, 4)
    return values


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
        "sales.visits_per_year": round(float(np.clip(visits, 1e-3, MAX_VISITS)), 4),
        "customers.activity_shape": round(float(np.clip(1.0 / max(inverse_k, 1e-9), *SHAPES)), 4),
        "customers.lifetime.dropout_shape": round(float(np.clip(s, *DROPOUT_SHAPES)), 4),
        "customers.lifetime.dropout_per_year": round(float(np.clip(s / beta, 0.0, MAX_DROPOUT)), 4),
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

    found = optimize.minimize_scalar(negative, bounds=GROWTH_RANGE, method="bounded")
    growth = float(found.x)
    g = np.exp(math.log1p(growth) / DAYS_PER_YEAR * days)
    count = total * float(g.sum()) / max(float((g * p_seen).sum()), 1e-300)
    return growth, count


def month_start(day: int) -> str:
    """The first day of the month of ``day`` (days since 1970), ISO."""
    return str(np.datetime64(day, "D").astype("datetime64[M]").astype("datetime64[D]"))


def month_end(day: int, cap: int) -> str:
    """The last day of the month of ``day``, at most ``cap`` (days since 1970), ISO."""
    following = (np.datetime64(day, "D").astype("datetime64[M]") + 1).astype("datetime64[D]")
    return str(min(following - 1, np.datetime64(cap, "D")))


def flat_month_factors(spec: Spec) -> np.ndarray:
    """The spec's day factors over its calendar with a flat monthly profile: what the
    monthly profile multiplies."""
    flat = spec.model_copy(
        update={"sales": spec.sales.model_copy(update={"monthly": [1.0] * MONTHS})}
    )
    return day_factors(flat, flat.calendar.start, flat.calendar.end).overall


def month_basis(spec: Spec) -> np.ndarray:
    """(days, 12): the yearly profile's interpolation weights, so that the yearly factor of
    a profile v (mean 1) on each calendar day is ``month_basis @ v``."""
    dates = date_range(spec.calendar.start, spec.calendar.end)
    return np.stack([yearly_factor(row, dates) for row in np.eye(MONTHS)], axis=1) / MONTHS


def buying_customers(
    signup: tuple[int, int, float], dropout: tuple[float, float], days: np.ndarray
) -> np.ndarray:
    """Relative number of customers still buying on each of ``days`` (consecutive, days
    since 1970): signups with density e^(rho a) on days first..last (``signup``: first,
    last, rho), each buying until its dropout, (beta / (beta + t))^s of them after t =
    (days since signup + 1) / 365.25 years (``dropout``: s, beta)."""
    first, last, rho = signup
    s, beta = dropout
    density = np.exp(rho * np.arange(last - first + 1, dtype=np.float64))
    lags = np.arange(int(days[-1]) - first + 1, dtype=np.float64)
    staying = (beta / (beta + (lags + 1.0) / DAYS_PER_YEAR)) ** s
    return np.asarray(np.convolve(density, staying)[days - first])


def monthly_from_daily(sales: np.ndarray, expected: np.ndarray, basis: np.ndarray) -> Values:
    """sales.monthly: the profile v (mean 1) for which expected x (basis @ v) fits the sales
    per day best (non-negative least squares)."""
    profile, _ = optimize.nnls(basis * expected[:, None], sales)
    if not profile.any():
        return {}
    return {"sales.monthly": _profile(profile)}


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
        row = _row_weights(sample, weights) * (sample.amount >= 0)
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


ESTIMATORS: tuple[Estimator, ...] = (
    Estimator("calendar", ("calendar.start", "calendar.end"), ("ts",), calendar_range, 0),
    Estimator("weekday profile", ("sales.weekday",), ("ts",), weekday_profile),
    Estimator(
        "hour profiles",
        ("sales.channels.in_store.hours", "sales.channels.online.hours"),
        ("hour",),
        hour_profiles,
    ),
    Estimator("online share", ("sales.channels.online_share",), ("channel",), online_share),
    Estimator(
        "payment mixes",
        ("sales.channels.in_store.payment", "sales.channels.online.payment"),
        ("payment_method",),
        payment_mixes,
    ),
    Estimator("basket size", ("sales.basket_mean_items",), ("items",), basket_size),
    Estimator("fraud rate", ("fraud.rate",), ("is_fraud",), fraud_rate),
    Estimator("return rate", ("sales.return_rate",), ("amount",), return_rate),
    Estimator("fraud mix", ("fraud.types.*.share",), ("is_fraud", "fraud_type"), fraud_mix),
    Estimator("gender mix", ("customers.gender.*",), ("gender",), gender_mix),
    Estimator("age pyramid", ("customers.age_pyramid.*.weight",), ("age",), age_pyramid),
    Estimator("price scale", ("products.categories.*.price.median",), ("amount",), price_scale),
    Estimator(
        "price per category",
        ("products.categories.*.price.median",),
        ("amount", "items", "category"),
        category_prices,
    ),
    Estimator(
        "purchase frequency and lifecycle (Pareto/NBD from the first purchase; survivors'"
        " dropout without signup dates)",
        (
            "sales.visits_per_year",
            "customers.activity_shape",
            "customers.lifetime.dropout_shape",
            "customers.lifetime.dropout_per_year",
        ),
        ("customer_id", "ts"),
        lifecycle,
        LIFECYCLE_REPLICATES,
    ),
    Estimator(
        "purchase frequency, lifecycle and signups (seasonal Pareto/NBD from signup)",
        (
            "sales.visits_per_year",
            "customers.activity_shape",
            "customers.lifetime.dropout_shape",
            "customers.lifetime.dropout_per_year",
            "customers.signup_start",
            "customers.signup_end",
            "customers.signup_growth",
            "customers.count",
            "sales.monthly",
        ),
        ("customer_id", "ts", "signup_date"),
        lifecycle_from_signup,
        LIFECYCLE_REPLICATES,
    ),
)


# Fields this version of `synthpipe fit` never estimates, and why (listed in the report).
NOT_ESTIMATED = {
    "sales.trend": "default: not estimated (needs several years to part from the months)",
    "sales.habits": "default: not estimated",
    "sales.replenishment": "default: not estimated",
    "products.complements": "default: line items are not in a transaction sample",
    "products.substitutes": "default: line items are not in a transaction sample",
    "products.brand_loyalty": "default: line items are not in a transaction sample",
    "customers.changes": "default: a transaction sample has no customer history",
    "customers.lifetime.reactivation": "default (nobody comes back): the lifecycle fitted is"
    " the Pareto/NBD, whose dropout is for good",
}
