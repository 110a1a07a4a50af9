"""Estimators of what a sale holds: the channels' shares and payment mixes, the basket
size, the return rate and the categories' prices."""

from __future__ import annotations

import datetime as dt

import numpy as np
from scipy.special import ndtri

from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import Values, row_weights
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.expectation import rate_moments
from synthpipe.model.money import CENTS
from synthpipe.model.products import charm_price_cents
from synthpipe.model.sale_values import line_values
from synthpipe.model.sales import splurge_lines_mean
from synthpipe.model.seasonality import day_factors
from synthpipe.spec.base import field_bounds
from synthpipe.spec.models import Channels, Price, Sales, Spec
from synthpipe.vocabulary import CHANNELS, ONLINE

PRICE_QUANTILES = 4_001  # points of the normal grid for a category's expected list price
# the sale amounts' fit: the quantiles of its log spread, and its simulated world
SPREAD_QUANTILES = (0.1, 0.9)
AMOUNT_DAYS = 731  # the simulated world: its first two years at most (its whole mix of sales)
AMOUNT_CUSTOMERS = 3_000
MIN_SIMULATED = 200  # fewer simulated sales: the spread is left as it is
SPREAD_STEPS = 6  # secant steps on the spread at most
SPREAD_TOLERANCE = 0.1  # in log units of the 10-90% range (a world of the spec itself keeps 1)
SPREAD_MIN, SPREAD_MAX = 0.02, 2.5
PRICE_SIGMA = field_bounds(Price, "sigma")
ITEMS_WINSOR = 0.99  # items above the sample's 99th percentile count as that
CATEGORY_WINSOR = 0.995  # a category's amounts above this quantile count as it
# the spec's ranges of the fields these estimators set, as its models declare them
ONLINE_SHARE = field_bounds(Channels, "online_share")
BASKET_MEAN_ITEMS = field_bounds(Sales, "basket_mean_items")
RETURN_RATE = field_bounds(Sales, "return_rate")


