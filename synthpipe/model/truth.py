"""Ground truth: the exact expected volumes the sampler draws from, for scoring models.

For every calendar day, the expected number of legitimate sales and refunds per channel,
of fraud transactions per type, and of sale line items per category. These are the
Poisson means of the generating process given the customers that were generated (their
latent purchase activity included), so a forecaster can be scored against the truth
rather than against noise. Computed per customer block without drawing anything, then
summed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synthpipe.formats import output_format
from synthpipe.model.associations import associations
from synthpipe.model.baskets import (
    audience_group,
    category_weights,
    complement_attach,
    extra_lines_mean,
)
from synthpipe.model.blockmonth import block_month, channel_weights
from synthpipe.model.customers import DAYS_PER_YEAR, CustomerBlock
from synthpipe.model.fraud import fraud_schedule
from synthpipe.model.products import brand_names, brand_shares, product_world
from synthpipe.model.sales import repeat_factor, splurge_lines_mean
from synthpipe.model.sampling import cumulative
from synthpipe.model.schema import dictionary_array
from synthpipe.model.seasonality import day_factors
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, GENDERS, IN_STORE, ONLINE, TRANSACTION_TYPES

TRUTH_FOLDER = "_truth"
EXTENSION = output_format().extension
EXPECTED_DAILY = f"{TRUTH_FOLDER}/expected_daily{EXTENSION}"
EXPECTED_CATEGORIES = f"{TRUTH_FOLDER}/expected_category_daily{EXTENSION}"
FRAUD_COUNTS = f"{TRUTH_FOLDER}/fraud_counts{EXTENSION}"
FRAUD_SCHEDULE = f"{TRUTH_FOLDER}/fraud_schedule{EXTENSION}"
CUSTOMER_LIFECYCLE = f"{TRUTH_FOLDER}/customer_lifecycle{EXTENSION}"
BRAND_LOYALTY = f"{TRUTH_FOLDER}/brand_loyalty{EXTENSION}"
BASKET_ASSOCIATIONS = f"{TRUTH_FOLDER}/basket_associations{EXTENSION}"
ASSOCIATION_KINDS = ("complement", "substitute")
CLV_HORIZON_DAYS = 90  # the lifetime-value truth looks this many days past calendar.end


@dataclass(frozen=True)
class BlockTruth:
    """Expected counts of one customer block over the whole calendar (additive)."""

    sales: np.ndarray  # (days, channels)
    lines: np.ndarray  # (days, categories): sale line items
    lifecycle: pa.Table  # one row per customer of the block (concatenated, not added)


def block_truth(spec: Spec, block: int) -> BlockTruth:
    """Expected sales per channel and sale lines per category, per day, of one block."""
    ctx = block_month(spec, block, spec.calendar.start, spec.calendar.end)
    customers = ctx.customers
    days = ctx.days
    groups = len(spec.customers.age_pyramid) * len(GENDERS)
    group = audience_group(customers.band, customers.gender)
    first = ctx.factors.dates[0]
    start = np.clip((customers.signup_day - first).astype(np.int64), 0, days)
    end = np.clip((customers.churn_day - first).astype(np.int64), 0, days)
    buying = start < end  # buys on some calendar day: from signup until the churn day
    sales = np.zeros((days, len(CHANNELS)))
    weighted_lines = np.zeros((days, groups))
    repeats = repeat_factor(spec)
    for channel in (IN_STORE, ONLINE):
        weight = channel_weights(ctx, channel) * repeats
        lines_per_sale = (
            1.0 + extra_lines_mean(spec, customers.segment, channel) + splurge_lines_mean(spec)
        )
        day_factor = ctx.factors.overall * ctx.factors.channel[:, channel]
        sales[:, channel] = buying_sum(start, end, buying, weight, days) * day_factor
        change = np.zeros((days + 1, groups))
        value = (weight * lines_per_sale)[buying]
        np.add.at(change, (start[buying], group[buying]), value)
        np.add.at(change, (end[buying], group[buying]), -value)
        weighted_lines += np.cumsum(change, axis=0)[:days] * day_factor[:, None]
    probability = np.diff(cumulative(category_weights(spec, ctx.factors)), axis=1, prepend=0.0)
    probability = probability.reshape(days, groups, -1)
    lines = np.einsum("dg,dgk->dk", weighted_lines, probability)
    return BlockTruth(sales, lines, lifecycle_truth(spec, customers))


def lifecycle_truth(spec: Spec, customers: CustomerBlock) -> pa.Table:
    """Each customer's latent lifecycle at calendar.end: the activity A and dropout rate mu,
    whether it still buys, the day it stopped, and its expected purchases over the next
    CLV_HORIZON_DAYS (0 once stopped): sum over those days of (1 + r) x r_c A_c x
    (P(in store) F G_in + P(online) F G_online) x exp(-mu x days ahead / 365.25)."""
    end = np.datetime64(spec.calendar.end, "D")
    horizon = spec.calendar.end + dt.timedelta(days=CLV_HORIZON_DAYS)
    factors = day_factors(spec, spec.calendar.end + dt.timedelta(days=1), horizon)
    online = customers.online_probability
    by_channel = factors.overall[:, None] * factors.channel  # (days, channels)
    expected = np.zeros(customers.size)
    for ahead in range(CLV_HORIZON_DAYS):  # whole columns, one day at a time (memory)
        today = (1.0 - online) * by_channel[ahead, IN_STORE] + online * by_channel[ahead, ONLINE]
        expected += today * np.exp(-customers.dropout_rate * (ahead + 1) / DAYS_PER_YEAR)
    signed_up = customers.signup_day <= end
    buying = signed_up & (customers.churn_day > end)
    purchases = repeat_factor(spec) * customers.base_rate * expected * buying
    stopped = signed_up & ~buying
    return pa.table(
        {
            "customer_id": pa.array(customers.ids, pa.int64()),
            "activity": pa.array(customers.activity, pa.float64()),
            "dropout_rate_per_year": pa.array(customers.dropout_rate, pa.float64()),
            "buying_at_end": pa.array(buying, pa.bool_()),
            "stopped_on": pa.array(customers.churn_day, pa.date32(), mask=~stopped),
            f"expected_purchases_next_{CLV_HORIZON_DAYS}d": pa.array(purchases, pa.float64()),
        }
    )


def buying_sum(
    start: np.ndarray, end: np.ndarray, buying: np.ndarray, value: np.ndarray, days: int
) -> np.ndarray:
    """Per day, the sum of ``value`` over the customers buying that day (day index in
    [start, end)): a running sum of their arrivals and departures."""
    change = np.bincount(start[buying], weights=value[buying], minlength=days + 1)
    change -= np.bincount(end[buying], weights=value[buying], minlength=days + 1)
    return np.asarray(np.cumsum(change)[:days])


def merge_truth(parts: list[BlockTruth]) -> BlockTruth:
    """Sum of the blocks' truths."""
    return BlockTruth(
        sum(p.sales for p in parts),  # type: ignore[arg-type]
        sum(p.lines for p in parts),  # type: ignore[arg-type]
        pa.concat_tables([p.lifecycle for p in parts]),
    )


