"""What a line and a sale are worth in expectation: the laws the ground truth, the
lifecycle's spend and fit's price scale share (per cent of list price, per day and
category, and per audience group, channel and segment)."""

from __future__ import annotations

import numpy as np

from synthpipe.model.associations import associations
from synthpipe.model.baskets import (
    audience_shares,
    category_weights,
    complement_attach,
    extra_lines_mean,
)
from synthpipe.model.money import CENTS
from synthpipe.model.products import (
    product_world,
    share_in_category,
)
from synthpipe.model.sales import splurge_lines_mean
from synthpipe.model.sampling import cumulative
from synthpipe.model.seasonality import DayFactors, day_factors
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import GENDERS


def line_values(spec: Spec, factors: DayFactors) -> np.ndarray:
    """(days, categories) expected net amount of a line per cent of list price:
    (1 + quantity_mean) x (1 - E[discount rate]), the rate the larger of the promotion p in
    force and a markdown (probability m, depth uniform in [lo, hi])."""
    markdown = spec.sales.markdown
    lo, hi, m = markdown.min, markdown.max, markdown.rate
    p = factors.discount
    inside = np.clip(p, lo, hi)
    above = np.where(
        hi > lo,
        (inside * (inside - lo) + (hi * hi - inside * inside) / 2.0) / max(hi - lo, 1e-12),
        hi,
    )
    with_markdown = np.where(p >= hi, p, np.where(p <= lo, (lo + hi) / 2.0, above))
    rate = (1.0 - m) * p + m * with_markdown
    units = 1.0 + np.asarray([c.quantity_mean for c in spec.products.categories])
    return np.asarray(units[None, :] * (1.0 - rate))


def expected_sale_values(spec: Spec, factors: DayFactors) -> np.ndarray:
    """(days, groups, channels, segments) expected net amount of a sale in cents: the lines
    (1 + extra lines + splurge lines) times a drawn line's expected value in the group's
    category mix, its complements included (an anchor brings its partner with the pair's
    attach probability)."""
    world = product_world(spec)
    per_line = line_values(spec, factors)  # (days, categories) per cent of list price
    in_category = np.bincount(world.category, weights=world.popularity)
    mean_price = np.bincount(
        world.category, weights=world.popularity * world.price_cents
    ) / np.maximum(in_category, 1e-300)
    value = per_line * mean_price[None, :]  # (days, categories)
    planted = associations(spec)
    if planted.anchor.shape[0]:
        anchor_category = world.category[planted.anchor].astype(np.int64)
        partner_category = world.category[planted.partner].astype(np.int64)
        brought = (
            share_in_category(world, planted.anchor)
            * complement_attach(spec)
            * per_line[:, partner_category]
            * world.price_cents[planted.partner]
        )
        np.add.at(value.T, anchor_category, brought.T)
    groups = len(spec.customers.age_pyramid) * len(GENDERS)
    probability = np.diff(cumulative(category_weights(spec, factors)), axis=1, prepend=0.0)
    per_group = np.einsum(
        "dgk,dk->dg", probability.reshape(factors.days, groups, -1), value
    )  # (days, groups)
    segments = np.arange(len(spec.customers.segments))
    lines = np.stack(
        [1.0 + extra_lines_mean(spec, segments, c) + splurge_lines_mean(spec) for c in (0, 1)]
    )  # (channels, segments)
    return np.asarray(per_group[:, :, None, None] * lines[None, None, :, :])


def expected_mean_sale_value(spec: Spec) -> float:
    """The expected amount of an ordinary sale over the spec's calendar, in currency
    units: ``expected_sale_values`` weighted by the days' volume, the audience groups'
    population shares, the channel split and the segments' shares of purchases."""
    factors = day_factors(spec, spec.calendar.start, spec.calendar.end)
    values = expected_sale_values(spec, factors)  # (days, groups, channels, segments)
    population = audience_shares(spec)
    online = spec.sales.channels.online_share
    segments = list(spec.customers.segments.values())
    purchases = np.asarray([s.share * s.frequency for s in segments])
    day = factors.overall / factors.overall.sum()
    weight = (
        day[:, None, None, None]
        * population[None, :, None, None]
        * np.asarray([1.0 - online, online])[None, None, :, None]
        * (purchases / purchases.sum())[None, None, None, :]
    )
    return float((values * weight).sum()) / CENTS
