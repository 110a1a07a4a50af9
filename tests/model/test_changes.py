"""Customers that change: the feed of a month never depends on calendar.end, replaying
the feed gives the snapshot and the history, and purchases follow the home a customer
has on the day (not the home at the calendar's end)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers import small_spec

from synthpipe.model.customer_tables import changes_table, customer_tables
from synthpipe.model.partition import generate_partition
from synthpipe.plan import make_plan
from synthpipe.spec import Spec

FAST_CHANGES = {
    "customers__changes__move_rate": 3.0,  # a third of the customers move each quarter
    "customers__changes__email_change_rate": 1.0,
    "customers__changes__loyalty_join_rate": 1.0,
}
TOLERANCE_SIGMAS = 6.0


def _feed(spec: Spec, block: int) -> pa.Table:
    tasks = [t for t in make_plan(spec) if t.kind == "sales" and t.block == block]
    return pa.concat_tables(changes_table(spec, block, *t.day_range()) for t in tasks)


def test_a_months_feed_and_the_history_so_far_do_not_depend_on_calendar_end() -> None:
    partial = small_spec(calendar__end="2024-02-15", **FAST_CHANGES)
    whole = small_spec(**FAST_CHANGES)
    january = (dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert changes_table(partial, 0, *january).equals(changes_table(whole, 0, *january))
    february = (dt.date(2024, 2, 1), dt.date(2024, 2, 15))
    short = changes_table(partial, 0, *february)
    longer = changes_table(whole, 0, february[0], dt.date(2024, 2, 29))
    cutoff = pa.scalar(dt.datetime(2024, 2, 16), pa.timestamp("us"))
    assert short.num_rows > 0
    assert longer.filter(pc.less(longer["change_ts"], cutoff)).equals(short)
    before = customer_tables(partial, 0)["customer_history"]
    after = customer_tables(whole, 0)["customer_history"]
    keep = ["customer_id", "version", "valid_from", "email", "region", "income"]
    old = after.filter(pc.less(after["valid_from"], cutoff)).select(keep)
    # (customers who sign up after calendar.end have their signup version in both)
    assert old.equals(before.filter(pc.less(before["valid_from"], cutoff)).select(keep))


def test_replaying_the_feed_gives_the_snapshot_and_the_history() -> None:
    spec = small_spec(**FAST_CHANGES)
    tables = customer_tables(spec, 1)
    feed = _feed(spec, 1)
    history = tables["customer_history"]
    snapshot = tables["customers"]
    updates = feed.filter(pc.equal(feed["operation"].cast(pa.string()), "update"))
    assert updates.num_rows == pc.sum(pc.greater(history["version"], 0)).as_py() > 0
    # the last change of each customer, in feed order, is the customer's row at the end
    order = pc.sort_indices(feed, [("customer_id", "ascending"), ("version", "descending")])
    ordered = feed.take(order)
    ids = ordered["customer_id"].to_numpy()
    latest = ordered.take(pa.array(np.flatnonzero(np.append(True, ids[1:] != ids[:-1]))))
    signed_up = snapshot.filter(pc.is_in(snapshot["customer_id"], latest["customer_id"]))
    replayed = latest.select(snapshot.column_names)
    for name in snapshot.column_names:
        assert replayed[name].cast(pa.string()).equals(signed_up[name].cast(pa.string())), name
    # every update is the history's version of the same number, column for column
    keyed = history.select(["customer_id", "version", "valid_from", "email"])
    keyed = keyed.rename_columns(["customer_id", "version", "valid_from", "history_email"])
    joined = updates.select(["customer_id", "version", "change_ts", "email"]).join(
        keyed, ["customer_id", "version"], join_type="inner"
    )
    assert joined.num_rows == updates.num_rows
    assert joined["change_ts"].equals(joined["valid_from"])
    assert pc.all(pc.equal(joined["email"], joined["history_email"])).as_py()


@pytest.fixture(scope="module")
def movers_world() -> tuple[Spec, pa.Table, pa.Table, pa.Table, pa.Table]:
    spec = small_spec(**FAST_CHANGES)
    tasks = make_plan(spec)
    parts = [generate_partition(spec, t) for t in tasks]
    tables = {
        name: pa.concat_tables(p.tables[name] for p in parts if name in p.tables)
        for name in ("transactions", "customer_history", "customers", "stores")
    }
    return (
        spec,
        tables["transactions"],
        tables["customer_history"],
        tables["customers"],
        tables["stores"],
    )


def test_in_store_purchases_follow_the_home_of_the_day(
    movers_world: tuple[Spec, pa.Table, pa.Table, pa.Table, pa.Table],
) -> None:
    spec, transactions, history, snapshot, stores = movers_world
    sales = transactions.filter(
        pc.and_(
            pc.equal(transactions["channel"].cast(pa.string()), "in_store"),
            pc.and_(pc.invert(transactions["is_fraud"]), pc.greater(transactions["amount"], 0)),
        )
    )
    store_region = np.asarray(stores["region"].cast(pa.string()).to_pylist())
    in_region = store_region[sales["store_id"].to_numpy() - 1]
    # the history's version in force at each sale
    key_history = (
        history["customer_id"].to_numpy() * 2**42
        + history["valid_from"].cast(pa.int64()).to_numpy() // 86_400_000_000
    )
    wanted = (
        sales["customer_id"].to_numpy() * 2**42
        + sales["ts"].cast(pa.int64()).to_numpy() // 86_400_000_000
    )
    version = np.searchsorted(key_history, wanted, side="right") - 1
    home_then = np.asarray(history["region"].cast(pa.string()).to_pylist())[version]
    home_at_end = np.asarray(snapshot["region"].cast(pa.string()).to_pylist())[
        sales["customer_id"].to_numpy() - 1
    ]
    choice = spec.sales.store_choice
    floor = choice.home + choice.region
    n = sales.num_rows
    slack = TOLERANCE_SIGMAS * np.sqrt(floor * (1 - floor) / n)
    assert np.mean(in_region == home_then) >= floor - slack
    moved = home_then != home_at_end
    assert moved.sum() > 100  # enough sales by customers who moved later
    assert np.mean(in_region[moved] == home_at_end[moved]) < 0.5  # not the final home
