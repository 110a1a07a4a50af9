"""Legitimate sales (per channel) and ordinary refunds of one block-month.

Per day and channel, the count is Poisson with mean sum_c r_c P(channel | c) F(d) G(d)
over the customers signed up by day d; each transaction's customer is then drawn in
proportion to that weight (this is exactly independent Poisson counts per customer).
Nothing here reads the fraud settings, so fraud never moves a legitimate draw.
"""

from __future__ import annotations

import numpy as np

from synthpipe.model.baskets import Lines, audience_group, basket_lines, extra_lines
from synthpipe.model.blockmonth import (
    NO_REGION,
    NO_STORE,
    NOT_FRAUD,
    BlockMonth,
    Intensity,
    TransactionSet,
    any_store,
    channel_intensity,
    payment_methods,
    pick_customers,
    stores_in_region,
    time_of_day,
)
from synthpipe.model.ids import LEGIT_SUBRANGE
from synthpipe.model.sampling import categorical, poisson_by_group, poisson_table
from synthpipe.seeds import Entity, Stream
from synthpipe.vocabulary import CHANNELS, IN_STORE, REFUND, SALE

REFUND_EXTRA_LINES_MEAN = 0.25  # refunds return fewer items than a basket holds
REFUND_SUB_BASE = len(CHANNELS)  # refund streams use sub-keys after the channels' ones


def _payments(ctx: BlockMonth, channel: int, u: np.ndarray) -> np.ndarray:
    """Payment method index per transaction, from the channel's payment mix."""
    channels = ctx.spec.sales.channels
    mix = (channels.in_store, channels.online)[channel].payment
    names = payment_methods(ctx.spec)
    local = categorical(u, np.asarray(list(mix.values())))
    codes = np.asarray([names.index(n) for n in mix], dtype=np.int64)
    return np.asarray(codes[local])


def _basket_draws(ctx: BlockMonth, entity: Entity, sub: int) -> dict[str, np.random.Generator]:
    return {
        "category": ctx.stream(entity, Stream.LINE_CATEGORY, sub),
        "product": ctx.stream(entity, Stream.LINE_PRODUCT, sub),
        "quantity": ctx.stream(entity, Stream.QUANTITY, sub),
        "discount": ctx.stream(entity, Stream.DISCOUNT, sub),
    }


def choose_stores(ctx: BlockMonth, customer: np.ndarray, u: np.ndarray) -> np.ndarray:
    """In-store purchases: the home store, another store of the home region, or any store.

    ``u`` holds two uniforms per transaction (which kind of store, which store).
    """
    choice = ctx.spec.sales.store_choice
    kind = categorical(u[:, 0], np.asarray([choice.home, choice.region, choice.travel]))
    store = ctx.customers.home_store[customer].astype(np.int64)
    regional = np.flatnonzero(kind == 1)
    picked, found = stores_in_region(
        ctx, ctx.customers.region[customer[regional]], u[regional, 1], True
    )
    store[regional[found]] = picked[found]
    travel = np.flatnonzero(kind == 2)
    store[travel] = any_store(ctx, u[travel, 1])
    return np.asarray(store)


