"""The unit of transaction randomness: one customer block over one month (or part of it).

Every stream of a block-month is consumed day-major: the draws that make day d depend
only on days up to d. So a calendar that ends mid-month, once extended, keeps every row
it already had, and no draw depends on worker, task order or partitioning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from synthpipe.clock import MICROS_PER_HOUR
from synthpipe.fraud.base import NO_RING
from synthpipe.model.baskets import BasketDraws, Lines, LineWorld, concat_lines
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.changes import Homes, cached_change_log, month_key
from synthpipe.model.customers import CACHED_BLOCKS, CustomerBlock, cached_customer_block
from synthpipe.model.products import ProductWorld, product_world
from synthpipe.model.sampling import (
    InverseCdf,
    categorical,
    cumulative,
    grouped_categorical,
    rank_within_groups,
)
from synthpipe.model.seasonality import DayFactors, day_factors
from synthpipe.model.stores import StoreWorld, store_world
from synthpipe.model.substreams import SubStream
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import ONLINE

NO_STORE = -1
NO_REGION = -1
NOT_FRAUD = -1
MONTHS_PER_YEAR = 12
# Payment methods fraud typologies use; always part of the payment dictionary.
FRAUD_PAYMENT_METHODS = ("credit_card", "mobile_wallet", "gift_card")


def payment_methods(spec: Spec) -> list[str]:
    """The payment dictionary: in-store methods, then new online ones, then fraud ones."""
    channels = spec.sales.channels
    names: list[str] = []
    for name in (*channels.in_store.payment, *channels.online.payment, *FRAUD_PAYMENT_METHODS):
        if name not in names:
            names.append(name)
    return names


def cached_day_factors(spec: Spec, first: dt.date, last: dt.date) -> DayFactors:
    """Day factors of a range, computed once per process."""
    return cached_per_spec("day_factors", spec, day_factors, first, last)


@dataclass
class BlockMonth:
    """Everything a block-month's generators share: customers, world, day factors."""

    spec: Spec
    block: int
    first_day: dt.date
    last_day: dt.date
    customers: CustomerBlock
    stores: StoreWorld
    products: ProductWorld
    factors: DayFactors
    order: np.ndarray = field(init=False)  # customer indices sorted by signup
    active: np.ndarray = field(init=False)  # customers signed up by each day

    def __post_init__(self) -> None:
        self.order = self.customers.signup_order
        sorted_signup = self.customers.signup_day[self.order]
        self.active = np.searchsorted(sorted_signup, self.factors.dates, side="right")

    @cached_property
    def homes(self) -> Homes:
        """Where each customer lives on each day (customers.changes), from the block's
        change log, built on first use: the ground truth never needs it."""
        return Homes.of(cached_change_log(self.spec, self.block, self.customers))

    @property
    def days(self) -> int:
        """Days in the range."""
        return self.factors.days

    @property
    def month(self) -> int:
        """The month key used in every stream of this block-month."""
        return month_key(self.first_day)

    def stream(self, entity: Entity, stream: Stream, sub: int = 0) -> np.random.Generator:
        """The generator of one stream of this block-month (``sub``: a ``SubStream``'s key,
        a fraud type's, or 0 for a stream with one user)."""
        return generator(self.spec.seed, entity, stream, sub, self.block, self.month)

    def sub_stream(self, stream: Stream, sub: SubStream) -> np.random.Generator:
        """The generator of ``stream`` for one legitimate process and channel."""
        return self.stream(sub.entity, stream, sub.key)

    def basket_draws(self, sub: SubStream) -> BasketDraws:
        """The line generators of one legitimate process and channel."""
        return BasketDraws.of(lambda stream: self.sub_stream(stream, sub))

    @property
    def line_world(self) -> LineWorld:
        """What this block-month's lines are drawn against."""
        return LineWorld(self.spec, self.products, self.factors)

    def home_region(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home region code of each customer on each day (index into the range)."""
        return self.homes.region_at(customer, self.factors.dates[day]).astype(np.int64)

    def home_store(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home store index of each customer on each day (index into the range)."""
        return self.homes.store_at(customer, self.factors.dates[day]).astype(np.int64)

    def open_stores(self) -> np.ndarray:
        """Mask of stores open on the first day of the range (so on every day of it)."""
        return np.asarray(self.stores.open_day <= np.datetime64(self.first_day, "D"))


def block_month(spec: Spec, block: int, first_day: dt.date, last_day: dt.date) -> BlockMonth:
    """Build the shared context of one block-month."""
    customers = cached_customer_block(spec, block)
    return BlockMonth(
        spec=spec,
        block=block,
        first_day=first_day,
        last_day=last_day,
        customers=customers,
        stores=store_world(spec),
        products=product_world(spec),
        factors=cached_day_factors(spec, first_day, last_day),
    )


@dataclass(frozen=True)
class Intensity:
    """Expected transactions per day of one process (a channel, or refunds)."""

    customers: InverseCdf  # cumulative customer weights in signup order, searchable
    per_day: np.ndarray  # expected count per day (the Poisson mean)

    def scaled(self, factor: float) -> Intensity:
        """The same process with every rate times ``factor`` (same customer choice)."""
        return Intensity(self.customers, self.per_day * factor)


def _weight_search(spec: Spec, block: int, channel: int) -> InverseCdf:
    customers = cached_customer_block(spec, block)
    weights = channel_customer_weights(customers, channel)
    return InverseCdf.build(np.cumsum(weights[customers.signup_order]))


def intensity(ctx: BlockMonth, channel: int, day_factor: np.ndarray) -> Intensity:
    """Sum of a channel's customer weights active each day, times the day factor. The
    searchable cumulative weights depend on the block only: built once per process."""
    search = cached_per_spec(
        "weight_search", ctx.spec, _weight_search, ctx.block, channel, capacity=2 * CACHED_BLOCKS
    )
    cum = search.cumulative
    active_total = np.where(ctx.active > 0, cum[np.maximum(ctx.active - 1, 0)], 0.0)
    return Intensity(search, active_total * day_factor)


def channel_customer_weights(customers: CustomerBlock, channel: int) -> np.ndarray:
    """Customer weights of a channel: base rate x P(channel)."""
    p_online = customers.online_probability
    share = p_online if channel == ONLINE else 1.0 - p_online
    return np.asarray(customers.base_rate * share)


def channel_weights(ctx: BlockMonth, channel: int) -> np.ndarray:
    """Customer weights of a channel in this block-month's customers."""
    return channel_customer_weights(ctx.customers, channel)


def channel_intensity(ctx: BlockMonth, channel: int) -> Intensity:
    """The sales intensity of a channel: r_c x P(channel | c) x F(d) x G_channel(d)."""
    factor = ctx.factors.overall * ctx.factors.channel[:, channel]
    return intensity(ctx, channel, factor)


def pick_customers(
    ctx: BlockMonth, rate: Intensity, counts: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Day index and customer (block index) of each transaction, drawn by weight among the
    customers signed up that day. Equivalent to independent Poisson counts per customer."""
    day = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    limit = ctx.active[day]
    total = rate.customers.cumulative[np.maximum(limit - 1, 0)]
    position = rate.customers.search(u * total)
    position = np.minimum(position, limit - 1)
    return day, ctx.order[position]


def hours_cdf(hours: list[float]) -> np.ndarray:
    """Cumulative hour-of-day profile."""
    return cumulative(np.asarray(hours, dtype=np.float64))


def time_of_day(hours: list[float], u: np.ndarray) -> np.ndarray:
    """Microseconds after midnight: hour from the profile, then uniform within the hour.

    ``u`` holds two uniforms per transaction.
    """
    hour = categorical(u[:, 0], np.asarray(hours, dtype=np.float64))
    return np.asarray(hour * MICROS_PER_HOUR + (u[:, 1] * MICROS_PER_HOUR).astype(np.int64))


def store_weights_by_region(ctx: BlockMonth, same_region: bool) -> np.ndarray:
    """(regions, stores) traffic weights of open stores inside (or outside) each region."""
    n_regions = int(max(ctx.stores.region.max(), ctx.customers.region.max(initial=0))) + 1
    regions = np.arange(n_regions)[:, None]
    inside = ctx.stores.region[None, :] == regions
    mask = inside if same_region else ~inside
    return np.asarray(mask * (ctx.stores.traffic * ctx.open_stores())[None, :])


def stores_in_region(
    ctx: BlockMonth, region: np.ndarray, u: np.ndarray, same_region: bool
) -> tuple[np.ndarray, np.ndarray]:
    """A store by traffic in (or outside) each row's region; also whether one existed."""
    weights = store_weights_by_region(ctx, same_region)
    found = weights.sum(axis=1)[region] > 0
    pick = grouped_categorical(u, region, weights)
    return pick, found


def any_store(ctx: BlockMonth, u: np.ndarray) -> np.ndarray:
    """A store by traffic among all stores open in the range."""
    return categorical(u, ctx.stores.traffic * ctx.open_stores())


@dataclass
class TransactionSet:
    """Transactions of one process (a channel, refunds or a fraud type), day-major."""

    day: np.ndarray  # day index in the range
    micros: np.ndarray  # microseconds after midnight
    customer: np.ndarray  # index into the customer block
    channel: np.ndarray
    store: np.ndarray  # store index or NO_STORE
    payment: np.ndarray  # index into payment_methods(spec)
    ship_region: np.ndarray  # region index or NO_REGION
    kind: np.ndarray  # SALE or REFUND
    fraud: np.ndarray  # fraud type index or NOT_FRAUD
    subrange: np.ndarray  # id sub-range of each transaction
    lines: Lines
    # the fraud ring whose devices, networks and drop addresses the transaction uses, or
    # NO_RING (synthpipe.model.identity), and whether it pays with one of the ring's cards
    ring: np.ndarray
    ring_card: np.ndarray

    @property
    def size(self) -> int:
        """Number of transactions."""
        return int(self.day.shape[0])

    def sequence(self, days: int) -> np.ndarray:
        """0, 1, ... within each day (the set is day-major)."""
        return rank_within_groups(np.bincount(self.day, minlength=days))


@dataclass(frozen=True)
class Rows:
    """What varies from one transaction of a process to the next, one value each."""

    day: np.ndarray  # day index in the range
    micros: np.ndarray  # microseconds after midnight
    customer: np.ndarray  # index into the customer block
    store: np.ndarray  # store index or NO_STORE
    payment: np.ndarray  # index into payment_methods(spec)
    ship_region: np.ndarray  # region index or NO_REGION
    ring: np.ndarray | None = None  # the acting ring (None: NO_RING for every row)


@dataclass(frozen=True)
class Label:
    """What every transaction of a process shares."""

    channel: int
    kind: int  # SALE or REFUND
    subrange: int  # id sub-range
    fraud: int = NOT_FRAUD  # fraud type code
    ring_cards: bool = False  # rows with a ring pay with the ring's cards, not the account's


def transaction_set(rows: Rows, label: Label, lines: Lines) -> TransactionSet:
    """The transactions of one process: its rows, each labelled alike, and their lines.
    Every column is int64, whatever the producer computed it in, so that sets concatenate
    into one dtype."""

    def column(values: np.ndarray) -> np.ndarray:
        return values.astype(np.int64, copy=False)

    def constant(value: int) -> np.ndarray:
        return np.full(rows.day.shape[0], value, dtype=np.int64)

    return TransactionSet(
        day=column(rows.day),
        micros=column(rows.micros),
        customer=column(rows.customer),
        channel=constant(label.channel),
        store=column(rows.store),
        payment=column(rows.payment),
        ship_region=column(rows.ship_region),
        kind=constant(label.kind),
        fraud=constant(label.fraud),
        subrange=constant(label.subrange),
        lines=lines,
        ring=constant(NO_RING) if rows.ring is None else column(rows.ring),
        ring_card=constant(int(label.ring_cards)),
    )


def concat_sets(parts: list[TransactionSet]) -> TransactionSet:
    """Concatenate transaction sets (their lines are re-pointed to the combined rows)."""
    offsets = np.cumsum([0, *(p.size for p in parts)])[:-1].tolist()

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return TransactionSet(
        day=joined("day"),
        micros=joined("micros"),
        customer=joined("customer"),
        channel=joined("channel"),
        store=joined("store"),
        payment=joined("payment"),
        ship_region=joined("ship_region"),
        kind=joined("kind"),
        fraud=joined("fraud"),
        subrange=joined("subrange"),
        ring=joined("ring"),
        ring_card=joined("ring_card"),
        lines=concat_lines([p.lines for p in parts], offsets),
    )
