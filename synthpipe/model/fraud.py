"""Labelled fraud-style rare events, injected as extra transactions with a signature each.

Per day and type the target is the legitimate count of that day times
``rate x share / (1 - rate)`` transactions, that is target / (mean event size) events.
Events are placed by systematic rounding: one uniform u per partition and type, and day d
gets floor(C(d) + u) - floor(C(d - 1) + u) events, C being the cumulative event target.
So each partition holds its expected number of events to within one, every event is whole
(a burst is always a burst, however small the partition), the expected fraud rate is the
target exactly, and the realised count varies less than a binomial count would.
Each type draws from its own streams (keyed by its ``FraudKey``), after the legitimate
transactions exist; legitimate draws never depend on anything here.

The typologies themselves are modules of ``synthpipe.fraud``; this module places their
events and gives them ``FraudDraws``, the drawing tools they share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_MINUTE
from synthpipe.fraud import TYPOLOGIES
from synthpipe.fraud.base import ONE_LINE, USUAL_GOODS, ExtraLines, FraudRows, GoodsTilt
from synthpipe.model.baskets import (
    Baskets,
    Lines,
    LineWorld,
    audience_group,
    category_weights,
    discounts,
)
from synthpipe.model.blockmonth import (
    NO_REGION,
    NO_STORE,
    BlockMonth,
    Label,
    Rows,
    TransactionSet,
    any_store,
    payment_methods,
    stores_in_region,
    time_of_day,
    transaction_set,
)
from synthpipe.model.identity import cached_identity_world
from synthpipe.model.ids import FRAUD_SUBRANGE_BASE
from synthpipe.model.products import ProductWorld
from synthpipe.model.sales import channel_payments, choose_stores
from synthpipe.model.sampling import grouped_categorical, poisson_by_group, poisson_table
from synthpipe.seeds import Entity, FraudKey, Stream
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import FRAUD_TYPES, GENDERS

LAST_MICRO = MICROS_PER_DAY - 1
HALF_DAY = MICROS_PER_DAY // 2  # the longest a fraud event may span (burst_times)
LINE_UNIFORMS = 5  # per fraud line: category, product, quantity, markdown, markdown depth


def event_size_moments(
    spec: Spec, name: str, difficulty: float | None = None
) -> tuple[float, float]:
    """Mean and variance of the number of transactions in one event of a fraud type, at
    ``difficulty`` (default: ``fraud.difficulty``)."""
    typology = TYPOLOGIES[name]
    level = spec.fraud.difficulty if difficulty is None else difficulty
    return typology.size_moments(getattr(spec.fraud.types, name), level)


@dataclass(frozen=True)
class FraudSchedule:
    """The fraud process in force on each day of a range (``fraud.drift``)."""

    shares: np.ndarray  # (days, types): the normalised mix
    difficulty: np.ndarray  # (days,)


def fraud_schedule(spec: Spec, dates: np.ndarray) -> FraudSchedule:
    """The mix and difficulty of each date (datetime64[D]): the base values until the first
    drift point, then each point's from its start."""
    fraud = spec.fraud
    starts = np.asarray([np.datetime64(p.start, "D") for p in fraud.drift], dtype="datetime64[D]")
    segment = np.searchsorted(starts, dates.astype("datetime64[D]"), side="right")
    raw = np.asarray(
        [
            [fraud.segment_shares(k)[name] for name in FRAUD_TYPES]
            for k in range(-1, len(fraud.drift))
        ]
    )
    totals = raw.sum(axis=1, keepdims=True)
    mix = np.divide(raw, totals, out=np.zeros_like(raw), where=totals > 0)
    difficulty = np.asarray([fraud.segment_difficulty(k) for k in range(-1, len(fraud.drift))])
    return FraudSchedule(mix[segment], difficulty[segment])


def mean_event_sizes(spec: Spec, name: str, difficulty: np.ndarray) -> np.ndarray:
    """Mean event size of a type on each day, at that day's difficulty."""
    levels, index = np.unique(difficulty, return_inverse=True)
    means = np.asarray([event_size_moments(spec, name, float(d))[0] for d in levels])
    return np.asarray(means[index])


