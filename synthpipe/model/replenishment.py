"""Replenishment: staples a customer reorders on a cycle of their own.

In every category with ``replenish_days`` > 0, a customer has a staple with probability
``sales.replenishment.share``: a product of the category by popularity, a period
P = replenish_days x G days, G ~ Gamma(cycle_shape, 1 / cycle_shape) (mean 1), and a phase
U ~ Uniform(0, 1). The customer reorders it at t_j = signup + (U + j) P for j = 0, 1, ...,
on day floor(t_j), while still buying (before the churn day): one order of one line. These
are customer attributes, drawn per block from a stream of their own, so a month's orders
do not depend on the calendar around it. Each order's channel, time, store, payment,
quantity and markdown come from the block-month's stream, four to nine uniforms per order
in day-major order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthpipe.clock import UNIX_EPOCH
from synthpipe.model.baskets import Lines, discounts, products_by_popularity
from synthpipe.model.blockmonth import (
    NO_REGION,
    NO_STORE,
    BlockMonth,
    Label,
    Rows,
    TransactionSet,
    time_of_day,
    transaction_set,
)
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.customers import CustomerBlock, cached_customer_block
from synthpipe.model.ids import LEGIT_SUBRANGE
from synthpipe.model.products import product_world
from synthpipe.model.sales import channel_hours, channel_payments, choose_stores
from synthpipe.model.sampling import poisson_by_group, poisson_table
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS, IN_STORE, ONLINE, SALE

ORDER_UNIFORMS = 9  # channel, time (2), store (2), payment, quantity, markdown (2)


@dataclass(frozen=True)
class Staples:
    """One block's staples, one row each, customer-major."""

    customer: np.ndarray  # index in the block
    category: np.ndarray
    product: np.ndarray  # product index (0-based)
    period: np.ndarray  # days between reorders
    first: np.ndarray  # days since 1970 (fractional) of the first order: signup + U x P

    @property
    def size(self) -> int:
        """Number of staples."""
        return int(self.customer.shape[0])


def staple_categories(spec: Spec) -> np.ndarray:
    """Indices of the categories whose products are reordered on a cycle."""
    return np.flatnonzero([c.replenish_days > 0 for c in spec.products.categories])


def block_staples(spec: Spec, customers: CustomerBlock) -> Staples:
    """Each customer's staples: per staple category, three uniforms (whether, which
    product, phase) and one Gamma draw (the cycle), drawn for every customer."""
    categories = staple_categories(spec)
    n, k = customers.size, int(categories.shape[0])
    rng = generator(spec.seed, Entity.CUSTOMERS, Stream.STAPLES, customers.block)
    u = rng.random((n, k, 3))
    shape = spec.sales.replenishment.cycle_shape
    cycle = rng.gamma(shape, 1.0 / shape, size=(n, k))
    customer, column = np.nonzero(u[:, :, 0] < spec.sales.replenishment.share)
    category = categories[column]
    days = np.asarray([c.replenish_days for c in spec.products.categories])[category]
    period = days * cycle[customer, column]
    signup = (customers.signup_day[customer] - UNIX_EPOCH).astype(np.float64)
    world = product_world(spec)
    return Staples(
        customer=customer.astype(np.int64),
        category=category.astype(np.int64),
        product=products_by_popularity(world, category, u[customer, column, 1]),
        period=period,
        first=signup + u[customer, column, 2] * period,
    )


def _build_staples(spec: Spec, block: int) -> Staples:
    return block_staples(spec, cached_customer_block(spec, block))


def staples(spec: Spec, block: int) -> Staples:
    """A block's staples (cached per spec and block within a process)."""
    return cached_per_spec("staples", spec, _build_staples, block)


def order_days(
    held: Staples, first_day: int, days: int, churn: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The reorders falling in ``days`` days from ``first_day`` (days since 1970) before
    each customer's churn day (``churn``, days since 1970, per customer): each order's
    staple row and day index, day-major (staple order within a day)."""
    last = first_day + days
    low = np.maximum(np.ceil((first_day - held.first) / held.period) - 1, 0).astype(np.int64)
    high = np.floor((last - held.first) / held.period).astype(np.int64)
    count = np.maximum(high - low + 1, 0)
    row = np.repeat(np.arange(held.size, dtype=np.int64), count)
    start = np.repeat(np.cumsum(count) - count, count)
    j = low[row] + np.arange(row.shape[0]) - start
    day = np.floor(held.first[row] + j * held.period[row]).astype(np.int64)
    keep = (day >= first_day) & (day < last) & (day < churn[held.customer[row]])
    row, day = row[keep], day[keep] - first_day
    order = np.lexsort((row, day))
    return row[order], day[order]


def replenishment_orders(ctx: BlockMonth) -> list[TransactionSet]:
    """The block-month's reorders, in-store and online apart (each its own id sub-range)."""
    spec = ctx.spec
    held = staples(spec, ctx.block)
    first_day = int((np.datetime64(ctx.first_day, "D") - UNIX_EPOCH).astype(np.int64))
    churn = (ctx.customers.churn_day - UNIX_EPOCH).astype(np.int64)
    row, day = order_days(held, first_day, ctx.days, churn)
    u = ctx.stream(Entity.TRANSACTIONS, Stream.REPLENISHMENT, 0).random(
        (row.shape[0], ORDER_UNIFORMS)
    )
    customer = held.customer[row]
    online = u[:, 0] < ctx.customers.online_probability[customer]
    product = held.product[row]
    category = held.category[row]
    means = np.asarray([c.quantity_mean for c in spec.products.categories])
    quantity = 1 + poisson_by_group(u[:, 6], category, poisson_table(means))
    price = ctx.products.price_cents[product]
    discount = discounts(spec, ctx.factors, category, day, quantity * price, u[:, 7:9])
    sets = []
    for channel in (IN_STORE, ONLINE):
        chosen = np.flatnonzero(online == (channel == ONLINE))
        n = int(chosen.shape[0])
        who = customer[chosen]
        store = (
            choose_stores(ctx, who, day[chosen], u[chosen, 3:5])
            if channel == IN_STORE
            else np.full(n, NO_STORE, dtype=np.int64)
        )
        ship = (
            np.full(n, NO_REGION, dtype=np.int64)
            if channel == IN_STORE
            else ctx.home_region(who, day[chosen])
        )
        rows = Rows(
            day[chosen],
            time_of_day(channel_hours(spec, channel), u[chosen, 1:3]),
            who,
            store,
            channel_payments(ctx, channel, u[chosen, 5]),
            ship,
        )
        label = Label(channel, SALE, LEGIT_SUBRANGE[f"replenish_{CHANNELS[channel]}"])
        lines = Lines(
            np.arange(n, dtype=np.int64),
            product[chosen],
            quantity[chosen],
            price[chosen],
            discount[chosen],
        )
        sets.append(transaction_set(rows, label, lines))
    return sets
