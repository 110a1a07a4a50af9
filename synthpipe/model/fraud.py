"""Labelled fraud-style rare events, injected as extra transactions with a signature each.

Per day and type the target is the legitimate count of that day times
``rate x share / (1 - rate)``, stochastically rounded; whole events are laid against the
cumulative targets, so every partition (a block-month) carries exactly its share and the
realised fraud rate is the target up to rounding. Each type draws from its own streams
(keyed by the type), after the legitimate transactions exist; legitimate draws never
depend on anything here.

Signatures (README, "Fraud typologies"):
- card_testing: bursts of tiny online charges minutes apart on one account, any hour;
- account_takeover: high-value electronics / gift cards online at night, shipped to a
  region the customer does not live in;
- stolen_card: in-store purchases of pricey goods in a region far from the home region;
- refund_abuse: several high-value refunds on one account in one day, at several stores.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from synthpipe.model.baskets import Lines, cheapest_products, pick_from, product_subset
from synthpipe.model.blockmonth import (
    IN_STORE,
    MICROS_PER_DAY,
    MICROS_PER_HOUR,
    NO_REGION,
    NO_STORE,
    ONLINE,
    REFUND,
    SALE,
    BlockMonth,
    TransactionSet,
    any_store,
    payment_methods,
    stores_in_region,
    time_of_day,
)
from synthpipe.model.ids import FRAUD_SUBRANGE_BASE
from synthpipe.model.sampling import stochastic_round
from synthpipe.seeds import Entity, Stream
from synthpipe.spec.models import FRAUD_TYPES

MICROS_PER_MINUTE = 60_000_000
ATO_GAP_MINUTES = (5.0, 45.0)  # minutes between orders of one account takeover
ATO_SECOND_LINE_PROBABILITY = 0.35
ATO_SECOND_UNIT_PROBABILITY = 0.2
ATO_WALLET_PROBABILITY = 0.3  # share of takeover orders paid by mobile wallet
STOLEN_EXTRA_LINES_MAX = 2  # stolen-card baskets have 1 to 3 lines
STOLEN_EXTRA_LINE_PROBABILITY = 0.5
STOLEN_SECOND_UNIT_PROBABILITY = 0.25
REFUND_ABUSE_STORE_CREDIT_PROBABILITY = 0.4  # refunds paid out as a gift card
LAST_MICRO = MICROS_PER_DAY - 1


def fraud_counts(ctx: BlockMonth, legit_per_day: np.ndarray) -> dict[str, np.ndarray]:
    """Fraud transactions per day for each enabled type (exact, stochastically rounded)."""
    fraud = ctx.spec.fraud
    shares = fraud.shares()
    counts: dict[str, np.ndarray] = {}
    if fraud.rate <= 0:
        return counts
    for t, name in enumerate(FRAUD_TYPES):
        if shares[name] <= 0:
            continue
        target = legit_per_day * fraud.rate * shares[name] / (1.0 - fraud.rate)
        u = ctx.stream(Entity.FRAUD, Stream.FRAUD_COUNT, t).random(ctx.days)
        counts[name] = stochastic_round(target, u)
    return counts


def allocate_events(
    counts: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place whole events of the candidate ``sizes`` on the days of the range.

    Events are laid end to end against the cumulative daily targets; an event falls on
    the day its first transaction's position lands in, so the range's total is exact and
    only the range's last event can be cut short (days keep whole events, which is what
    makes a burst a burst). Day d's events depend only on days up to d. There is one
    candidate per targeted transaction (enough: every size is at least 1). Returns each
    kept event's candidate index, day and size.
    """
    target = np.cumsum(counts)
    total = int(target[-1]) if target.size else 0
    start = np.cumsum(sizes) - sizes
    keep = start < total
    size = np.minimum(sizes, total - start)[keep]
    day = np.searchsorted(target, start[keep], side="right")
    return np.flatnonzero(keep), day.astype(np.int64), size