def online_share(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """sales.channels.online_share: the online share of purchases, scaled by what the spec's
    online_share gives in purchases (P(online | band) = online_share x factor[band], the
    bands weighted by their purchase rates: ``rate_moments``)."""
    assert sample.channel is not None
    row = row_weights(sample, weights) * (sample.amount >= 0)
    known = sample.channel >= 0
    share = float(row[known & (sample.channel == ONLINE)].sum()) / max(
        float(row[known].sum()), 1e-300
    )
    return online_share_from(share, spec)


def online_share_from(share: float, spec: Spec) -> Values:
    """``online_share`` from the observed online share of purchases."""
    rate = rate_moments(spec)["rate"]
    modelled = float(rate[ONLINE] / rate.sum())
    scaled = share * spec.sales.channels.online_share / max(modelled, 1e-12)
    return {"sales.channels.online_share": round(float(ONLINE_SHARE.clip(scaled)), 5)}


def payment_mixes(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """sales.channels.<channel>.payment: the mix of the payment methods the spec knows,
    per channel, each method kept when min_customers customers used it there."""
    assert sample.payment is not None
    row = row_weights(sample, weights)
    values: Values = {}
    for c, name in enumerate(CHANNELS):
        ours = list(spec.sales.channels.of(c).payment)
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
    segment x channel basket factors, then corrected on a simulated world of the spec fitted
    so far (which customers buy most, and so whose baskets count most, is the lifecycle's):
    its extra lines times the sample's over the world's. Items are winsorised at the
    sample's 99th percentile on both sides, so a handful of giant baskets weigh no more
    than that."""
    assert sample.items is not None
    row = row_weights(sample, weights)
    sales = sample.amount > 0
    if not sales.any():
        return {}
    cap = float(np.quantile(sample.items[sales], ITEMS_WINSOR))
    items = np.minimum(sample.items, cap)
    mean_items = float((items * row)[sales].sum()) / max(float(row[sales].sum()), 1e-300)
    whole = float(items[sales].mean())
    first = basket_from(whole, spec)["sales.basket_mean_items"]
    assert isinstance(first, float)
    factor = cached_per_spec("basket_factor", spec, _basket_factor, first, whole, cap)
    value = basket_from(mean_items, spec)["sales.basket_mean_items"]
    assert isinstance(value, float)
    corrected = 1.0 + (value - 1.0) * factor
    return {"sales.basket_mean_items": round(float(BASKET_MEAN_ITEMS.clip(corrected)), 4)}


def _basket_factor(spec: Spec, basket: float, target: float, cap: float) -> float:
    """(target - 1) / (the simulated world's winsorised mean items - 1) at ``basket``."""
    from synthpipe.fit.judge import world_sample

    trial = spec.model_copy(
        update={"sales": spec.sales.model_copy(update={"basket_mean_items": basket})}
    )
    end = min(trial.calendar.end, trial.calendar.start + dt.timedelta(days=AMOUNT_DAYS - 1))
    short = trial.model_copy(update={"calendar": trial.calendar.model_copy(update={"end": end})})
    world = world_sample(short, AMOUNT_CUSTOMERS)
    assert world.items is not None
    seen = np.minimum(world.items[world.amount > 0], cap)
    if seen.shape[0] < MIN_SIMULATED or float(seen.mean()) <= 1.0:
        return 1.0
    return float(np.clip((target - 1.0) / (float(seen.mean()) - 1.0), 0.2, 5.0))


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
    return {"sales.basket_mean_items": round(float(BASKET_MEAN_ITEMS.clip(1.0 + extra)), 4)}


def return_rate(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """sales.return_rate: refunds (rows with a negative amount: returns, cancellations) per
    sale (a positive amount; a zero is neither), the legitimate ones (refunds come at
    return_rate x the sales intensity, same-day repeats included); 0 for a sample of
    sales without a refund."""
    row = row_weights(sample, weights)
    refunds = float(row[sample.amount < 0].sum())
    sales = float(row[sample.amount > 0].sum())
    if sales <= 0:
        return {}
    return {"sales.return_rate": round(RETURN_RATE.clip(refunds / max(sales, 1e-300)), 6)}


def positive_sales(sample: Sample, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The legitimate sales with a positive amount and their bootstrap weights (a zero
    amount is no sale, a negative one a refund: ``return_rate``)."""
    row = row_weights(sample, weights)
    keep = (sample.amount > 0) & (row > 0)
    return sample.amount[keep], row[keep]


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` of ``values`` under ``weights`` (the inverse of the weighted
    empirical distribution, midpoints interpolated): robust to a heavy tail, a giant
    invoice or duplicates, as a mean is not."""
    order = np.argsort(values, kind="stable")
    ranked, w = values[order], weights[order]
    cumulative = np.cumsum(w) - 0.5 * w
    return np.asarray(np.interp(q * float(w.sum()), cumulative, ranked))


def _with_prices(spec: Spec, scale: float, spread: float) -> Spec:
    """``spec`` with every category's median list price multiplied by ``scale`` after the
    medians are drawn towards their geometric mean by the power ``spread`` (1: as they
    are), each sigma multiplied by ``spread``; fixed price points scale only."""
    fitted = [c for c in spec.products.categories if not c.price.values]
    centre = float(np.exp(np.mean([np.log(c.price.median) for c in fitted]))) if fitted else 1.0
    categories = []
    for c in spec.products.categories:
        if c.price.values:
            price = c.price.model_copy(update={"values": [v * scale for v in c.price.values]})
        else:
            median = centre * (c.price.median / centre) ** spread * scale
            sigma = float(PRICE_SIGMA.clip(c.price.sigma * spread))
            price = c.price.model_copy(update={"median": median, "sigma": sigma})
        categories.append(c.model_copy(update={"price": price}))
    products = spec.products.model_copy(update={"categories": categories})
    return spec.model_copy(update={"products": products})


def simulated_sales(spec: Spec) -> np.ndarray:
    """The sale amounts (positive) of a small world of ``spec`` over at most its first
    AMOUNT_DAYS days: what a sale of the spec amounts to, lines, quantities, discounts and
    all (``synthpipe.fit.judge.world_sample``)."""
    from synthpipe.fit.judge import world_sample

    end = min(spec.calendar.end, spec.calendar.start + dt.timedelta(days=AMOUNT_DAYS - 1))
    short = spec.model_copy(update={"calendar": spec.calendar.model_copy(update={"end": end})})
    world = world_sample(short, AMOUNT_CUSTOMERS)
    return np.asarray(world.amount[world.amount > 0])


def _log_spread(amounts: np.ndarray) -> float:
    low, high = np.quantile(np.log(amounts), [SPREAD_QUANTILES[0], SPREAD_QUANTILES[1]])
    return float(high - low)


def price_shape(spec: Spec, target_spread: float, target_median: float) -> tuple[float, float]:
    """(spread, median sale of the spec per unit of scale at that spread): the power
    ``_with_prices`` draws the category medians and sigmas by so that the simulated sales'
    log 10-90% range is the sample's, by a few secant steps on a simulated world (at least
    SPREAD_MIN: the spread that baskets of several lines keep however alike their
    prices); then the median is read at the scale that gives ``target_median`` (charm
    prices and quantities make a sale's amount not quite proportional to the scale)."""
    found = simulated_sales(spec)
    if found.shape[0] < MIN_SIMULATED:
        return 1.0, float(np.median(found)) if found.shape[0] else 1.0
    points = [(1.0, _log_spread(found))]
    for _ in range(SPREAD_STEPS):
        if abs(points[-1][1] - target_spread) < SPREAD_TOLERANCE:
            break
        if len(points) == 1:
            step = 0.5 if points[0][1] > target_spread else 1.5
        else:
            (g0, w0), (g1, w1) = points[-2], points[-1]
            slope = (w1 - w0) / (g1 - g0) if g1 != g0 else 0.0
            step = g1 + (target_spread - w1) / slope if slope > 1e-6 else g1 * 0.5
        spread = float(np.clip(step, SPREAD_MIN, SPREAD_MAX))
        if any(spread == g for g, _ in points):
            break
        found = simulated_sales(_with_prices(spec, 1.0, spread))
        points.append((spread, _log_spread(found)))
    spread = min(points, key=lambda p: abs(p[1] - target_spread))[0]
    unit = float(np.median(simulated_sales(_with_prices(spec, 1.0, spread))))
    scale = target_median / max(unit, 1e-12)
    scaled = simulated_sales(_with_prices(spec, scale, spread))
    return spread, float(np.median(scaled)) / scale if scaled.shape[0] else unit


def price_scale(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """products.categories.*.price.median and .sigma: the sale amounts' distribution
    matched by its quantiles, on a simulated world of the spec fitted so far (its basket
    size included): the category medians and sigmas drawn together or apart until the
    world's log 10-90% range of sale amounts is the sample's, then every median times
    the sample's median sale over the world's. Quantiles, not means: a heavy tail and a
    giant invoice do not move them."""
    if sample.category is not None and sample.items is not None:
        return {}  # the per-category estimator reads the same fields more closely
    amounts, row = positive_sales(sample, weights)
    if amounts.shape[0] == 0:
        return {}
    # the shape from the whole sample (a simulation per bootstrap replicate would cost
    # minutes); the replicates move the median, so the intervals are the scale's
    whole, ones = positive_sales(sample, np.ones(sample.customers))
    low, high = weighted_quantiles(whole, ones, np.asarray(SPREAD_QUANTILES))
    middle = float(np.median(whole))
    target = round(float(np.log(high) - np.log(low)), 3)
    spread, world_median = cached_per_spec(
        "price_shape", spec, price_shape, target, round(float(middle), 4)
    )
    median = float(weighted_quantiles(amounts, row, np.asarray([0.5]))[0])
    ratio = median / max(world_median, 1e-12)
    fitted = _with_prices(spec, ratio, spread)
    values: Values = {}
    for k, c in enumerate(fitted.products.categories):
        if not c.price.values:
            values[f"products.categories.{k}.price.median"] = round(c.price.median, 4)
            values[f"products.categories.{k}.price.sigma"] = round(c.price.sigma, 4)
    return values


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
    sample's amount per item there (amounts winsorised at the category's 99.5th
    percentile: a giant invoice weighs no more) over the spec's expected net amount of a
    line (``population_line_values``)."""
    assert sample.category is not None
    assert sample.items is not None
    row = row_weights(sample, weights)
    usable = (sample.amount > 0) & (sample.items > 0)
    expected = cached_per_spec("population_line_values", spec, population_line_values)
    values: Values = {}
    for k, category in enumerate(spec.products.categories):
        name = category.name.lower()
        if category.price.values or name not in sample.category_labels:
            continue
        rows = usable & (sample.category == sample.category_labels.index(name))
        if np.unique(sample.customer[rows]).shape[0] < min_customers:
            continue
        # winsorised: a giant invoice counts as the category's 99.5th percentile
        cap = float(np.quantile(sample.amount[rows], CATEGORY_WINSOR))
        per_item = float((row * np.minimum(sample.amount, cap))[rows].sum()) / max(
            float((row * sample.items)[rows].sum()), 1e-300
        )
        ratio = per_item / max(float(expected[k]), 1e-12)
        values[f"products.categories.{k}.price.median"] = round(category.price.median * ratio, 4)
    return values
