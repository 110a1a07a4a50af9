"""The customer tables of a block, rendered from its change log (``synthpipe.model.changes``):
the customers as of calendar.end, every version of them (``customer_history``, SCD type 2)
and the monthly change feed (``customer_changes``) with the columns each change touched.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import MICROS_PER_DAY
from synthpipe.data.geography import load_geography
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.changes import (
    CACHED_LOGS,
    ChangeLog,
    CustomerState,
    cached_change_log,
    day_number,
)
from synthpipe.model.customers import (
    CustomerBlock,
    Identity,
    addresses,
    cached_customer_block,
    customer_rows,
    identity,
)
from synthpipe.model.schema import (
    CHANGE_OPERATIONS,
    CUSTOMER_CHANGES_SCHEMA,
    CUSTOMER_HISTORY_SCHEMA,
    TIMESTAMP,
    dictionary_array,
)
from synthpipe.spec.models import Spec

# The columns a change can touch, in the order changed_columns lists them.
TRACKED_COLUMNS = (
    "email",
    "income",
    "is_loyalty_member",
    "region",
    "state",
    "city",
    "postcode",
    "street_address",
    "home_store_id",
)
OPERATION_CODES = {name: code for code, name in enumerate(CHANGE_OPERATIONS)}


@dataclass(frozen=True)
class Versions:
    """Every version of a block's customers: the signup version (0) and one per change,
    sorted by customer and version."""

    customer: np.ndarray
    version: np.ndarray
    day: np.ndarray  # datetime64[D] the version begins
    micros: np.ndarray
    state: CustomerState

    @property
    def starts(self) -> np.ndarray:
        """When each version begins, in microseconds since 1970 (timestamp[us])."""
        return np.asarray(day_number(self.day) * MICROS_PER_DAY + self.micros)


def versions(attrs: CustomerBlock, log: ChangeLog) -> Versions:
    """The versions of a block's customers from its change log."""
    n = attrs.size
    first_change = np.searchsorted(log.customer, log.customer, side="left")
    rank = np.arange(log.size) - first_change + 1
    customer = np.concatenate([np.arange(n), log.customer])
    version = np.concatenate([np.zeros(n, dtype=np.int64), rank])
    order = np.lexsort((version, customer))
    state = CustomerState(
        *(
            np.concatenate([getattr(log.initial, name), getattr(log.after, name)])[order]
            for name in CustomerState.__dataclass_fields__
        )
    )
    return Versions(
        customer=customer[order],
        version=version[order],
        day=np.concatenate([attrs.signup_day, log.day])[order],
        micros=np.concatenate([np.zeros(n, dtype=np.int64), log.micros])[order],
        state=state,
    )


def _rendered(
    spec: Spec, attrs: CustomerBlock, fixed: Identity, found: Versions, rows: np.ndarray
) -> pa.Table:
    state = found.state.take(rows)
    home = {name: getattr(state, name) for name in CustomerState.__dataclass_fields__}
    return customer_rows(spec, attrs, fixed, found.customer[rows], home)


def customer_tables(spec: Spec, block: int) -> dict[str, pa.Table]:
    """The customers of a block as of calendar.end (``customers``) and every version of
    them (``customer_history``, SCD type 2)."""
    attrs = cached_customer_block(spec, block)
    log = cached_change_log(spec, block, attrs)
    fixed = identity(spec, block, attrs)
    final = {name: getattr(log.final, name) for name in CustomerState.__dataclass_fields__}
    snapshot = customer_rows(spec, attrs, fixed, np.arange(attrs.size), final)
    found = versions(attrs, log)
    rows = np.arange(found.customer.shape[0])
    history = _rendered(spec, attrs, fixed, found, rows)
    last = np.append(found.customer[1:] != found.customer[:-1], True)
    starts = found.starts
    ends = np.append(starts[1:], 0)
    history = (
        history.append_column(
            CUSTOMER_HISTORY_SCHEMA.field("version"), pa.array(found.version, pa.int16())
        )
        .append_column(CUSTOMER_HISTORY_SCHEMA.field("valid_from"), pa.array(starts, TIMESTAMP))
        .append_column(
            CUSTOMER_HISTORY_SCHEMA.field("valid_to"), pa.array(ends, TIMESTAMP, mask=last)
        )
        .append_column(CUSTOMER_HISTORY_SCHEMA.field("is_current"), pa.array(last))
    )
    return {"customers": snapshot, "customer_history": history.cast(CUSTOMER_HISTORY_SCHEMA)}


def generate_customers(spec: Spec, block: int) -> pa.Table:
    """The customers table of one block: every customer as of calendar.end."""
    return customer_tables(spec, block)["customers"]


@dataclass(frozen=True)
class FeedBasis:
    """What every month's feed of one block starts from: its customers, their versions and
    the columns that never change."""

    attrs: CustomerBlock
    found: Versions
    fixed: Identity


