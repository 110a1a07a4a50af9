"""Ground truth: the exact expected volumes the sampler draws from, for scoring models.

For every calendar day, the expected number of legitimate sales and refunds per channel,
of fraud transactions per type, and of sale line items per category. These are the
Poisson means of the generating process given the customers that were generated (their
latent purchase activity included), so a forecaster can be scored against the truth
rather than against noise. Computed per customer block without drawing anything, then
summed. Returned as tables by name: the sink names and writes their files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from synthpipe.clock import DAYS_PER_YEAR, MICROS_PER_DAY, UNIX_EPOCH
from synthpipe.model.associations import associations
from synthpipe.model.baskets import (
    audience_group,
    category_weights,
    complement_attach,
    extra_lines_mean,
)
from synthpipe.model.blockmonth import block_month, channel_weights
from synthpipe.model.catalogue_truth import (
    basket_associations_truth,
    brand_loyalty_truth,
    staples_with_categories,
)
from synthpipe.model.customers import CustomerBlock
from synthpipe.model.fraud import fraud_schedule
from synthpipe.model.identity_truth import IDENTITY_TRUTH, identity_truth
from synthpipe.model.lifecycle import (
    StateAtEnd,
    active_after_active,
    active_after_dormant,
    buying_spells,
    reactivates,
    return_rate,
    state_at,
)
from synthpipe.model.money import CENTS
from synthpipe.model.products import (
    FIRST_PRODUCT_ID,
    product_world,
    share_in_category,
)
from synthpipe.model.replenishment import Staples, order_days, staples
from synthpipe.model.sale_values import expected_sale_values, line_values
from synthpipe.model.sales import repeat_factor, splurge_lines_mean
from synthpipe.model.sampling import cumulative
from synthpipe.model.schema import dictionary_array
from synthpipe.model.seasonality import DayFactors, day_factors
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, GENDERS, IN_STORE, ONLINE, TRANSACTION_TYPES

# The ground-truth tables, by name: returned as tables, never written here (the sink
# names their files: synthpipe.sink.names.truth_file)
EXPECTED_DAILY = "expected_daily"
EXPECTED_CATEGORIES = "expected_category_daily"
FRAUD_COUNTS = "fraud_counts"
FRAUD_SCHEDULE = "fraud_schedule"
CUSTOMER_LIFECYCLE = "customer_lifecycle"
BRAND_LOYALTY = "brand_loyalty"
BASKET_ASSOCIATIONS = "basket_associations"
STAPLES = "staples"
CLV_HORIZON_DAYS = 90  # the lifetime-value truth looks this many days past calendar.end


@dataclass(frozen=True)
class BlockTruth:
    """Expected counts of one customer block over the whole calendar (additive)."""

    sales: np.ndarray  # (days, channels): the ordinary sales
    reorders: np.ndarray  # (days, channels): the staples' reorders
    lines: np.ndarray  # (days, categories): sale line items
    lifecycle: pa.Table  # one row per customer of the block (concatenated, not added)
    staples: pa.Table  # one row per staple of the block (concatenated)
    # the identity graph's truth: households, ring members and ring keys (concatenated)
    identity: dict[str, pa.Table]
    seconds: float = 0.0  # time spent computing it (added up: core-seconds)


def block_truth(spec: Spec, block: int) -> BlockTruth:
    """Expected sales per channel and sale lines per category, per day, of one block."""
    ctx = block_month(spec, block, spec.calendar.start, spec.calendar.end)
    customers = ctx.customers
    days = ctx.days
    groups = len(spec.customers.age_pyramid) * len(GENDERS)
    group = audience_group(customers.band, customers.gender)
    first = ctx.factors.dates[0]
    owner, first_day_of, last_day_of = buying_spells(
        customers.signup_day, customers.churn_day, customers.returns
    )
    start = np.clip((first_day_of - first).astype(np.int64), 0, days)
    end = np.clip((last_day_of - first).astype(np.int64), 0, days)
    buying = start < end  # a spell with some calendar day: its customer buys on [start, end)
    sales = np.zeros((days, len(CHANNELS)))
    weighted_lines = np.zeros((days, groups))
    repeats = repeat_factor(spec)
    for channel in (IN_STORE, ONLINE):
        weight = (channel_weights(ctx, channel) * repeats)[owner]
        lines_per_sale = (
            1.0 + extra_lines_mean(spec, customers.segment, channel) + splurge_lines_mean(spec)
        )[owner]
        day_factor = ctx.factors.overall * ctx.factors.channel[:, channel]
        sales[:, channel] = buying_sum(start, end, buying, weight, days) * day_factor
        change = np.zeros((days + 1, groups))
        value = (weight * lines_per_sale)[buying]
        spell_group = group[owner][buying]
        np.add.at(change, (start[buying], spell_group), value)
        np.add.at(change, (end[buying], spell_group), -value)
        weighted_lines += np.cumsum(change, axis=0)[:days] * day_factor[:, None]
    probability = np.diff(cumulative(category_weights(spec, ctx.factors)), axis=1, prepend=0.0)
    probability = probability.reshape(days, groups, -1)
    lines = with_partner_lines(spec, np.einsum("dg,dgk->dk", weighted_lines, probability))
    held = staples(spec, block)
    first_day = int((first - UNIX_EPOCH).astype(np.int64))
    churn = (customers.churn_day - UNIX_EPOCH).astype(np.int64)
    row, day = order_days(held, first_day, days, churn)
    online = customers.online_probability[held.customer[row]]
    reorders = np.stack(
        [
            np.bincount(day, weights=1.0 - online, minlength=days),
            np.bincount(day, weights=online, minlength=days),
        ],
        axis=1,
    )
    categories = len(spec.products.categories)
    lines += np.bincount(
        day * categories + held.category[row], minlength=days * categories
    ).reshape(days, categories)
    return BlockTruth(
        sales,
        reorders,
        lines,
        lifecycle_truth(spec, customers, held),
        staples_truth(customers, held),
        identity_truth(spec, block),
    )


def with_partner_lines(spec: Spec, lines: np.ndarray) -> np.ndarray:
    """(days, categories) drawn sale lines plus the complements they bring: an anchor is
    its popularity share of its category's lines, and brings its partner with the pair's
    attach probability."""
    planted = associations(spec)
    if planted.anchor.shape[0] == 0:
        return lines
    world = product_world(spec)
    anchor_category = world.category[planted.anchor].astype(np.int64)
    share = share_in_category(world, planted.anchor)
    brought = lines[:, anchor_category] * (share * complement_attach(spec))[None, :]
    total = lines.copy()
    np.add.at(total.T, world.category[planted.partner].astype(np.int64), brought.T)
    return total


def staples_truth(customers: CustomerBlock, held: Staples) -> pa.Table:
    """Each staple of the block: its customer, product and category, its period in days
    and the origin of its schedule (reorders fall on the days of origin + j x period)."""
    origin = np.round(held.first * MICROS_PER_DAY).astype(np.int64)
    return pa.table(
        {
            "customer_id": pa.array(customers.ids[held.customer], pa.int64()),
            "product_id": pa.array(held.product + FIRST_PRODUCT_ID, pa.int32()),
            "category_index": pa.array(held.category, pa.int16()),
            "period_days": pa.array(held.period, pa.float64()),
            "schedule_origin": pa.array(origin, pa.timestamp("us")),
        }
    )


def chance_buying_ahead(
    spec: Spec, customers: CustomerBlock, state: StateAtEnd, ahead: int
) -> np.ndarray:
    """P(each customer buys on the day ``ahead`` + 1 days after calendar.end, given its
    state at the end and its mu): P_A(t) when buying, P_D(t) when dormant, else 0, at
    t = (ahead + 1) / 365.25 (exp(-mu t) when nobody comes back)."""
    years = (ahead + 1) / DAYS_PER_YEAR
    mu = customers.dropout_rate
    if not reactivates(spec):
        return np.asarray(np.exp(-mu * years) * state.buying)
    p, rho = spec.customers.lifetime.reactivation.probability, return_rate(spec)
    return np.asarray(
        np.where(state.buying, active_after_active(mu, years, p, rho), 0.0)
        + np.where(state.dormant, active_after_dormant(mu, years, p, rho), 0.0)
    )


def lifecycle_truth(spec: Spec, customers: CustomerBlock, held: Staples) -> pa.Table:
    """Each customer's latent lifecycle at calendar.end: the activity A and dropout rate mu,
    whether it buys on the last day or is dormant (a return to come, and when), its returns
    so far, its last dropout, and over the next CLV_HORIZON_DAYS (each day weighted by
    ``chance_buying_ahead``): its expected purchases, (1 + r) x r_c A_c x (P(in store) F G_in
    + P(online) F G_online), its staples' scheduled reorders (staples end with the first
    life), and the expected spend of both (``expected_sale_values``)."""
    end = np.datetime64(spec.calendar.end, "D")
    state = state_at(customers.signup_day, customers.churn_day, customers.returns, end)
    horizon = spec.calendar.end + dt.timedelta(days=CLV_HORIZON_DAYS)
    factors = day_factors(spec, spec.calendar.end + dt.timedelta(days=1), horizon)
    online = customers.online_probability
    by_channel = factors.overall[:, None] * factors.channel  # (days, channels)
    values = expected_sale_values(spec, factors)  # (days, groups, channels, segments)
    group = audience_group(customers.band, customers.gender)
    expected = np.zeros(customers.size)
    spend = np.zeros(customers.size)
    for ahead in range(CLV_HORIZON_DAYS):  # whole columns, one day at a time (memory)
        staying = chance_buying_ahead(spec, customers, state, ahead)
        in_store = (1.0 - online) * by_channel[ahead, IN_STORE]
        on_line = online * by_channel[ahead, ONLINE]
        expected += (in_store + on_line) * staying
        spend += (
            in_store * values[ahead, group, IN_STORE, customers.segment]
            + on_line * values[ahead, group, ONLINE, customers.segment]
        ) * staying
    signed_up = customers.signup_day <= end
    first_life = signed_up & (customers.churn_day > end)
    rate = repeat_factor(spec) * customers.base_rate
    reorders, reorder_spend = _reorders_ahead(spec, customers, held, factors, first_life)
    stopped = signed_up & ~state.buying
    return pa.table(
        {
            "customer_id": pa.array(customers.ids, pa.int64()),
            "activity": pa.array(customers.activity, pa.float64()),
            "dropout_rate_per_year": pa.array(customers.dropout_rate, pa.float64()),
            "buying_at_end": pa.array(state.buying, pa.bool_()),
            "dormant_at_end": pa.array(state.dormant, pa.bool_()),
            "returns_by_end": pa.array(state.returns, pa.int32()),
            "stopped_on": pa.array(state.last_dropout, pa.date32(), mask=~stopped),
            "back_on": pa.array(state.next_return, pa.date32(), mask=~state.dormant),
            f"expected_purchases_next_{CLV_HORIZON_DAYS}d": pa.array(rate * expected, pa.float64()),
            f"expected_reorders_next_{CLV_HORIZON_DAYS}d": pa.array(reorders, pa.float64()),
            f"expected_spend_next_{CLV_HORIZON_DAYS}d": pa.array(
                (rate * spend + reorder_spend) / CENTS, pa.float64()
            ),
        }
    )


def _reorders_ahead(
    spec: Spec,
    customers: CustomerBlock,
    held: Staples,
    factors: DayFactors,
    buying: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer, the staples' reorders scheduled in the horizon, each weighted by the
    chance the customer still buys then, and their expected spend in cents."""
    first = int((factors.dates[0] - UNIX_EPOCH).astype(np.int64))
    never = np.full(customers.size, np.iinfo(np.int64).max)
    row, day = order_days(held, first, factors.days, never)
    owner = held.customer[row]
    staying = np.exp(-customers.dropout_rate[owner] * (day + 1) / DAYS_PER_YEAR) * buying[owner]
    product = held.product[row]
    category = held.category[row]
    value = line_values(spec, factors)[day, category] * product_world(spec).price_cents[product]
    reorders = np.bincount(owner, weights=staying, minlength=customers.size)
    spend = np.bincount(owner, weights=staying * value, minlength=customers.size)
    return reorders, spend


