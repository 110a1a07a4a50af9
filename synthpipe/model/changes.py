"""Customers that change: they move, their income is revised, they join or leave the
loyalty programme, they change e-mail address (``customers.changes``).

A customer block's changes of one calendar month come from that block-month's own stream,
with a fixed number of draws per customer, so the changes of a month never depend on
``calendar.end``: a month is drawn whole and its changes after the calendar's end are
dropped, and an extended calendar keeps every change it had (the refresh contract).

In a month in which customer c has been signed up for e days (days after the signup day),
a change of kind k happens with probability 1 - exp(-r_k x e / 365.25), at most once, on
a day drawn uniformly among those e days (moves take effect at midnight, the others at a
uniform time of day). The loyalty rate is the join rate for a non-member at the month's
start and the leave rate for a member. A move draws a new city by the country's city
weights (it may be the same city: a new street), a new address in its state, and, when
the region changes, a new home store of the new region open on the moving day.

The purchase process keeps the rate a customer was given at signup (income and loyalty
then); where a customer shops and where an online order ships follow the home the
customer has on the day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from synthpipe.clock import DAYS_PER_YEAR, MICROS_PER_DAY
from synthpipe.data.geography import load_geography
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.customers import CustomerBlock, home_stores
from synthpipe.model.geography import city_weights
from synthpipe.model.sampling import categorical
from synthpipe.model.stores import StoreWorld, store_world
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec

MONTHS_PER_YEAR = 12
KINDS = ("move", "income", "loyalty", "email")
MOVE, INCOME, LOYALTY, EMAIL = range(len(KINDS))
# Uniform draws per customer and month: occurs, day and time of each kind, then the
# move's city, store and address (street, number, postcode), the new e-mail's domain;
# then one standard normal per customer and month, the income step.
OCCURS, DAY, TIME = 0, len(KINDS), 2 * len(KINDS)
MOVE_CITY, MOVE_STORE, MOVE_ADDRESS = 3 * len(KINDS), 3 * len(KINDS) + 1, 3 * len(KINDS) + 2
ADDRESS_DRAWS = 3
EMAIL_DOMAIN = MOVE_ADDRESS + ADDRESS_DRAWS
DRAWS = EMAIL_DOMAIN + 1
INCOME_STEP = DRAWS  # the column of the standard normal, after the uniforms
CACHED_LOGS = 2  # change logs a worker keeps (one per customer block it is generating)


@dataclass(frozen=True)
class CustomerState:
    """The changing columns of customers, one row per customer or per change."""

    city: np.ndarray
    state: np.ndarray
    region: np.ndarray
    home_store: np.ndarray  # store index
    income: np.ndarray  # int32
    loyal: np.ndarray  # bool
    email_version: np.ndarray  # 0: the signup address; k: the k-th new one
    email_domain: np.ndarray  # index into EMAIL_DOMAINS (used once email_version > 0)
    address: np.ndarray  # (rows, 3) uniforms of street, number, postcode

    def take(self, rows: np.ndarray) -> CustomerState:
        """The states of ``rows``."""
        return CustomerState(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))


@dataclass(frozen=True)
class ChangeLog:
    """Every change of one customer block up to ``calendar.end``, sorted by customer,
    time and kind; ``after`` is each customer's state once the change is made."""

    customer: np.ndarray  # index in the block
    day: np.ndarray  # datetime64[D]
    micros: np.ndarray  # time of day
    kind: np.ndarray  # index into KINDS
    city_changed: np.ndarray  # moves: to another city (not only another street)
    store_changed: np.ndarray  # moves: to a new home store (another region)
    after: CustomerState
    initial: CustomerState  # every customer's state at signup
    final: CustomerState  # every customer's state at the calendar's end

    @property
    def size(self) -> int:
        """Number of changes."""
        return int(self.customer.shape[0])


@dataclass(frozen=True)
class MonthChanges:
    """One month's changes of a block, sorted by customer, time and kind."""

    who: np.ndarray  # customer index in the block
    day: np.ndarray  # datetime64[D]
    micros: np.ndarray  # time of day
    kind: np.ndarray  # index into KINDS


@dataclass(frozen=True)
class Destinations:
    """Where a move can lead: the country's city weights and its city -> state -> region
    maps, and the stores a new home store is drawn from."""

    city_weights: np.ndarray
    city_state: np.ndarray
    state_region: np.ndarray
    stores: StoreWorld


def initial_state(spec: Spec, block: int, attrs: CustomerBlock) -> CustomerState:
    """Every customer's state at signup (the customers table before any change)."""
    n = attrs.size
    address = generator(spec.seed, Entity.CUSTOMERS, Stream.ADDRESS, block).random((n, 3))
    return CustomerState(
        city=attrs.city.astype(np.int64),
        state=attrs.state.astype(np.int64),
        region=attrs.region.astype(np.int64),
        home_store=attrs.home_store.astype(np.int64),
        income=attrs.income.astype(np.int64),
        loyal=attrs.loyal.copy(),
        email_version=np.zeros(n, dtype=np.int64),
        email_domain=np.zeros(n, dtype=np.int64),
        address=address,
    )


