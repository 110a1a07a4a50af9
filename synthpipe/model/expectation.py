"""Population expectations of the generating process, in closed form (no sampling).

E[sales of channel ch on day d] for one customer is
    F(d) x G_ch(d) x P(signup <= d) x E[r x P(ch)],
where E[r x P(ch)] sums exactly over the age pyramid and the segments (income enters
through the log-normal moment E[income ** b] = exp(b mu + b^2 sigma^2 / 2)).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from synthpipe.clock import DAYS_PER_YEAR
from synthpipe.model.associations import associations
from synthpipe.model.baskets import category_line_shares, complement_attach
from synthpipe.model.customers import (
    MAX_ONLINE_PROBABILITY,
    block_range,
    median_income,
    reference_income,
)
from synthpipe.model.fraud import expected_lines
from synthpipe.model.lifecycle import active_probability
from synthpipe.model.products import product_world, share_in_category
from synthpipe.model.sales import REFUND_EXTRA_LINES_MEAN, repeat_factor, splurge_lines_mean
from synthpipe.model.seasonality import date_range, day_factors
from synthpipe.plan import PartitionTask
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS


def age_distribution(spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every whole age the pyramid allows, its probability, and its band index."""
    bands = spec.customers.age_pyramid
    total = sum(b.weight for b in bands)
    ages, probs, band_index = [], [], []
    for i, band in enumerate(bands):
        width = band.max - band.min + 1
        for age in range(band.min, band.max + 1):
            ages.append(age)
            probs.append(band.weight / total / width)
            band_index.append(i)
    return np.asarray(ages), np.asarray(probs), np.asarray(band_index)


def online_by_band(spec: Spec) -> np.ndarray:
    """P(online) of each age band."""
    channels = spec.sales.channels
    factor = np.asarray(
        [channels.online_age_factor.get(b.label, 1.0) for b in spec.customers.age_pyramid]
    )
    return np.asarray(np.minimum(channels.online_share * factor, MAX_ONLINE_PROBABILITY))


def rate_moments(spec: Spec) -> dict[str, np.ndarray]:
    """Per channel: E[r x P(ch)] and E[r x P(ch) x lines per sale] (per day, before F and
    before same-day repeats)."""
    customers, sales = spec.customers, spec.sales
    ages, p_age, band = age_distribution(spec)
    p_online = online_by_band(spec)[band]
    beta, sigma = sales.income_elasticity, customers.income.sigma
    reference = reference_income(spec)
    segments = list(customers.segments.values())
    share_total = sum(s.share for s in segments)
    rate = np.zeros(len(CHANNELS))
    rate_lines = np.zeros(len(CHANNELS))
    channel_basket = [c.basket_factor for c in sales.channels.sections()]
    for segment in segments:
        income_term = (median_income(spec, ages) * segment.income_factor / reference) ** beta
        income_term = income_term * np.exp(0.5 * (beta * sigma) ** 2)
        base = (
            sales.visits_per_year
            / DAYS_PER_YEAR
            * segment.frequency
            * (1.0 + sales.loyalty_uplift * segment.loyalty_rate)
            * segment.share
            / share_total
        )
        for ch, p_channel in enumerate((1.0 - p_online, p_online)):
            expected = base * float(np.sum(p_age * income_term * p_channel))
            lines = (
                1.0
                + (sales.basket_mean_items - 1.0) * segment.basket * channel_basket[ch]
                + splurge_lines_mean(spec)
            )
            rate[ch] += expected
            rate_lines[ch] += expected * lines
    return {"rate": rate, "rate_lines": rate_lines}


def signup_cdf(spec: Spec, dates: np.ndarray) -> np.ndarray:
    """P(signup date <= d) for each day d."""
    first, last = spec.customers.signup_window()
    span = (last - first).days + 1
    elapsed = np.clip((dates - np.datetime64(first, "D")).astype(np.float64) + 1.0, 0.0, span)
    g = np.log1p(spec.customers.signup_growth) / DAYS_PER_YEAR
    if abs(g * span) < 1e-9:
        return np.asarray(elapsed / span)
    return np.asarray(np.expm1(g * elapsed) / np.expm1(g * span))


