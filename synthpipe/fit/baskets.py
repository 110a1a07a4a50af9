"""Estimators of what a sale holds: the channels' shares and payment mixes, the basket
size, the return rate and the categories' prices."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import Values, row_weights
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.expectation import rate_moments
from synthpipe.model.money import CENTS
from synthpipe.model.products import charm_price_cents
from synthpipe.model.sales import splurge_lines_mean
from synthpipe.model.seasonality import day_factors
from synthpipe.model.truth import expected_mean_sale_value, line_values
from synthpipe.spec.base import field_bounds
from synthpipe.spec.models import Channels, Sales, Spec
from synthpipe.vocabulary import CHANNELS, ONLINE

PRICE_QUANTILES = 4_001  # points of the normal grid for a category's expected list price
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
    segment x channel basket factors."""
    assert sample.items is not None
    row = row_weights(sample, weights)
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
    return {"sales.basket_mean_items": round(float(BASKET_MEAN_ITEMS.clip(1.0 + extra)), 4)}


def return_rate(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """sales.return_rate: refunds (rows with a negative amount) per sale, the legitimate
    ones (refunds come at return_rate x the sales intensity, same-day repeats included)."""
    row = row_weights(sample, weights)
    refunds = float(row[sample.amount < 0].sum())
    if refunds <= 0:
        return {}
    sales = float(row[sample.amount >= 0].sum())
    return {"sales.return_rate": round(RETURN_RATE.clip(refunds / max(sales, 1e-300)), 6)}


def price_scale(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """products.categories.*.price.median: every category's median list price times the
    ratio of the sample's mean sale amount to the spec's expected one."""
    if sample.category is not None and sample.items is not None:
        return {}  # the per-category estimator reads the same fields more closely
    row = row_weights(sample, weights)
    sales = sample.amount >= 0
    observed = float((sample.amount * row)[sales].sum()) / max(float(row[sales].sum()), 1e-300)
    ratio = observed / max(expected_mean_sale_value(spec), 1e-12)
    return {
        f"products.categories.{k}.price.median": round(c.price.median * ratio, 4)
        for k, c in enumerate(spec.products.categories)
        if not c.price.values
    }


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
    row = row_weights(sample, weights)
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