def buying_sum(
    start: np.ndarray, end: np.ndarray, buying: np.ndarray, value: np.ndarray, days: int
) -> np.ndarray:
    """Per day, the sum of ``value`` over the customers buying that day (day index in
    [start, end)): a running sum of their arrivals and departures."""
    change = np.bincount(start[buying], weights=value[buying], minlength=days + 1)
    change -= np.bincount(end[buying], weights=value[buying], minlength=days + 1)
    return np.asarray(np.cumsum(change)[:days])


def add_truth(total: BlockTruth | None, part: BlockTruth) -> BlockTruth:
    """The sums of two truths (per day and channel or category, and seconds), without
    the per-customer rows (those are written as they arrive, see ``per_customer_rows``)."""
    if total is None:
        return replace(
            part,
            lifecycle=part.lifecycle.slice(0, 0),
            staples=part.staples.slice(0, 0),
            identity={name: rows.slice(0, 0) for name, rows in part.identity.items()},
        )
    return BlockTruth(
        total.sales + part.sales,
        total.reorders + part.reorders,
        total.lines + part.lines,
        total.lifecycle,
        total.staples,
        total.identity,
        total.seconds + part.seconds,
    )


def merge_truth(parts: list[BlockTruth]) -> BlockTruth:
    """Sum of the blocks' truths, with their per-customer rows concatenated."""
    total: BlockTruth | None = None
    for part in parts:
        total = add_truth(total, part)
    assert total is not None, "no block to merge"
    return replace(
        total,
        lifecycle=pa.concat_tables([p.lifecycle for p in parts]),
        staples=pa.concat_tables([p.staples for p in parts]),
        identity={
            name: pa.concat_tables([p.identity[name] for p in parts]) for name in total.identity
        },
    )


