"""Labelled fraud-style rare events, injected as extra transactions with a signature each.

Per day and type the target is the legitimate count of that day times
``rate x share / (1 - rate)`` transactions, that is target / (mean event size) events.
Events are placed by systematic rounding: one uniform u per partition and type, and day d
gets floor(C(d) + u) - floor(C(d - 1) + u) events, C being the cumulative event target.
So each partition holds its expected number of events to within one, every event is whole
(a burst is always a burst, however small the partition), the expected fraud rate is the
target exactly, and the realised count varies less than a binomial count would.
Each type draws from its own streams (keyed by the type), after the legitimate
transactions exist; legitimate draws never depend on anything here.

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

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_HOUR
from synthpipe.model.baskets import Lines, cheapest_products, pick_from, product_subset
from synthpipe.model.blockmonth import (
    NO_REGION,
    NO_STORE,
    BlockMonth,
    TransactionSet,
    any_store,
    payment_methods,
    stores_in_region,
    time_of_day,
)
from synthpipe.model.ids import FRAUD_SUBRANGE_BASE
from synthpipe.seeds import Entity, Stream
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import FRAUD_TYPES, IN_STORE, ONLINE, REFUND, SALE

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


def event_size_moments(spec: Spec, name: str) -> tuple[float, float]:
    """Mean and variance of the number of transactions in one event of a fraud type."""
    types = spec.fraud.types
    if name == "card_testing":  # burst_min + Poisson(burst_extra_mean)
        extra = types.card_testing.burst_extra_mean
        return types.card_testing.burst_min + extra, extra
    low, high = {
        "account_takeover": (1, types.account_takeover.orders_max),
        "stolen_card": (1, types.stolen_card.purchases_max),
        "refund_abuse": (types.refund_abuse.refunds_min, types.refund_abuse.refunds_max),
    }[name]
    spread = high - low + 1
    return (low + high) / 2, (spread**2 - 1) / 12  # discrete uniform low..high


def event_counts(ctx: BlockMonth, legit_per_day: np.ndarray) -> dict[str, np.ndarray]:
    """Fraud events per day for each enabled type."""
    fraud = ctx.spec.fraud
    shares = fraud.shares()
    counts: dict[str, np.ndarray] = {}
    if fraud.rate <= 0:
        return counts
    for t, name in enumerate(FRAUD_TYPES):
        if shares[name] <= 0:
            continue
        target = legit_per_day * fraud.rate * shares[name] / (1.0 - fraud.rate)
        mean_size, _ = event_size_moments(ctx.spec, name)
        cumulative = np.cumsum(target / mean_size)
        u = ctx.stream(Entity.FRAUD, Stream.FRAUD_COUNT, t).random()
        placed = np.floor(cumulative + u).astype(np.int64)
        counts[name] = np.diff(placed, prepend=np.int64(np.floor(u)))
    return counts


def event_days(events: np.ndarray) -> np.ndarray:
    """The day index of each event, day-major."""
    return np.repeat(np.arange(events.shape[0], dtype=np.int64), events)


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


def _uniform_events(
    ctx: BlockMonth, t: int, events: np.ndarray, low: int, high: int, event_draws: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events of ``low..high`` transactions (uniform): each event's day, size, and
    ``event_draws`` uniforms per event."""
    day = event_days(events)
    n_events = day.shape[0]
    u = np.asarray(ctx.stream(Entity.FRAUD, Stream.FRAUD_EVENT_SIZE, t).random(n_events))
    spread = high - low + 1
    size = low + np.minimum((u * spread).astype(np.int64), spread - 1)
    per_event = ctx.stream(Entity.FRAUD, Stream.FRAUD_VICTIM, t).random((n_events, event_draws))
    return day, size, per_event


def card_testing(ctx: BlockMonth, t: int, events: np.ndarray) -> TransactionSet:
    """Bursts of tiny online charges, a few minutes apart, on one account."""
    spec = ctx.spec.fraud.types.card_testing
    day = event_days(events)
    n_events = day.shape[0]
    draw = ctx.stream(Entity.FRAUD, Stream.FRAUD_EVENT_SIZE, t)
    size = spec.burst_min + np.asarray(
        draw.poisson(spec.burst_extra_mean, n_events), dtype=np.int64
    )
    total = int(size.sum())
    per_event = ctx.stream(Entity.FRAUD, Stream.FRAUD_VICTIM, t).random((n_events, 2))
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


def account_takeover(ctx: BlockMonth, t: int, events: np.ndarray) -> TransactionSet:
    """High-value online orders at night, shipped to a region the customer doesn't live in."""
    spec = ctx.spec.fraud.types.account_takeover
    day, size, per_event = _uniform_events(ctx, t, events, 1, spec.orders_max, 4)
    total = int(size.sum())
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


def stolen_card(ctx: BlockMonth, t: int, events: np.ndarray) -> TransactionSet:
    """In-store purchases of pricey goods in stores outside the cardholder's home region."""
    spec = ctx.spec.fraud.types.stolen_card
    day, size, per_event = _uniform_events(ctx, t, events, 1, spec.purchases_max, 1)
    total = int(size.sum())
    victim = _victims(ctx, day, per_event[:, 0])
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


def refund_abuse(ctx: BlockMonth, t: int, events: np.ndarray) -> TransactionSet:
    """Several high-value refunds on one account in one day, at different stores."""
    spec = ctx.spec.fraud.types.refund_abuse
    day, size, per_event = _uniform_events(ctx, t, events, spec.refunds_min, spec.refunds_max, 1)
    total = int(size.sum())
    victim = _victims(ctx, day, per_event[:, 0])
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
    for name, events in event_counts(ctx, legit_per_day).items():
        t = FRAUD_TYPES.index(name)
        made = TYPOLOGIES[name](ctx, t, events)
        sets.append(made)
        realised[name] = made.size
    return sets, realised