def truth_tables(
    spec: Spec, truth: BlockTruth, realised: dict[str, dict[str, int]]
) -> dict[str, pa.Table]:
    """The ground-truth tables, by their path under the dataset root.

    ``realised`` is the manifest's fraud counts (month -> type -> transactions).
    """
    dates = np.arange(np.datetime64(spec.calendar.start), np.datetime64(spec.calendar.end) + 1)
    days = dates.shape[0]
    channels = len(CHANNELS)
    refunds = truth.sales * spec.sales.return_rate
    daily_channel = np.repeat(np.arange(channels), 2)
    kinds = np.tile(np.arange(len(TRANSACTION_TYPES)), channels)
    values = np.stack([truth.sales, refunds], axis=2).reshape(days, -1)  # (days, channel x kind)
    expected_daily = pa.table(
        {
            "date": pa.array(np.repeat(dates, channels * 2), pa.date32()),
            "channel": dictionary_array(np.tile(daily_channel, days), CHANNELS),
            "transaction_type": dictionary_array(np.tile(kinds, days), TRANSACTION_TYPES),
            "expected_transactions": pa.array(values.ravel(), pa.float64()),
        }
    )
    names = [c.name for c in spec.products.categories]
    expected_categories = pa.table(
        {
            "date": pa.array(np.repeat(dates, len(names)), pa.date32()),
            "category": dictionary_array(np.tile(np.arange(len(names)), days), names),
            "expected_line_items": pa.array(truth.lines.ravel(), pa.float64()),
        }
    )
    legit = truth.sales.sum(axis=1) + refunds.sum(axis=1)
    fraud = spec.fraud
    schedule = fraud_schedule(spec, dates)
    odds = fraud.rate / (1.0 - fraud.rate) if fraud.rate < 1 else 0.0
    expected_fraud = legit[:, None] * odds * schedule.shares  # (days, types)
    types = len(FRAUD_TYPES)
    fraud_schedule_table = pa.table(
        {
            "date": pa.array(np.repeat(dates, types), pa.date32()),
            "fraud_type": dictionary_array(np.tile(np.arange(types), days), FRAUD_TYPES),
            "share": pa.array(schedule.shares.ravel(), pa.float64()),
            "difficulty": pa.array(np.repeat(schedule.difficulty, types), pa.float64()),
            "expected_transactions": pa.array(expected_fraud.ravel(), pa.float64()),
        }
    )
    month_of_day = dates.astype("datetime64[M]")
    months = np.unique(month_of_day)
    rows: dict[str, list[object]] = {"month": [], "fraud_type": [], "expected": [], "realised": []}
    for month in months:
        label = str(month)
        in_month = expected_fraud[month_of_day == month].sum(axis=0)
        for t, name in enumerate(FRAUD_TYPES):
            rows["month"].append(label)
            rows["fraud_type"].append(name)
            rows["expected"].append(float(in_month[t]))
            rows["realised"].append(int(realised.get(label, {}).get(name, 0)))
    fraud_counts = pa.table(
        {
            "month": pa.array(rows["month"], pa.string()),
            "fraud_type": dictionary_array(
                np.asarray([FRAUD_TYPES.index(str(n)) for n in rows["fraud_type"]]), FRAUD_TYPES
            ),
            "expected_transactions": pa.array(rows["expected"], pa.float64()),
            "realised_transactions": pa.array(rows["realised"], pa.int64()),
        }
    )
    return {
        EXPECTED_DAILY: expected_daily,
        EXPECTED_CATEGORIES: expected_categories,
        FRAUD_COUNTS: fraud_counts,
        FRAUD_SCHEDULE: fraud_schedule_table,
        CUSTOMER_LIFECYCLE: truth.lifecycle,
        BRAND_LOYALTY: brand_loyalty_truth(spec),
        BASKET_ASSOCIATIONS: basket_associations_truth(spec),
    }