def _burst_times(start: np.ndarray, size: np.ndarray, gap_minutes: np.ndarray) -> np.ndarray:
    """Times of the transactions of each event: the event's start, then cumulative gaps."""
    event, position = _event_rows(size)
    gaps = np.where(position > 0, gap_minutes * MICROS_PER_MINUTE, 0.0)
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[position == 0], size)
    return np.asarray(np.minimum(start[event] + elapsed.astype(np.int64), LAST_MICRO))


def _victims(ctx: BlockMonth, day: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A customer signed up by the event's day, uniformly."""
    active = ctx.active[day]
    position = np.minimum((u * active).astype(np.int64), np.maximum(active - 1, 0))
    return np.asarray(ctx.order[position])


def _other_region(ctx: BlockMonth, home: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A region different from ``home`` (uniform), when the country has more than one."""
    n_regions = len(np.unique(np.concatenate([ctx.stores.region, ctx.customers.region])))
    n_regions = max(n_regions, int(ctx.customers.region.max(initial=0)) + 1)
    if n_regions < 2:
        return home.astype(np.int64)
    shift = 1 + np.minimum((u * (n_regions - 1)).astype(np.int64), n_regions - 2)
    return np.asarray((home.astype(np.int64) + shift) % n_regions)


def _payment(ctx: BlockMonth, name: str, n: int) -> np.ndarray:
    return np.full(n, payment_methods(ctx.spec).index(name), dtype=np.int64)


def _single_lines(products: np.ndarray, quantity: np.ndarray, price: np.ndarray) -> Lines:
    n = products.shape[0]
    return Lines(
        np.arange(n, dtype=np.int64), products, quantity, price, np.zeros(n, dtype=np.int64)
    )


def _event_rows(event_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event index and position within the event of each transaction."""
    event = np.repeat(np.arange(event_size.shape[0], dtype=np.int64), event_size)
    starts = np.concatenate([[0], np.cumsum(event_size)])[:-1]
    return event, np.arange(event.shape[0], dtype=np.int64) - starts[event]


def card_testing(ctx: BlockMonth, t: int, counts: np.ndarray) -> TransactionSet:
    """Bursts of tiny online charges, a few minutes apart, on one account."""
    spec = ctx.spec.fraud.types.card_testing
    total = int(counts.sum())
    sizes = spec.burst_min + ctx.stream(Entity.FRAUD, Stream.FRAUD_EVENT_SIZE, t).poisson(
        spec.burst_extra_mean, total
    )
    kept, day, size = allocate_events(counts, sizes)
    per_event = ctx.stream(Entity.FRAUD, Stream.FRAUD_VICTIM, t).random((total, 2))[kept]
    victim = _victims(ctx, day, per_event[:, 0])
    longest = (size - 1) * spec.gap_minutes_max * MICROS_PER_MINUTE
    start = (per_event[:, 1] * np.maximum(LAST_MICRO - longest, 0)).astype(np.int64)
    event, _ = _event_rows(size)
    per_txn = ctx.stream(Entity.FRAUD, Stream.FRAUD_TIME, t).random((total, 2))
    gap = spec.gap_minutes_min + per_txn[:, 0] * (spec.gap_minutes_max - spec.gap_minutes_min)
    micros = _burst_times(start, size, gap)
    world = ctx.products
    product = pick_from(cheapest_products(world, spec.cheapest_share), per_txn[:, 1])
    n = total
    return _fraud_set(
        ctx,
        t,
        day[event],
        micros,
        victim[event],
        ONLINE,
        np.full(n, NO_STORE),
        _payment(ctx, "credit_card", n),
        ctx.customers.region[victim[event]].astype(np.int64),
        SALE,
        _single_lines(product, np.ones(n, dtype=np.int64), world.price_cents[product]),
    )


def account_takeover(ctx: BlockMonth, t: int, counts: np.ndarray) -> TransactionSet:
    """High-value online orders at night, shipped to a region the customer doesn't live in."""
    spec = ctx.spec.fraud.types.account_takeover
    total = int(counts.sum())
    size_u = ctx.stream(Entity.FRAUD, Stream.FRAUD_EVENT_SIZE, t).random(total)
    sizes = 1 + np.minimum((size_u * spec.orders_max).astype(np.int64), spec.orders_max - 1)
    kept, day, size = allocate_events(counts, sizes)
    per_event = ctx.stream(Entity.FRAUD, Stream.FRAUD_VICTIM, t).random((total, 4))[kept]
    victim = _victims(ctx, day, per_event[:, 0])
    ship = _other_region(ctx, ctx.customers.region[victim], per_event[:, 1])
    night = np.asarray(spec.night_hours)
    hour = night[
        np.minimum((per_event[:, 2] * night.shape[0]).astype(np.int64), night.shape[0] - 1)
    ]
    start = hour * MICROS_PER_HOUR + (per_event[:, 3] * MICROS_PER_HOUR).astype(np.int64)
    event, _ = _event_rows(size)
    per_txn = ctx.stream(Entity.FRAUD, Stream.FRAUD_TIME, t).random((total, 2))
    low, high = ATO_GAP_MINUTES
    micros = _burst_times(start, size, low + per_txn[:, 0] * (high - low))
    pay = np.where(
        per_txn[:, 1] < ATO_WALLET_PROBABILITY,
        _payment(ctx, "mobile_wallet", total),
        _payment(ctx, "credit_card", total),
    )
    lines = _pricey_lines(
        ctx,
        t,
        spec.categories,
        spec.priciest_share,
        total,
        ATO_SECOND_LINE_PROBABILITY,
        1,
        ATO_SECOND_UNIT_PROBABILITY,
    )
    return _fraud_set(
        ctx,
        t,
        day[event],
        micros,
        victim[event],
        ONLINE,
        np.full(total, NO_STORE),
        pay,
        ship[event],
        SALE,
        lines,
    )


def _pricey_lines(
    ctx: BlockMonth,
    t: int,
    categories: list[str],
    share: float,
    n: int,
    extra_probability: float,
    extra_max: int,
    second_unit_probability: float,
) -> Lines:
    """1 + up to ``extra_max`` lines per transaction from the priciest products of some
    categories, 1 or 2 units each. Draws: 2 uniforms per transaction, 2 per line."""
    world = ctx.products
    subset = product_subset(world, ctx.spec, categories, share)
    per_txn = ctx.stream(Entity.FRAUD, Stream.FRAUD_ITEMS, t).random((n, 2))
    how_many = np.minimum((per_txn[:, 1] * extra_max).astype(np.int64), max(extra_max - 1, 0))
    extra = np.where(per_txn[:, 0] < extra_probability, 1 + how_many, 0) if extra_max else 0
    transaction = np.repeat(np.arange(n, dtype=np.int64), 1 + extra)
    per_line = ctx.stream(Entity.FRAUD, Stream.FRAUD_LINES, t).random((transaction.shape[0], 2))
    product = pick_from(subset, per_line[:, 0])
    quantity = 1 + (per_line[:, 1] < second_unit_probability).astype(np.int64)
    price = world.price_cents[product]
    return Lines(transaction, product, quantity, price, np.zeros_like(price))


def stolen_card(ctx: BlockMonth, t: int, counts: np.ndarray) -> TransactionSet:
    """In-store purchases of pricey goods in stores outside the cardholder's home region."""
    spec = ctx.spec.fraud.types.stolen_card
    total = int(counts.sum())
    size_u = ctx.stream(Entity.FRAUD, Stream.FRAUD_EVENT_SIZE, t).random(total)
    sizes = 1 + np.minimum((size_u * spec.purchases_max).astype(np.int64), spec.purchases_max - 1)
    kept, day, size = allocate_events(counts, sizes)
    per_event = ctx.stream(Entity.FRAUD, Stream.FRAUD_VICTIM, t).random(total)[kept]
    victim = _victims(ctx, day, per_event)
    event, _ = _event_rows(size)
    per_txn = ctx.stream(Entity.FRAUD, Stream.FRAUD_PLACE, t).random((total, 4))
    home = ctx.customers.region[victim[event]].astype(np.int64)
    far, found = stores_in_region(ctx, home, per_txn[:, 0], False)
    store = np.where(found, far, any_store(ctx, per_txn[:, 0]))
    micros = time_of_day(ctx.spec.sales.channels.in_store.hours, per_txn[:, 1:3])
    lines = _pricey_lines(
        ctx,
        t,
        spec.categories,
        spec.priciest_share,
        total,
        STOLEN_EXTRA_LINE_PROBABILITY,
        STOLEN_EXTRA_LINES_MAX,
        STOLEN_SECOND_UNIT_PROBABILITY,
    )
    return _fraud_set(
        ctx,
        t,
        day[event],
        micros,
        victim[event],
        IN_STORE,
        store,
        _payment(ctx, "credit_card", total),
        np.full(total, NO_REGION),
        SALE,
        lines,
    )


def refund_abuse(ctx: BlockMonth, t: int, counts: np.ndarray) -> TransactionSet:
    """Several high-value refunds on one account in one day, at different stores."""
    spec = ctx.spec.fraud.types.refund_abuse
    total = int(counts.sum())
    size_u = ctx.stream(Entity.FRAUD, Stream.FRAUD_EVENT_SIZE, t).random(total)
    spread = spec.refunds_max - spec.refunds_min + 1
    sizes = spec.refunds_min + np.minimum((size_u * spread).astype(np.int64), spread - 1)
    kept, day, size = allocate_events(counts, sizes)
    per_event = ctx.stream(Entity.FRAUD, Stream.FRAUD_VICTIM, t).random(total)[kept]
    victim = _victims(ctx, day, per_event)
    event, _ = _event_rows(size)
    per_txn = ctx.stream(Entity.FRAUD, Stream.FRAUD_PLACE, t).random((total, 4))
    store = any_store(ctx, per_txn[:, 0])
    micros = time_of_day(ctx.spec.sales.channels.in_store.hours, per_txn[:, 1:3])
    pay = np.where(
        per_txn[:, 3] < REFUND_ABUSE_STORE_CREDIT_PROBABILITY,
        _payment(ctx, "gift_card", total),
        _payment(ctx, "credit_card", total),
    )
    bought = _pricey_lines(ctx, t, spec.categories, spec.priciest_share, total, 0.0, 0, 0.0)
    lines = Lines(
        bought.transaction, bought.product, -bought.quantity, bought.price, bought.discount
    )
    return _fraud_set(
        ctx,
        t,
        day[event],
        micros,
        victim[event],
        IN_STORE,
        store,
        pay,
        np.full(total, NO_REGION),
        REFUND,
        lines,
    )


def _fraud_set(
    ctx: BlockMonth,
    t: int,
    day: np.ndarray,
    micros: np.ndarray,
    customer: np.ndarray,
    channel: int,
    store: np.ndarray,
    payment: np.ndarray,
    ship_region: np.ndarray,
    kind: int,
    lines: Lines,
) -> TransactionSet:
    n = day.shape[0]
    return TransactionSet(
        day=day.astype(np.int64),
        micros=micros.astype(np.int64),
        customer=customer.astype(np.int64),
        channel=np.full(n, channel, dtype=np.int64),
        store=store.astype(np.int64),
        payment=payment.astype(np.int64),
        ship_region=ship_region.astype(np.int64),
        kind=np.full(n, kind, dtype=np.int64),
        fraud=np.full(n, t, dtype=np.int64),
        subrange=np.full(n, FRAUD_SUBRANGE_BASE + t, dtype=np.int64),
        lines=lines,
    )


TYPOLOGIES: dict[str, Callable[[BlockMonth, int, np.ndarray], TransactionSet]] = {
    "card_testing": card_testing,
    "account_takeover": account_takeover,
    "stolen_card": stolen_card,
    "refund_abuse": refund_abuse,
}


def fraud_transactions(
    ctx: BlockMonth, legit_per_day: np.ndarray
) -> tuple[list[TransactionSet], dict[str, int]]:
    """All fraud transactions of the block-month, and the realised count per type."""
    sets: list[TransactionSet] = []
    realised: dict[str, int] = dict.fromkeys(FRAUD_TYPES, 0)
    for name, counts in fraud_counts(ctx, legit_per_day).items():
        t = FRAUD_TYPES.index(name)
        made = TYPOLOGIES[name](ctx, t, counts)
        sets.append(made)
        realised[name] = made.size
    return sets, realised