def _feed_basis(spec: Spec, block: int) -> FeedBasis:
    attrs = cached_customer_block(spec, block)
    log = cached_change_log(spec, block, attrs)
    return FeedBasis(attrs, versions(attrs, log), identity(spec, block, attrs))


def cached_feed_basis(spec: Spec, block: int) -> FeedBasis:
    """The block's feed basis, built once per process for the months of one block (the
    customers come from the cache the block-months fill, under the same name and key)."""
    return cached_per_spec("feed_basis", spec, _feed_basis, block, capacity=CACHED_LOGS)


def changes_table(spec: Spec, block: int, first: dt.date, last: dt.date) -> pa.Table:
    """The change feed of a block over ``first..last`` (one month): the customers there
    at calendar.start (``snapshot``, in the calendar's first month), those who sign up
    (``insert``) and every change (``update``, with the columns it changed), by time."""
    basis = cached_feed_basis(spec, block)
    found = basis.found
    begin, end = np.datetime64(first, "D"), np.datetime64(last, "D")
    calendar_start = np.datetime64(spec.calendar.start, "D")
    initial = found.version == 0
    inside = (found.day >= begin) & (found.day <= end)
    snapshot = initial & (found.day < calendar_start) & (begin == calendar_start)
    inserted = initial & inside & (found.day >= calendar_start)
    updated = ~initial & inside
    rows = np.flatnonzero(snapshot | inserted | updated)
    operation = np.where(snapshot[rows], OPERATION_CODES["snapshot"], OPERATION_CODES["insert"])
    operation = np.where(updated[rows], OPERATION_CODES["update"], operation)
    when = np.where(
        snapshot[rows], day_number(np.asarray(calendar_start)) * MICROS_PER_DAY, found.starts[rows]
    )
    now = _rendered(spec, basis.attrs, basis.fixed, found, rows)
    changed = _changed_columns(spec, found.state, rows, now, updated[rows])
    order = np.lexsort((found.version[rows], found.customer[rows], when))
    columns = {
        "customer_id": now["customer_id"],
        "version": pa.array(found.version[rows], pa.int16()),
        "change_ts": pa.array(when, TIMESTAMP),
        "operation": dictionary_array(operation, CHANGE_OPERATIONS),
        "changed_columns": changed,
        **{name: now[name] for name in now.column_names if name != "customer_id"},
    }
    table = pa.Table.from_pydict(columns, schema=CUSTOMER_CHANGES_SCHEMA)
    return table.take(pa.array(order))


def _name_codes(names: list[str]) -> np.ndarray:
    """One code per distinct name: two places of the same name (a city in two states)
    render the same value, so they compare equal."""
    return np.unique(np.asarray(names, dtype=object), return_inverse=True)[1]


@functools.cache
def _place_name_codes(country: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_name_codes`` of the country's regions, states and cities (once per process)."""
    geography = load_geography(country)
    return (
        _name_codes(list(geography.regions)),
        _name_codes(list(geography.states)),
        _name_codes(list(geography.cities)),
    )


def _differs(spec: Spec, now: CustomerState, before: CustomerState) -> dict[str, np.ndarray]:
    """Per tracked column but the address strings, whether the versions ``now`` render a
    different value from the versions ``before``, decided from the states' codes."""
    region, province, city = _place_name_codes(spec.calendar.country)
    email = (now.email_version != before.email_version) | (
        (now.email_version > 0) & (now.email_domain != before.email_domain)
    )
    return {
        "email": email,
        "income": now.income != before.income,
        "is_loyalty_member": now.loyal != before.loyal,
        "region": region[now.region] != region[before.region],
        "state": province[now.state] != province[before.state],
        "city": city[now.city] != city[before.city],
        "home_store_id": now.home_store != before.home_store,
    }


def _changed_columns(
    spec: Spec, state: CustomerState, rows: np.ndarray, now: pa.Table, updated: np.ndarray
) -> pa.Array:
    """``changed_columns`` of each feed row: the tracked columns whose value differs from
    the customer's previous version, comma-separated (empty for a new row). The address
    strings are compared as rendered, since two draws can render the same text."""
    old = state.take(np.maximum(rows - 1, 0))
    differs = _differs(spec, state.take(rows), old)
    before = addresses(spec, old.state, old.address)
    for name in ("postcode", "street_address"):
        differs[name] = np.asarray(
            pc.not_equal(now[name], before[name]).to_numpy(zero_copy_only=False), dtype=bool
        )
    mask = np.zeros(rows.shape[0], dtype=np.int64)
    for bit, name in enumerate(TRACKED_COLUMNS):
        mask |= differs[name].astype(np.int64) << bit
    mask = np.where(updated, mask, 0)
    labels, codes = np.unique(mask, return_inverse=True)
    names = [
        ",".join(n for bit, n in enumerate(TRACKED_COLUMNS) if int(label) >> bit & 1)
        for label in labels
    ]
    return dictionary_array(codes, names)