def brand_loyalty_truth(spec: Spec) -> pa.Table:
    """Per category and brand: its share of the category's popularity (the chance it is a
    customer's favourite there), and per category the chance two lines of one customer
    share a brand, rho^2 + (1 - rho^2) x sum of squared shares."""
    world = product_world(spec)
    shares = brand_shares(world, spec)
    categories, per = shares.shape
    rho = spec.products.brand_loyalty
    same = rho**2 + (1.0 - rho**2) * (shares * shares).sum(axis=1)
    names = [c.name for c in spec.products.categories]
    return pa.table(
        {
            "category": dictionary_array(np.repeat(np.arange(categories), per), names),
            "brand": dictionary_array(np.arange(categories * per), brand_names(spec)),
            "favourite_share": pa.array(shares.ravel(), pa.float64()),
            "same_brand_pair_share": pa.array(np.repeat(same, per), pa.float64()),
        }
    )


def basket_associations_truth(spec: Spec) -> pa.Table:
    """The planted pairs: per complement pair (anchor, partner), the probability an anchor
    line brings its partner and the lift it aims at; per substitute pair (first, second),
    the exclusivity and the first member's share of the pair's popularity."""
    planted = associations(spec)
    world = product_world(spec)
    ids = world.ids()
    complements, substitutes = planted.anchor.shape[0], planted.substitutes
    first = np.concatenate([planted.anchor, planted.first])
    second = np.concatenate([planted.partner, planted.second])
    names = [c.name for c in spec.products.categories]
    nothing = np.full(substitutes, np.nan)
    return pa.table(
        {
            "kind": dictionary_array(
                np.repeat([0, 1], [complements, substitutes]), list(ASSOCIATION_KINDS)
            ),
            "product_a": pa.array(ids[first], pa.int32()),
            "product_b": pa.array(ids[second], pa.int32()),
            "category_a": dictionary_array(world.category[first].astype(np.int64), names),
            "category_b": dictionary_array(world.category[second].astype(np.int64), names),
            "attach_probability": pa.array(
                np.concatenate([complement_attach(spec), nothing]), pa.float64(), from_pandas=True
            ),
            "target_lift": pa.array(
                np.concatenate([np.full(complements, spec.products.complements.lift), nothing]),
                pa.float64(),
                from_pandas=True,
            ),
            "exclusivity": pa.array(
                np.concatenate(
                    [
                        np.full(complements, np.nan),
                        np.full(substitutes, spec.products.substitutes.exclusivity),
                    ]
                ),
                pa.float64(),
                from_pandas=True,
            ),
            "first_share": pa.array(
                np.concatenate([np.full(complements, np.nan), planted.first_share]),
                pa.float64(),
                from_pandas=True,
            ),
        }
    )
