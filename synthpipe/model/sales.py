"""Legitimate sales (per channel) and ordinary refunds of one block-month.

Per day and channel, the count is Poisson with mean sum_c r_c P(channel | c) F(d) G(d)
over the customers signed up by day d; each transaction's customer is then drawn in
proportion to that weight (this is exactly independent Poisson counts per customer).
Nothing here reads the fraud settings, so fraud never moves a legitimate draw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from synthpipe.clock import (
    HOURS_PER_DAY,
    MICROS_PER_DAY,
    MICROS_PER_HOUR,
    MICROS_PER_MINUTE,
    NIGHT_END_HOUR,
)
from synthpipe.data.geography import load_geography
from synthpipe.model.baskets import (
    Baskets,
    Lines,
    Shoppers,
    audience_group,
    basket_lines,
    extra_lines,
)
from synthpipe.model.blockmonth import (
    NO_REGION,
    NO_STORE,
    BlockMonth,
    Intensity,
    Label,
    Rows,
    TransactionSet,
    any_store,
    channel_intensity,
    payment_methods,
    pick_customers,
    stores_in_region,
    time_of_day,
    transaction_set,
)
from synthpipe.model.lifecycle import active_on
from synthpipe.model.sampling import (
    categorical,
    grouped_categorical,
    poisson_by_group,
    poisson_table,
)
from synthpipe.model.substreams import SubStream, refund, repeat, sale
from synthpipe.seeds import Stream
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import IN_STORE, ONLINE, REFUND, SALE

REFUND_EXTRA_LINES_MEAN = 0.25  # refunds return fewer items than a basket holds
MINUTES_PER_HOUR = 60
MAX_REPEAT_GAP_MINUTES = 12 * 60  # half a day: a repeat always fits before or after its sale


def channel_payments(ctx: BlockMonth, channel: int, u: np.ndarray) -> np.ndarray:
    """Payment method index per transaction, from the channel's payment mix."""
    channels = ctx.spec.sales.channels
    mix = channels.of(channel).payment
    names = payment_methods(ctx.spec)
    local = categorical(u, np.asarray(list(mix.values())))
    codes = np.asarray([names.index(n) for n in mix], dtype=np.int64)
    return np.asarray(codes[local])


def channel_hours(spec: Spec, channel: int) -> list[float]:
    """The hour-of-day profile of a channel's legitimate transactions."""
    channels = spec.sales.channels
    return channels.of(channel).hours


@dataclass(frozen=True)
class Arrivals:
    """When and by whom a process's transactions come, day-major."""

    day: np.ndarray  # day index in the range
    customer: np.ndarray  # index into the customer block
    micros: np.ndarray  # microseconds after midnight

    @property
    def size(self) -> int:
        """Number of transactions."""
        return int(self.day.shape[0])


def arrivals(ctx: BlockMonth, sub: SubStream, rate: Intensity) -> Arrivals:
    """The arrival law that sales and ordinary refunds share: per day a Poisson count of
    mean ``rate.per_day``, each transaction's customer by weight among those signed up
    (``pick_customers``), kept while that customer buys (``still_buying``), at a time by
    the channel's hour profile (two uniforms each). Fraud events arrive by another law
    (``synthpipe.model.fraud``: a systematically rounded count of events per day set by
    that day's legitimate count, victims uniform among the signed-up customers whatever
    their rate or lifecycle), and reorders on each staple's own cycle, so neither uses it."""
    counts = ctx.sub_stream(Stream.DAILY_COUNT, sub).poisson(rate.per_day)
    pick = ctx.sub_stream(Stream.CUSTOMER_PICK, sub).random(int(counts.sum()))
    day, customer = still_buying(ctx, *pick_customers(ctx, rate, counts, pick))
    clock = ctx.sub_stream(Stream.TIME_OF_DAY, sub).random((day.shape[0], 2))
    return Arrivals(day, customer, time_of_day(channel_hours(ctx.spec, sub.channel), clock))