def buying_share(spec: Spec, dates: np.ndarray) -> np.ndarray:
    """P(a customer has signed up by day d and still buys on it): the signup density
    over the window convolved with the chance of buying at each age (customers.lifetime,
    reactivation included)."""
    first, last = spec.customers.signup_window()
    start = min(first, spec.calendar.start)
    window = date_range(start, max(last, spec.calendar.end, dates[-1].astype(dt.date)))
    signed = signup_cdf(spec, window)
    density = np.diff(signed, prepend=0.0)
    alive = active_probability(spec, np.arange(window.shape[0]))
    share = np.convolve(density, alive)[: window.shape[0]]
    index = (dates - window[0]).astype(np.int64)
    return np.asarray(share[index])


def expected_daily(
    spec: Spec, customers: int, first: dt.date, last: dt.date
) -> dict[str, np.ndarray]:
    """Expected transactions and line items per day for ``customers`` customers."""
    factors = day_factors(spec, first, last)
    moments = rate_moments(spec)
    active = customers * buying_share(spec, date_range(first, last))
    per_channel = factors.overall[:, None] * factors.channel * active[:, None]
    sales = per_channel * moments["rate"][None, :] * repeat_factor(spec)
    sale_lines = per_channel * moments["rate_lines"][None, :] * repeat_factor(spec)
    sale_lines = sale_lines * (1.0 + partner_lines_per_line(spec))
    refunds = sales * spec.sales.return_rate
    reorders = active * reorders_per_customer_day(spec)
    legit = sales.sum(axis=1) + refunds.sum(axis=1) + reorders
    fraud_share = spec.fraud.odds()
    fraud_lines = sum(
        expected_lines(spec, name) * share for name, share in spec.fraud.shares().items()
    )
    return {
        "sales": sales,  # (days, channels)
        "refunds": refunds,
        "transactions": legit * (1.0 + fraud_share),
        "line_items": sale_lines.sum(axis=1)
        + reorders
        + refunds.sum(axis=1) * (1.0 + REFUND_EXTRA_LINES_MEAN)
        + legit * fraud_share * fraud_lines,
    }


def reorders_per_customer_day(spec: Spec) -> float:
    """Staple reorders a buying customer places per day: sum over staple categories of
    share x E[1 / P] = share x k / ((k - 1) replenish_days)."""
    replenishment = spec.sales.replenishment
    k = replenishment.cycle_shape
    return float(
        sum(
            replenishment.share * k / ((k - 1.0) * c.replenish_days)
            for c in spec.products.categories
            if c.replenish_days > 0
        )
    )


def partner_lines_per_line(spec: Spec) -> float:
    """Complement lines a drawn sale line brings: sum over the planted pairs of the
    anchor's expected share of lines (its category's share, ``category_line_shares``,
    times its popularity share there) x the pair's attach probability."""
    planted = associations(spec)
    if planted.anchor.shape[0] == 0:
        return 0.0
    world = product_world(spec)
    category = world.category[planted.anchor].astype(np.int64)
    share = category_line_shares(spec)[category] * share_in_category(world, planted.anchor)
    return float((share * complement_attach(spec)).sum())


def expected_partition_rows(spec: Spec, task: PartitionTask) -> dict[str, float]:
    """Rows each table of ``task`` is expected to hold."""
    if task.kind == "customers":
        return {"customers": float(block_range(spec, task.block)[1])}
    if task.kind == "products":
        return {"products": float(spec.products.count)}
    if task.kind == "stores":
        return {"stores": float(spec.stores.count)}
    _, size = block_range(spec, task.block)
    daily = expected_daily(spec, size, *task.day_range())
    return {
        "transactions": float(daily["transactions"].sum()),
        "line_items": float(daily["line_items"].sum()),
    }


# Bytes per row of each table as written (zstd), measured on the default spec (30,000
# customers, one year: `synthpipe run configs/retail.yaml --set customers.count=30000`).
BYTES_PER_ROW = {
    "customers": 37.3,
    "products": 14.3,
    "stores": 61.2,
    "transactions": 15.0,
    "line_items": 10.2,
}


def expected_totals(spec: Spec) -> dict[str, float]:
    """Rows each table is expected to hold, in closed form over the whole calendar: the
    sum of every partition's ``expected_partition_rows`` (the expectation is linear in the
    customers), computed without visiting the partitions."""
    daily = expected_daily(spec, spec.customers.count, spec.calendar.start, spec.calendar.end)
    return {
        "customers": float(spec.customers.count),
        "products": float(spec.products.count),
        "stores": float(spec.stores.count),
        "transactions": float(daily["transactions"].sum()),
        "line_items": float(daily["line_items"].sum()),
    }