def truth_tables(
    spec: Spec, truth: BlockTruth, realised: dict[str, dict[str, int]]
) -> dict[str, pa.Table]:
    """The ground-truth tables that are sums over the blocks, by name.

    ``realised`` is the manifest's fraud counts (month -> type -> transactions).
    """
    dates = np.arange(np.datetime64(spec.calendar.start), np.datetime64(spec.calendar.end) + 1)
    days = dates.shape[0]
    channels = len(CHANNELS)
    refunds = truth.sales * spec.sales.return_rate
    sales = truth.sales + truth.reorders
    daily_channel = np.repeat(np.arange(channels), 2)
    kinds = np.tile(np.arange(len(TRANSACTION_TYPES)), channels)
    values = np.stack([sales, refunds], axis=2).reshape(days, -1)  # (days, channel x kind)
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
    legit = sales.sum(axis=1) + refunds.sum(axis=1)
    fraud = spec.fraud
    schedule = fraud_schedule(spec, dates)
    odds = fraud.odds()
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
        BRAND_LOYALTY: brand_loyalty_truth(spec),
        BASKET_ASSOCIATIONS: basket_associations_truth(spec),
    }


def per_customer_rows(truth: BlockTruth) -> dict[str, pa.Table]:
    """The rows of the per-customer truth tables (one row per customer, one per staple)
    that ``truth`` holds, by name: written block by block as they arrive (``truth_tables``
    holds the others, which are sums over the blocks)."""
    return {CUSTOMER_LIFECYCLE: truth.lifecycle, STAPLES: truth.staples, **truth.identity}


def per_customer_columns(spec: Spec) -> dict[str, Callable[[pa.Table], pa.Table]]:
    """How each per-customer truth table's rows become its written columns."""
    return {
        CUSTOMER_LIFECYCLE: lambda rows: rows,
        STAPLES: lambda rows: staples_with_categories(spec, rows),
        **dict.fromkeys(IDENTITY_TRUTH, _as_written),
    }


def _as_written(rows: pa.Table) -> pa.Table:
    """A per-customer truth table whose rows are its columns as they are."""
    return rows