def choose_stores(
    ctx: BlockMonth, customer: np.ndarray, day: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """In-store purchases: the home store, another store of the home region, or any store
    (the home the customer has on the day).

    ``u`` holds two uniforms per transaction (which kind of store, which store).
    """
    choice = ctx.spec.sales.store_choice
    kind = categorical(u[:, 0], np.asarray([choice.home, choice.region, choice.travel]))
    store = ctx.home_store(customer, day)
    regional = np.flatnonzero(kind == 1)
    picked, found = stores_in_region(
        ctx, ctx.home_region(customer[regional], day[regional]), u[regional, 1], True
    )
    store[regional[found]] = picked[found]
    travel = np.flatnonzero(kind == 2)
    store[travel] = any_store(ctx, u[travel, 1])
    return np.asarray(store)


def still_buying(
    ctx: BlockMonth, day: np.ndarray, customer: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The transactions whose customer buys on that day (customers.lifetime): thinning each
    customer's Poisson purchases by 1[day in one of its active spells] leaves exactly the
    Poisson purchases of a customer who buys in those spells."""
    keep = active_on(
        ctx.customers.churn_day, ctx.customers.returns, customer, ctx.factors.dates[day]
    )
    return day[keep], customer[keep]


def channel_sales(ctx: BlockMonth, channel: int) -> tuple[TransactionSet, TransactionSet]:
    """Legitimate sales of one channel in the block-month, and their same-day repeats."""
    sub = sale(channel)
    came = arrivals(ctx, sub, channel_intensity(ctx, channel))
    if channel == IN_STORE:
        store_u = ctx.sub_stream(Stream.STORE_PICK, sub).random((came.size, 2))
        store = choose_stores(ctx, came.customer, came.day, store_u)
    else:
        store = np.full(came.size, NO_STORE, dtype=np.int64)
        came = replace(came, micros=night_shopping(ctx, came.micros))
    first = _sales(ctx, sub, came, store)
    return first, same_day_repeats(ctx, channel, first)


def night_shopping(ctx: BlockMonth, micros: np.ndarray) -> np.ndarray:
    """Online sales placed at night: each with probability ``habits.night_online``, at a
    uniform time between 00:00 and NIGHT_END_HOUR (two uniforms a sale)."""
    u = ctx.sub_stream(Stream.HABIT_NIGHT, sale(ONLINE)).random((micros.shape[0], 2))
    night = u[:, 0] < ctx.spec.sales.habits.night_online
    at_night = (u[:, 1] * NIGHT_END_HOUR * MICROS_PER_HOUR).astype(np.int64)
    return np.asarray(np.where(night, at_night, micros))


def repeat_gaps(mean_minutes: float, u: np.ndarray) -> np.ndarray:
    """Microseconds between a sale and its repeat: exponential with the given mean,
    at most MAX_REPEAT_GAP_MINUTES (so that one side of the sale always has room)."""
    minutes = np.minimum(-np.log1p(-u) * mean_minutes, MAX_REPEAT_GAP_MINUTES)
    return np.asarray((minutes * MICROS_PER_MINUTE).astype(np.int64))


def repeat_times(micros: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """A repeat's time: ``gap`` after its sale when that is still the same day, else
    ``gap`` before it."""
    later = micros + gap
    return np.asarray(np.where(later < MICROS_PER_DAY, later, micros - gap))


def same_day_repeats(ctx: BlockMonth, channel: int, first: TransactionSet) -> TransactionSet:
    """Each sale is followed, with probability ``habits.repeat_same_day``, by another sale of
    the same customer, channel and store the same day, ``repeat_gaps`` away; the repeat
    has its own payment, basket and shipping draws."""
    habits = ctx.spec.sales.habits
    u = ctx.sub_stream(Stream.HABIT_REPEAT, sale(channel)).random((first.size, 2))
    chosen = np.flatnonzero(u[:, 0] < habits.repeat_same_day)
    gap = repeat_gaps(habits.repeat_gap_minutes, u[chosen, 1])
    came = Arrivals(
        first.day[chosen], first.customer[chosen], repeat_times(first.micros[chosen], gap)
    )
    return _sales(ctx, repeat(channel), came, first.store[chosen])


def gift_regions(ctx: BlockMonth, home: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Ship regions of online sales: home, or with probability ``habits.gift_shipping``
    another region chosen by population (two uniforms a sale)."""
    population = load_geography(ctx.spec.calendar.country).region_population()
    if population.shape[0] < 2:
        return home
    others = np.broadcast_to(population, (population.shape[0],) * 2).copy()
    np.fill_diagonal(others, 0.0)
    gift = u[:, 0] < ctx.spec.sales.habits.gift_shipping
    away = grouped_categorical(u[:, 1], home, others)
    return np.asarray(np.where(gift, away, home))


def splurge_lines(ctx: BlockMonth, sub: SubStream, n: int) -> np.ndarray:
    """Extra lines of rare large purchases: with probability ``habits.splurge``, a
    Poisson(``habits.splurge_extra_lines``) count (two uniforms a sale)."""
    habits = ctx.spec.sales.habits
    u = ctx.sub_stream(Stream.HABIT_SPLURGE, sub).random((n, 2))
    table = poisson_table(np.asarray([habits.splurge_extra_lines]))
    extra = poisson_by_group(u[:, 1], np.zeros(n, dtype=np.int64), table)
    return np.asarray(np.where(u[:, 0] < habits.splurge, extra, 0))


def _sales(ctx: BlockMonth, sub: SubStream, came: Arrivals, store: np.ndarray) -> TransactionSet:
    """Sales of a first-sale or repeat sub-stream at the given arrivals and stores:
    payment, ship region and basket from that sub-stream's generators."""
    channel = sub.channel
    day, customer, n = came.day, came.customer, came.size
    cust = ctx.customers
    if channel == IN_STORE:
        ship = np.full(n, NO_REGION, dtype=np.int64)
    else:
        home = ctx.home_region(customer, day)
        ship = gift_regions(ctx, home, ctx.sub_stream(Stream.HABIT_GIFT, sub).random((n, 2)))
    payment = channel_payments(ctx, channel, ctx.sub_stream(Stream.PAYMENT, sub).random(n))
    basket_size = ctx.sub_stream(Stream.BASKET_SIZE, sub)
    line_counts = (
        1
        + extra_lines(ctx.spec, cust.segment[customer], channel, basket_size)
        + splurge_lines(ctx, sub, n)
    )
    baskets = Baskets(
        day,
        audience_group(cust.band[customer], cust.gender[customer]),
        line_counts,
        Shoppers(customer, cust.favourite),
    )
    lines = basket_lines(ctx.line_world, baskets, ctx.basket_draws(sub), complements=True)
    rows = Rows(day, came.micros, customer, store, payment, ship)
    return transaction_set(rows, Label(channel, SALE, sub.subrange), lines)


def repeat_factor(spec: Spec) -> float:
    """Sales per first sale: 1 + habits.repeat_same_day (each sale may have one repeat)."""
    return 1.0 + spec.sales.habits.repeat_same_day


def splurge_lines_mean(spec: Spec) -> float:
    """Mean extra lines per sale from splurges: habits.splurge x splurge_extra_lines."""
    habits = spec.sales.habits
    return habits.splurge * habits.splurge_extra_lines


def expected_hour_profile(spec: Spec, channel: int) -> np.ndarray:
    """Share of a channel's legitimate sales in each hour, repeats and night shopping
    included: first sales follow q = (1 - n) x hours + n x night (n = night_online, online
    only; night uniform over 00:00-06:00), and a repeat lands ``repeat_gaps`` after its
    sale (before it when that leaves the day); the profile is (q + r x repeat(q)) / (1 + r).
    Computed on a one-minute grid."""
    habits = spec.sales.habits
    hours = np.asarray(channel_hours(spec, channel), dtype=np.float64)
    first = hours / hours.sum()
    if channel == ONLINE:
        night = np.where(np.arange(HOURS_PER_DAY) < NIGHT_END_HOUR, 1.0 / NIGHT_END_HOUR, 0.0)
        first = (1.0 - habits.night_online) * first + habits.night_online * night
    minutes = HOURS_PER_DAY * MINUTES_PER_HOUR
    start = np.repeat(first / MINUTES_PER_HOUR, MINUTES_PER_HOUR)  # per minute of the day
    gap = np.arange(MAX_REPEAT_GAP_MINUTES + 1, dtype=np.float64)
    gap_mass = np.diff(-np.exp(-np.append(gap, np.inf) / habits.repeat_gap_minutes))
    # a sale at minute m + 1/2 and a gap of k + 1/2 minutes land at m + k + 1, or m - k
    sale = np.arange(minutes)[:, None]
    later = sale + gap[None, :].astype(np.int64) + 1
    landing = np.where(later < minutes, later, sale - gap[None, :].astype(np.int64))
    mass = start[:, None] * gap_mass[None, :]
    repeat = np.bincount(
        np.clip(landing, 0, minutes - 1).ravel() // MINUTES_PER_HOUR,
        weights=mass.ravel(),
        minlength=HOURS_PER_DAY,
    )
    r = habits.repeat_same_day
    return np.asarray((first + r * repeat / max(repeat.sum(), 1e-300)) / (1.0 + r))


def refund_intensity(ctx: BlockMonth, channel: int) -> Intensity:
    """Refunds of a channel: return_rate x that channel's sales intensity, repeats
    included (1 + repeat_same_day)."""
    factor = ctx.spec.sales.return_rate * repeat_factor(ctx.spec)
    return channel_intensity(ctx, channel).scaled(factor)


def refunds(ctx: BlockMonth, channel: int) -> TransactionSet:
    """Ordinary refunds of one channel: a few returned items, at the home store or online."""
    spec = ctx.spec
    sub = refund(channel)
    came = arrivals(ctx, sub, refund_intensity(ctx, channel))
    day, customer, n = came.day, came.customer, came.size
    cust = ctx.customers
    payment = channel_payments(ctx, channel, ctx.sub_stream(Stream.PAYMENT, sub).random(n))
    table = poisson_table(np.asarray([REFUND_EXTRA_LINES_MEAN]))
    size_draws = ctx.sub_stream(Stream.BASKET_SIZE, sub).random(n)
    line_counts = 1 + poisson_by_group(size_draws, np.zeros(n, dtype=np.int64), table)
    baskets = Baskets(
        day,
        audience_group(cust.band[customer], cust.gender[customer]),
        line_counts,
        Shoppers(customer, cust.favourite),
    )
    returnable = np.asarray([c.demand * c.return_rate for c in spec.products.categories])
    bought = basket_lines(ctx.line_world, baskets, ctx.basket_draws(sub), returnable)
    lines = Lines(
        bought.transaction,
        bought.product,
        -bought.quantity,
        bought.price,
        np.zeros_like(bought.discount),
    )
    if channel == IN_STORE:
        store, ship = ctx.home_store(customer, day), np.full(n, NO_REGION, dtype=np.int64)
    else:
        store, ship = np.full(n, NO_STORE, dtype=np.int64), ctx.home_region(customer, day)
    rows = Rows(day, came.micros, customer, store, payment, ship)
    return transaction_set(rows, Label(channel, REFUND, sub.subrange), lines)
