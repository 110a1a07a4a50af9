"""Stores: location by population, format, and open date. Online is a channel, not a store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import DAYS_PER_YEAR
from synthpipe.data.geography import Geography, load_geography
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.geography import city_weights
from synthpipe.model.sampling import categorical
from synthpipe.model.schema import STORES_SCHEMA, dictionary_array
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec

FIRST_STORE_ID = 1


@dataclass(frozen=True)
class StoreWorld:
    """The stores as numpy arrays, for generators that need them (not a table)."""

    count: int
    region: np.ndarray  # region index
    state: np.ndarray
    city: np.ndarray
    format: np.ndarray  # format index
    traffic: np.ndarray  # relative traffic of the store's format
    open_day: np.ndarray  # datetime64[D]

    def ids(self) -> np.ndarray:
        """Store ids (1-based) in index order."""
        return np.arange(FIRST_STORE_ID, FIRST_STORE_ID + self.count, dtype=np.int32)


def _open_dates(spec: Spec, rng: np.random.Generator, count: int) -> np.ndarray:
    """Open dates: established stores before the customer history starts, new ones between
    calendar.start and customers.signup_end (not calendar.end: extending the calendar must
    not move a store). The first store is always an established one."""
    signup_start, signup_end = spec.customers.signup_window()
    established = np.datetime64(min(spec.calendar.start, signup_start), "D")
    history = round(spec.stores.history_years * DAYS_PER_YEAR)
    new_window = max(1, (signup_end - spec.calendar.start).days + 1)
    u = rng.random((count, 2))
    is_new = u[:, 0] < spec.stores.new_store_share
    is_new[0] = False
    old = established - 1 - np.floor(u[:, 1] * history).astype(np.int64)
    new = np.datetime64(spec.calendar.start, "D") + np.floor(u[:, 1] * new_window).astype(np.int64)
    return np.where(is_new, new, old)


def store_world(spec: Spec) -> StoreWorld:
    """The stores of ``spec`` (cached per spec within a process)."""
    return cached_per_spec("stores", spec, build_store_world)


def build_store_world(spec: Spec) -> StoreWorld:
    """Generate the store attributes of ``spec``: location, format, traffic, open date."""
    geography = load_geography(spec.calendar.country)
    count = spec.stores.count
    seed = spec.seed
    city = categorical(
        generator(seed, Entity.STORES, Stream.STORE_REGION).random(count), city_weights(geography)
    )
    formats = spec.stores.formats
    shares = np.asarray([f.share for f in formats.values()])
    traffic = np.asarray([f.traffic for f in formats.values()])
    fmt = categorical(generator(seed, Entity.STORES, Stream.STORE_FORMAT).random(count), shares)
    state = geography.city_state[city]
    return StoreWorld(
        count=count,
        region=geography.state_region[state].astype(np.int16),
        state=state.astype(np.int16),
        city=city.astype(np.int16),
        format=fmt.astype(np.int8),
        traffic=traffic[fmt],
        open_day=_open_dates(spec, generator(seed, Entity.STORES, Stream.OPEN_DATE), count),
    )


def store_names(geography: Geography, world: StoreWorld, format_names: list[str]) -> pa.Array:
    """Readable store names, e.g. ``"Denver Supermarket #12"``."""
    city = pc.take(pa.array(geography.cities), pa.array(world.city))
    titles = [name.replace("_", " ").title() for name in format_names]
    fmt = pc.take(pa.array(titles), pa.array(world.format))
    number = pc.binary_join_element_wise("#", pc.cast(pa.array(world.ids()), pa.string()), "")
    return pc.binary_join_element_wise(city, fmt, number, " ")


def generate_stores(spec: Spec) -> pa.Table:
    """The stores table."""
    geography = load_geography(spec.calendar.country)
    world = store_world(spec)
    format_names = list(spec.stores.formats)
    columns = {
        "store_id": pa.array(world.ids(), pa.int32()),
        "name": store_names(geography, world, format_names),
        "format": dictionary_array(world.format, format_names),
        "region": dictionary_array(world.region, geography.regions),
        "state": dictionary_array(world.state, geography.states),
        "city": dictionary_array(world.city, geography.cities),
        "open_date": pa.array(world.open_day.astype("datetime64[D]"), pa.date32()),
    }
    return pa.Table.from_pydict(columns, schema=STORES_SCHEMA)


def open_on(world: StoreWorld, day: dt.date) -> np.ndarray:
    """Mask of stores open on ``day``."""
    return np.asarray(world.open_day <= np.datetime64(day, "D"))