def expected_lines(spec: Spec, name: str) -> float:
    """Mean line items per transaction of a fraud type."""
    typology = TYPOLOGIES[name]
    return typology.expected_lines(getattr(spec.fraud.types, name))


def event_counts(
    ctx: BlockMonth, legit_per_day: np.ndarray, schedule: FraudSchedule | None = None
) -> dict[str, np.ndarray]:
    """Fraud events per day for each enabled type (``schedule``: the block-month's, when
    the caller has it)."""
    fraud = ctx.spec.fraud
    counts: dict[str, np.ndarray] = {}
    if fraud.rate <= 0:
        return counts
    if schedule is None:
        schedule = fraud_schedule(ctx.spec, ctx.factors.dates)
    for name, typology in TYPOLOGIES.items():
        share = schedule.shares[:, FRAUD_TYPES.index(name)]
        if not (share > 0).any():
            continue
        target = legit_per_day * fraud.odds() * share
        mean_size = mean_event_sizes(ctx.spec, name, schedule.difficulty)
        cumulative = np.cumsum(target / mean_size)
        u = ctx.stream(Entity.FRAUD, Stream.FRAUD_COUNT, typology.code).random()
        placed = np.floor(cumulative + u).astype(np.int64)
        counts[name] = np.diff(placed, prepend=np.int64(np.floor(u)))
    return counts


def event_days(events: np.ndarray) -> np.ndarray:
    """The day index of each event, day-major."""
    return np.repeat(np.arange(events.shape[0], dtype=np.int64), events)