def calendar_months(spec: Spec) -> list[tuple[dt.date, dt.date]]:
    """(first, last) day of each calendar month the calendar touches: the first clipped
    to calendar.start, the last day of every month whole (not clipped to calendar.end)."""
    months = []
    first = spec.calendar.start
    while first <= spec.calendar.end:
        next_month = (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        months.append((first, next_month - dt.timedelta(days=1)))
        first = next_month
    return months


def month_key(day: dt.date) -> int:
    """Stable integer of a calendar month (year x 12 + month - 1), a seed key part."""
    return day.year * MONTHS_PER_YEAR + day.month - 1


def change_probability(rate: float | np.ndarray, exposure_days: np.ndarray) -> np.ndarray:
    """P(a change in a month) for ``exposure_days`` days signed up at ``rate`` per year."""
    return np.asarray(-np.expm1(-np.asarray(rate) * exposure_days / DAYS_PER_YEAR))


def change_log(spec: Spec, block: int, attrs: CustomerBlock) -> ChangeLog:
    """The block's changes over the calendar, month by month from each month's stream."""
    rates = spec.customers.changes
    geography = load_geography(spec.calendar.country)
    destinations = Destinations(
        city_weights(geography), geography.city_state, geography.state_region, store_world(spec)
    )
    end = np.datetime64(spec.calendar.end, "D")
    state = initial_state(spec, block, attrs)
    initial = state
    signup = attrs.signup_day
    pieces: list[tuple[np.ndarray, ...]] = []
    afters: list[CustomerState] = []
    for first, last in calendar_months(spec):
        stream = generator(spec.seed, Entity.CUSTOMERS, Stream.CHANGES, block, month_key(first))
        steps = generator(  # its own stream: both stay prefix-stable in the block size
            spec.seed, Entity.CUSTOMERS, Stream.CHANGES, block, month_key(first), INCOME_STEP
        )
        uniforms = stream.random((attrs.size, DRAWS))
        u = np.column_stack([uniforms, steps.standard_normal(attrs.size)])
        start = np.maximum(np.datetime64(first, "D"), signup + 1)
        exposure = np.maximum((np.datetime64(last, "D") - start).astype(np.int64) + 1, 0)
        loyalty_rate = np.where(state.loyal, rates.loyalty_leave_rate, rates.loyalty_join_rate)
        kind_rates: tuple[float | np.ndarray, ...] = (
            rates.move_rate,
            rates.income_change_rate,
            loyalty_rate,
            rates.email_change_rate,
        )
        month = _month_changes(u, start, exposure, end, kind_rates)
        after, city_changed, store_changed = _apply(spec, state, month, u, destinations)
        pieces.append((month.who, month.day, month.micros, month.kind, city_changed, store_changed))
        afters.append(after)
        state = _carry(state, month.who, after)
    who, day, micros, kind, city_changed, store_changed = (
        np.concatenate(parts) for parts in zip(*pieces, strict=True)
    )
    after = CustomerState(
        *(
            np.concatenate([getattr(a, name) for a in afters])
            for name in CustomerState.__dataclass_fields__
        )
    )
    order = np.lexsort((kind, micros, day, who))
    return ChangeLog(
        customer=who[order],
        day=day[order],
        micros=micros[order],
        kind=kind[order],
        city_changed=city_changed[order],
        store_changed=store_changed[order],
        after=after.take(order),
        initial=initial,
        final=state,
    )


def _month_changes(
    u: np.ndarray,
    start: np.ndarray,
    exposure: np.ndarray,
    end: np.datetime64,
    kind_rates: tuple[float | np.ndarray, ...],
) -> MonthChanges:
    """One month's changes of every kind, sorted by customer, time and kind; those after
    ``end`` are dropped."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for k, rate in enumerate(kind_rates):
        happens = u[:, OCCURS + k] < change_probability(rate, exposure)
        day = start + np.minimum((u[:, DAY + k] * exposure).astype(np.int64), exposure - 1)
        who = np.flatnonzero(happens & (exposure > 0) & (day <= end))
        micros = (u[who, TIME + k] * MICROS_PER_DAY).astype(np.int64)
        if k == MOVE:
            micros[:] = 0  # a new home counts from the start of the moving day
        parts.append((who, day[who], micros, np.full(who.shape, k, dtype=np.int64)))
    who, day, micros, kind = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.lexsort((kind, micros, day, who))
    return MonthChanges(who[order], day[order], micros[order], kind[order])


def _apply(
    spec: Spec, state: CustomerState, month: MonthChanges, u: np.ndarray, places: Destinations
) -> tuple[CustomerState, np.ndarray, np.ndarray]:
    """The state after each of a month's changes: each column is the value its latest
    change of the month so far gave it, else the month's starting value."""
    who, day, kind = month.who, month.day, month.kind
    n = who.shape[0]
    position = np.arange(n)
    before = state.take(who)
    draws = u[who]
    # the new values each change brings to its own columns
    new_city = categorical(draws[:, MOVE_CITY], places.city_weights).astype(np.int64)
    new_state = places.city_state[new_city].astype(np.int64)
    new_region = places.state_region[new_state].astype(np.int64)
    stores = home_stores(places.stores, new_region, day, draws[:, MOVE_STORE])
    new_store = np.where(new_region == before.region, before.home_store, stores).astype(np.int64)
    step = spec.customers.changes.income_change_sigma * draws[:, INCOME_STEP]
    new_income = np.maximum(np.round(before.income * np.exp(step)), 1).astype(np.int64)
    domains = np.minimum((draws[:, EMAIL_DOMAIN] * 3).astype(np.int64), 2)
    columns: dict[str, np.ndarray] = {}
    for name, kinds, value in (
        ("city", MOVE, new_city),
        ("state", MOVE, new_state),
        ("region", MOVE, new_region),
        ("home_store", MOVE, new_store),
        ("address", MOVE, draws[:, MOVE_ADDRESS : MOVE_ADDRESS + ADDRESS_DRAWS]),
        ("income", INCOME, new_income),
        ("loyal", LOYALTY, ~before.loyal),
        ("email_domain", EMAIL, domains),
    ):
        latest = _latest_of_kind(who, kind == kinds, position)
        start_value = getattr(before, name)
        columns[name] = np.where(
            (latest >= 0).reshape((-1,) + (1,) * (start_value.ndim - 1)),
            value[np.maximum(latest, 0)],
            start_value,
        )
    # the k-th e-mail change of the month adds k to the version
    is_email = (kind == EMAIL).astype(np.int64)
    running = np.cumsum(is_email)
    group_start = np.searchsorted(who, who, side="left")
    columns["email_version"] = before.email_version + running - (running - is_email)[group_start]
    # income compounds: chain the month's steps of one customer (at most one a month)
    after = CustomerState(**columns)
    city_changed = (kind == MOVE) & (new_city != before.city)
    store_changed = (kind == MOVE) & (new_store != before.home_store)
    return after, city_changed, store_changed


def _latest_of_kind(who: np.ndarray, of_kind: np.ndarray, position: np.ndarray) -> np.ndarray:
    """For each change (sorted by customer), the position of the customer's latest change
    of a kind up to and including it, or -1."""
    if who.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    marked = np.maximum.accumulate(np.where(of_kind, position, -1))
    same_customer = who[np.maximum(marked, 0)] == who
    return np.asarray(np.where((marked >= 0) & same_customer, marked, -1))


def _carry(state: CustomerState, who: np.ndarray, after: CustomerState) -> CustomerState:
    """Every customer's state at the end of the month: the state after the customer's last
    change of the month, else as it was."""
    if who.shape[0] == 0:
        return state
    last = np.flatnonzero(np.append(who[1:] != who[:-1], True))
    updated = {}
    for name in CustomerState.__dataclass_fields__:
        column = getattr(state, name).copy()
        column[who[last]] = getattr(after, name)[last]
        updated[name] = column
    return CustomerState(**updated)


def cached_change_log(spec: Spec, block: int, attrs: CustomerBlock) -> ChangeLog:
    """The block's change log, computed once per process for the months of one block."""
    return cached_per_spec(
        "change_log", spec, lambda s, b: change_log(s, b, attrs), block, capacity=CACHED_LOGS
    )


@dataclass(frozen=True)
class Homes:
    """Where each customer of a block lives on a given day: moves looked up by
    (customer, day)."""

    key: np.ndarray  # customer x DAY_SPAN + day number of each move, sorted
    customer: np.ndarray
    region: np.ndarray
    home_store: np.ndarray
    initial_region: np.ndarray
    initial_store: np.ndarray

    @classmethod
    def of(cls, log: ChangeLog) -> Homes:
        """The homes of a change log's block."""
        moves = np.flatnonzero(log.kind == MOVE)
        key = log.customer[moves] * DAY_SPAN + day_number(log.day[moves])
        return cls(
            key=key,
            customer=log.customer[moves],
            region=log.after.region[moves],
            home_store=log.after.home_store[moves],
            initial_region=log.initial.region,
            initial_store=log.initial.home_store,
        )

    def _latest(self, customer: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wanted = customer.astype(np.int64) * DAY_SPAN + day_number(day)
        position = np.searchsorted(self.key, wanted, side="right") - 1
        safe = np.maximum(position, 0)
        found = (
            (position >= 0) & (self.customer[safe] == customer)
            if self.key.size
            else (np.zeros(customer.shape, dtype=bool))
        )
        return found, safe

    def region_at(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home region code of each customer on each day (datetime64[D])."""
        found, move = self._latest(customer, day)
        moved = self.region[move] if self.key.size else self.initial_region[customer]
        return np.asarray(np.where(found, moved, self.initial_region[customer]))

    def store_at(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home store index of each customer on each day (datetime64[D])."""
        found, move = self._latest(customer, day)
        moved = self.home_store[move] if self.key.size else self.initial_store[customer]
        return np.asarray(np.where(found, moved, self.initial_store[customer]))


DAY_SPAN = 1 << 24  # day numbers (days since 1970) stay below this


def day_number(day: np.ndarray) -> np.ndarray:
    """Days since 1970 of datetime64 days."""
    return np.asarray(day.astype("datetime64[D]").astype(np.int64))