def channel_sales(ctx: BlockMonth, channel: int) -> TransactionSet:
    """Legitimate sales of one channel in the block-month."""
    spec = ctx.spec
    rate = channel_intensity(ctx, channel)
    counts = ctx.stream(Entity.TRANSACTIONS, Stream.DAILY_COUNT, channel).poisson(rate.per_day)
    n = int(counts.sum())
    day, customer = pick_customers(
        ctx, rate, counts, ctx.stream(Entity.TRANSACTIONS, Stream.CUSTOMER_PICK, channel).random(n)
    )
    hours = (spec.sales.channels.in_store, spec.sales.channels.online)[channel].hours
    micros = time_of_day(
        hours, ctx.stream(Entity.TRANSACTIONS, Stream.TIME_OF_DAY, channel).random((n, 2))
    )
    cust = ctx.customers
    if channel == IN_STORE:
        store_u = ctx.stream(Entity.TRANSACTIONS, Stream.STORE_PICK, channel).random((n, 2))
        store = choose_stores(ctx, customer, store_u)
        ship = np.full(n, NO_REGION, dtype=np.int64)
    else:
        store = np.full(n, NO_STORE, dtype=np.int64)
        ship = cust.region[customer].astype(np.int64)
    payment = _payments(
        ctx, channel, ctx.stream(Entity.TRANSACTIONS, Stream.PAYMENT, channel).random(n)
    )
    basket_draws = ctx.stream(Entity.TRANSACTIONS, Stream.BASKET_SIZE, channel)
    line_counts = 1 + extra_lines(spec, cust.segment[customer], channel, basket_draws)
    group = audience_group(cust.band[customer], cust.gender[customer])
    lines, _ = basket_lines(
        spec,
        ctx.products,
        ctx.factors,
        day,
        group,
        line_counts,
        _basket_draws(ctx, Entity.TRANSACTIONS, channel),
    )
    return TransactionSet(
        day=day,
        micros=micros,
        customer=customer,
        channel=np.full(n, channel, dtype=np.int64),
        store=store,
        payment=payment,
        ship_region=ship,
        kind=np.full(n, SALE, dtype=np.int64),
        fraud=np.full(n, NOT_FRAUD, dtype=np.int64),
        subrange=np.full(n, LEGIT_SUBRANGE[CHANNELS[channel]], dtype=np.int64),
        lines=lines,
    )


def refund_intensity(ctx: BlockMonth, channel: int) -> Intensity:
    """Refunds of a channel: return_rate x that channel's sales intensity."""
    return channel_intensity(ctx, channel).scaled(ctx.spec.sales.return_rate)


def refunds(ctx: BlockMonth, channel: int) -> TransactionSet:
    """Ordinary refunds of one channel: a few returned items, at the home store or online."""
    spec = ctx.spec
    sub = REFUND_SUB_BASE + channel
    rate = refund_intensity(ctx, channel)
    counts = ctx.stream(Entity.REFUNDS, Stream.DAILY_COUNT, sub).poisson(rate.per_day)
    n = int(counts.sum())
    day, customer = pick_customers(
        ctx, rate, counts, ctx.stream(Entity.REFUNDS, Stream.CUSTOMER_PICK, sub).random(n)
    )
    cust = ctx.customers
    hours = (spec.sales.channels.in_store, spec.sales.channels.online)[channel].hours
    micros = time_of_day(hours, ctx.stream(Entity.REFUNDS, Stream.TIME_OF_DAY, sub).random((n, 2)))
    payment = _payments(ctx, channel, ctx.stream(Entity.REFUNDS, Stream.PAYMENT, sub).random(n))
    table = poisson_table(np.asarray([REFUND_EXTRA_LINES_MEAN]))
    size_draws = ctx.stream(Entity.REFUNDS, Stream.BASKET_SIZE, sub).random(n)
    line_counts = 1 + poisson_by_group(size_draws, np.zeros(n, dtype=np.int64), table)
    group = audience_group(cust.band[customer], cust.gender[customer])
    returnable = np.asarray([c.demand * c.return_rate for c in spec.products.categories])
    bought, _ = basket_lines(
        spec,
        ctx.products,
        ctx.factors,
        day,
        group,
        line_counts,
        _basket_draws(ctx, Entity.REFUNDS, sub),
        returnable,
    )
    lines = Lines(
        bought.transaction,
        bought.product,
        -bought.quantity,
        bought.price,
        np.zeros_like(bought.discount),
    )
    in_store = channel == IN_STORE
    return TransactionSet(
        day=day,
        micros=micros,
        customer=customer,
        channel=np.full(n, channel, dtype=np.int64),
        store=cust.home_store[customer].astype(np.int64)
        if in_store
        else np.full(n, NO_STORE, dtype=np.int64),
        payment=payment,
        ship_region=np.full(n, NO_REGION, dtype=np.int64)
        if in_store
        else cust.region[customer].astype(np.int64),
        kind=np.full(n, REFUND, dtype=np.int64),
        fraud=np.full(n, NOT_FRAUD, dtype=np.int64),
        subrange=np.full(n, LEGIT_SUBRANGE[f"refund_{CHANNELS[channel]}"], dtype=np.int64),
        lines=lines,
    )