def event_rows(event_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Event index and position within the event of each transaction."""
    event = np.repeat(np.arange(event_size.shape[0], dtype=np.int64), event_size)
    starts = np.concatenate([[0], np.cumsum(event_size)])[:-1]
    return event, np.arange(event.shape[0], dtype=np.int64) - starts[event]


def burst_times(start: np.ndarray, size: np.ndarray, gap_minutes: np.ndarray) -> np.ndarray:
    """Times of the transactions of each event: the event's drawn start, then cumulative
    gaps. Nothing is clamped to the end of the day: an event that would run past midnight
    is moved earlier by its span, so that it ends at its drawn start (as a same-day repeat
    goes before its sale when after would leave the day); an event longer than half a day
    (possible only at extreme spec values) first has its gaps scaled down to span half a
    day, so that the move always stays within the day."""
    event, position = event_rows(size)
    gaps = np.where(position > 0, gap_minutes * MICROS_PER_MINUTE, 0.0)
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[position == 0], size)
    span = np.zeros(size.shape[0], dtype=np.float64)
    np.maximum.at(span, event, elapsed)
    squeeze = np.minimum(1.0, HALF_DAY / np.maximum(span, 1.0))
    offset = (elapsed * squeeze[event]).astype(np.int64)
    span_micros = np.zeros(size.shape[0], dtype=np.int64)
    np.maximum.at(span_micros, event, offset)
    first = np.where(start + span_micros > LAST_MICRO, start - span_micros, start)
    return np.asarray(first[event] + offset)


def tilted_products(spec: Spec, world: ProductWorld, tilt: GoodsTilt) -> np.ndarray:
    """Whether each product is in the tilt's set S: of its ``categories`` (all when None),
    the ``price_share`` cheapest or priciest (at least one; ties in id order), or all of
    them when it names no ``price_side``."""
    if tilt.categories is None:
        pool = np.ones(world.count, dtype=bool)
    else:
        names = [c.name for c in spec.products.categories]
        pool = np.isin(world.category, [names.index(n) for n in tilt.categories])
    if tilt.price_side is None:
        return pool
    chosen = np.flatnonzero(pool)
    keep = max(1, int(np.ceil(tilt.price_share * chosen.shape[0])))
    price = world.price_cents[chosen]
    order = np.argsort(price if tilt.price_side == "cheapest" else -price, kind="stable")
    inside = np.zeros(world.count, dtype=bool)
    inside[chosen[order[:keep]]] = True
    return inside


def tilt_category_shares(world: ProductWorld, inside: np.ndarray) -> np.ndarray:
    """Each category's popularity share in S: sum of popularity over S in the category
    over the category's (the factor its line weight takes, so that a line of S is drawn
    with its ordinary chance given S)."""
    categories = world.category_offsets.shape[0] - 1
    kind = world.category.astype(np.int64)
    total = np.bincount(kind, weights=world.popularity, minlength=categories)
    kept = np.bincount(kind, weights=world.popularity * inside, minlength=categories)
    return np.asarray(np.divide(kept, total, out=np.zeros_like(kept), where=total > 0))


def products_in_set(
    world: ProductWorld, inside: np.ndarray, category: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """A product of each line's category by popularity among the products of S (the
    category has some): the inverse of the cumulative popularity over S."""
    cumulative = np.cumsum(world.popularity * inside)
    start = world.category_offsets[category]
    end = world.category_offsets[category + 1]
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + u * (cumulative[end - 1] - before)
    pick = np.searchsorted(cumulative, target, side="right")
    return np.asarray(np.clip(pick, start, end - 1))


def goods_lines(
    lines_world: LineWorld,
    baskets: Baskets,
    tilts: tuple[GoodsTilt, ...],
    which: np.ndarray,
    u: np.ndarray,
    refund: bool = False,
) -> Lines:
    """Lines of fraud ``baskets`` (their shoppers unused), each drawn like an ordinary
    line of its transaction's day and group conditioned on the set S of the
    transaction's tilt ``tilts[which]``: category by the day's weights (demand, or
    demand x return_rate for a refund; affinities, seasonality, promotions)
    times the category's popularity share in S (``tilt_category_shares``), product by
    popularity within S, quantity 1 + Poisson(quantity_factor x quantity_mean), list
    price, and the larger of the day's promotion and a markdown (no discount on a
    refund, as on ordinary refunds). ``u``: five uniforms a line (category, product,
    quantity, markdown, markdown depth)."""
    spec, world, factors = lines_world.spec, lines_world.products, lines_world.factors
    transaction = np.repeat(np.arange(baskets.counts.shape[0], dtype=np.int64), baskets.counts)
    line_day = baskets.day[transaction]
    tilt = which[transaction]
    categories = spec.products.categories
    base = np.asarray([c.demand * (c.return_rate if refund else 1.0) for c in categories])
    weights = category_weights(spec, factors, base)  # (days x groups, K)
    sets = [tilted_products(spec, world, t) for t in tilts]
    tables = []
    for inside in sets:
        shares = tilt_category_shares(world, inside)
        tilted = weights * shares[None, :]
        empty = tilted.sum(axis=1) <= 0  # no ordinary line of S that day: S by popularity
        tables.append(np.where(empty[:, None], shares[None, :], tilted))
    n_groups = len(spec.customers.age_pyramid) * len(GENDERS)
    key = (tilt * factors.dates.shape[0] + line_day) * n_groups + baskets.group[transaction]
    category = grouped_categorical(u[:, 0], key, np.concatenate(tables))
    product = np.zeros(transaction.shape[0], dtype=np.int64)
    for t, inside in enumerate(sets):
        mine = np.flatnonzero(tilt == t)
        product[mine] = products_in_set(world, inside, category[mine], u[mine, 1])
    means = np.asarray([c.quantity_mean for c in categories])
    factor = np.asarray([t.quantity_factor for t in tilts])
    table = poisson_table((factor[:, None] * means[None, :]).ravel())
    quantity = 1 + poisson_by_group(u[:, 2], tilt * len(categories) + category, table)
    price = world.price_cents[product]
    if refund:
        return Lines(transaction, product, -quantity, price, np.zeros_like(price))
    discount = discounts(spec, factors, category, line_day, quantity * price, u[:, 3:5])
    return Lines(transaction, product, quantity, price, discount)


class BlockFraudDraws:
    """The drawing tools of one typology in one block-month: its streams (keyed by the
    typology's stable key) and the world it draws victims, places and goods from."""

    no_store = NO_STORE
    no_region = NO_REGION
    last_micro = LAST_MICRO
    event_days = staticmethod(event_days)
    event_rows = staticmethod(event_rows)
    burst_times = staticmethod(burst_times)

    def __init__(
        self, ctx: BlockMonth, key: FraudKey, schedule: FraudSchedule | None = None
    ) -> None:
        self.ctx = ctx
        self.key = key
        if schedule is None:
            schedule = fraud_schedule(ctx.spec, ctx.factors.dates)
        self.difficulty = schedule.difficulty

    def stream(self, stream: Stream) -> np.random.Generator:
        """The typology's generator for ``stream`` in this block-month."""
        return self.ctx.stream(Entity.FRAUD, stream, int(self.key))

    def attackers(self, n: int) -> np.ndarray:
        """The ring behind each of ``n`` attacks, uniform over the block's rings."""
        rings = cached_identity_world(self.ctx.spec, self.ctx.block).rings.count
        u = self.stream(Stream.FRAUD_ATTACKER).random(n)
        return np.minimum((u * rings).astype(np.int64), rings - 1)

    def ring_members(
        self, day: np.ndarray, u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A ring formed by each event's day (uniform over them), one of its members
        (uniform), and whether any ring was formed by then."""
        rings = cached_identity_world(self.ctx.spec, self.ctx.block).rings
        by_formation = np.argsort(rings.formed, kind="stable")
        formed = np.searchsorted(rings.formed[by_formation], self.ctx.factors.dates[day], "right")
        found = formed > 0
        which = np.minimum((u[:, 0] * formed).astype(np.int64), np.maximum(formed - 1, 0))
        ring = by_formation[which]
        return ring, rings.members.pick(ring, u[:, 1]), found

    def victims(self, day: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A customer signed up by the event's day, uniformly."""
        active = self.ctx.active[day]
        position = np.minimum((u * active).astype(np.int64), np.maximum(active - 1, 0))
        return np.asarray(self.ctx.order[position])

    def home_region(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home region code of each customer (by row in the block) on each day."""
        return self.ctx.home_region(customer, day)

    def other_region(self, home: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A region different from ``home`` (uniform), when the country has more than one."""
        ctx = self.ctx
        n_regions = len(np.unique(np.concatenate([ctx.stores.region, ctx.customers.region])))
        n_regions = max(n_regions, int(ctx.customers.region.max(initial=0)) + 1)
        if n_regions < 2:
            return home.astype(np.int64)
        shift = 1 + np.minimum((u * (n_regions - 1)).astype(np.int64), n_regions - 2)
        return np.asarray((home.astype(np.int64) + shift) % n_regions)

    def payment(self, name: str, n: int) -> np.ndarray:
        """``n`` payments by the method called ``name``."""
        return np.full(n, payment_methods(self.ctx.spec).index(name), dtype=np.int64)

    def uniform_events(
        self, events: np.ndarray, low: int, high: int, event_draws: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events of ``low..high`` transactions (uniform): each event's day, size, and
        ``event_draws`` uniforms per event."""
        day = event_days(events)
        n_events = day.shape[0]
        u = np.asarray(self.stream(Stream.FRAUD_EVENT_SIZE).random(n_events))
        spread = high - low + 1
        size = low + np.minimum((u * spread).astype(np.int64), spread - 1)
        per_event = self.stream(Stream.FRAUD_VICTIM).random((n_events, event_draws))
        return day, size, per_event

    def camouflaged(self, day: np.ndarray) -> np.ndarray:
        """Which events imitate their victim (probability: the day's difficulty)."""
        if self.difficulty.max(initial=0.0) <= 0:
            return np.zeros(day.shape[0], dtype=bool)
        u = self.stream(Stream.FRAUD_CAMOUFLAGE).random(day.shape[0])
        return np.asarray(u < self.difficulty[day])

    def usual_payments(
        self, channel: int, camouflaged: np.ndarray, payment: np.ndarray
    ) -> np.ndarray:
        """Camouflaged transactions pay by the channel's legitimate payment mix."""
        if not camouflaged.any():
            return payment
        u = self.stream(Stream.FRAUD_USUAL_PAYMENT).random(int(payment.shape[0]))
        return np.asarray(np.where(camouflaged, channel_payments(self.ctx, channel, u), payment))

    def home_store(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Each customer's home store (by row in the block) on each day."""
        return self.ctx.home_store(customer, day)

    def online_time(self, u: np.ndarray) -> np.ndarray:
        """Microseconds since midnight by the online hour profile (two uniforms a row)."""
        return time_of_day(self.ctx.spec.sales.channels.online.hours, u)

    def stores_near(self, home: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A store in the home region (any store when there is none)."""
        near, found = stores_in_region(self.ctx, home, u, True)
        return np.where(found, near, any_store(self.ctx, u))

    def usual_stores(self, customer: np.ndarray, day: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A store by the law of the customer's legitimate in-store purchases
        (``synthpipe.model.sales.choose_stores``; two uniforms a row)."""
        return choose_stores(self.ctx, customer, day, u)

    def goods(
        self,
        customer: np.ndarray,
        day: np.ndarray,
        tilt: GoodsTilt,
        camouflaged: np.ndarray,
        extra: ExtraLines = ONE_LINE,
        refund: bool = False,
    ) -> Lines:
        """The lines of each transaction: one, plus with ``extra.probability`` a uniform
        1..``extra.most`` more (two uniforms a transaction, drawn only when it may have
        more), by ``goods_lines`` with the typology's ``tilt`` (``USUAL_GOODS`` for
        camouflaged transactions): LINE_UNIFORMS a line."""
        ctx = self.ctx
        n = int(day.shape[0])
        counts = np.ones(n, dtype=np.int64)
        if extra.most > 0:
            per_txn = self.stream(Stream.FRAUD_ITEMS).random((n, 2))
            how_many = np.minimum((per_txn[:, 1] * extra.most).astype(np.int64), extra.most - 1)
            counts += np.where(per_txn[:, 0] < extra.probability, 1 + how_many, 0)
        u = self.stream(Stream.FRAUD_LINES).random((int(counts.sum()), LINE_UNIFORMS))
        customers = ctx.customers
        group = audience_group(customers.band[customer], customers.gender[customer])
        return goods_lines(
            ctx.line_world,
            Baskets(day, group, counts),
            (tilt, USUAL_GOODS),
            camouflaged.astype(np.int64),
            u,
            refund,
        )

    def stores_away(self, home: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A store outside the home region (any store when there is none)."""
        far, found = stores_in_region(self.ctx, home, u, False)
        return np.where(found, far, any_store(self.ctx, u))

    def any_store(self, u: np.ndarray) -> np.ndarray:
        """Any store open by then, by the stores' weights."""
        return any_store(self.ctx, u)

    def in_store_time(self, u: np.ndarray) -> np.ndarray:
        """Microseconds since midnight, by the in-store hour profile (two uniforms a row)."""
        return time_of_day(self.ctx.spec.sales.channels.in_store.hours, u)

    def transactions(self, rows: FraudRows) -> TransactionSet:
        """The typology's transactions, labelled with its code and id subrange."""
        code = int(self.key)
        placed = Rows(
            rows.day,
            rows.micros,
            rows.customer,
            rows.store,
            rows.payment,
            rows.ship_region,
            rows.ring,
        )
        label = Label(rows.channel, rows.kind, FRAUD_SUBRANGE_BASE + code, code, rows.ring_cards)
        return transaction_set(placed, label, rows.lines)


def fraud_transactions(
    ctx: BlockMonth, legit_per_day: np.ndarray
) -> tuple[list[TransactionSet], dict[str, int]]:
    """All fraud transactions of the block-month, and the realised count per type."""
    sets: list[TransactionSet] = []
    realised: dict[str, int] = dict.fromkeys(FRAUD_TYPES, 0)
    schedule = fraud_schedule(ctx.spec, ctx.factors.dates)
    for name, events in event_counts(ctx, legit_per_day, schedule).items():
        typology = TYPOLOGIES[name]
        params = getattr(ctx.spec.fraud.types, name)
        made = typology.generate(BlockFraudDraws(ctx, typology.key, schedule), params, events)
        sets.append(made)
        realised[name] = made.size
    return sets, realised
