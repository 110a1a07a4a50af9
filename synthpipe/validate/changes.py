"""Statistics of customers that change (``synthpipe.model.changes``): the history of each
customer block (SCD type 2 integrity, its current versions against the snapshot, the
changes of each kind observed and expected), and each month's change feed (its updates
by kind, its new rows, rows outside their month)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import MICROS_PER_DAY, UNIX_EPOCH
from synthpipe.model.changes import calendar_months, change_probability
from synthpipe.model.schema import (
    CUSTOMER_CHANGES_SCHEMA,
    CUSTOMER_HISTORY_SCHEMA,
    CUSTOMERS_SCHEMA,
)
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import bool_column, count_nulls, file_record, numpy_column
from synthpipe.validate.merge import Stats
from synthpipe.validate.reading import FileRead

HISTORY_COLUMNS = CUSTOMER_HISTORY_SCHEMA.names
FEED_COLUMNS = ["customer_id", "version", "change_ts", "operation", "changed_columns"]
# Changes as the report counts them: a move, an income revision, a loyalty join, a loyalty
# leave, a new e-mail address.
CHANGE_KINDS = ("move", "income", "loyalty_join", "loyalty_leave", "email")
MOVE, INCOME, JOIN, LEAVE, EMAIL = range(len(CHANGE_KINDS))
MOVE_COLUMNS = ("street_address", "postcode", "city", "state", "region", "home_store_id")
KEY_SPAN = 1 << 26  # (customer, day) keys: customer x KEY_SPAN + days since 1970
SNAPSHOT_COLUMNS = CUSTOMERS_SCHEMA.names


def _day_numbers(column: pa.ChunkedArray) -> np.ndarray:
    """Days since 1970 of a timestamp[us] column (nulls: 0)."""
    micros = np.asarray(column.fill_null(0).cast(pa.int64()), dtype=np.int64)
    return np.asarray(micros // MICROS_PER_DAY)


def _differs(table: pa.Table, name: str) -> np.ndarray:
    """For each row, whether ``name`` differs from the row before (False for row 0)."""
    values = pc.cast(table.column(name), pa.string()).fill_null("")
    if table.num_rows < 2:
        return np.zeros(table.num_rows, dtype=bool)
    changed = pc.not_equal(values.slice(1), values.slice(0, table.num_rows - 1))
    return np.concatenate([[False], np.asarray(changed.to_numpy(zero_copy_only=False), bool)])


def signup_attributes(customers: pa.Table, history: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's income and loyalty membership at signup (version 0 of the
    history), by row of the customers file; the snapshot's where the history has none."""
    income = numpy_column(customers, "income").copy()
    loyal = bool_column(customers, "is_loyalty_member").copy()
    ids = numpy_column(customers, "customer_id")
    first = np.flatnonzero(numpy_column(history, "version") == 0)
    wanted = numpy_column(history, "customer_id")[first]
    order = np.argsort(ids, kind="stable")
    position = np.minimum(np.searchsorted(ids[order], wanted), max(ids.shape[0] - 1, 0))
    found = ids[order][position] == wanted if ids.size else np.zeros(wanted.shape, bool)
    rows = order[position[found]]
    income[rows] = numpy_column(history, "income")[first[found]]
    loyal[rows] = bool_column(history, "is_loyalty_member")[first[found]]
    return income, loyal


def history_kinds(history: pa.Table, same_customer: np.ndarray) -> np.ndarray:
    """The kind of each history row's change (-1 for a signup version): a move when the
    address changed, else a loyalty join or leave, a new e-mail, else an income revision."""
    moved = np.zeros(history.num_rows, dtype=bool)
    for name in MOVE_COLUMNS:
        moved |= _differs(history, name)
    loyal = bool_column(history, "is_loyalty_member")
    toggled = _differs(history, "is_loyalty_member")
    email = _differs(history, "email")
    kind = np.where(email, EMAIL, INCOME)
    kind = np.where(toggled, np.where(loyal, JOIN, LEAVE), kind)
    kind = np.where(moved, MOVE, kind)
    return np.where(same_customer, kind, -1)


def history_stats(ctx: ValidationContext, customers: FileRead, history: FileRead) -> Stats:
    """Statistics of one block's customer history, next to its customers snapshot."""
    table = history.table
    stats: Stats = {st.FILES: [file_record(history, "customer_history", CUSTOMER_HISTORY_SCHEMA)]}
    count_nulls(stats, "customer_history", history, CUSTOMER_HISTORY_SCHEMA)
    n = table.num_rows
    stats[st.CUSTOMER_HISTORY_ROWS] = n
    ids = numpy_column(table, "customer_id")
    version = numpy_column(table, "version")
    starts = np.asarray(table.column("valid_from").fill_null(0).cast(pa.int64()), np.int64)
    ends = np.asarray(table.column("valid_to").fill_null(-1).cast(pa.int64()), np.int64)
    current = bool_column(table, "is_current")
    same = np.concatenate([[False], ids[1:] == ids[:-1]]) if n else np.zeros(0, bool)
    last = np.append(~same[1:], True) if n else np.zeros(0, bool)
    next_start = np.append(starts[1:], -1) if n else np.zeros(0, np.int64)
    expected_version = np.where(same, np.append(0, version[:-1] + 1) if n else version, 0)
    broken = (
        (version != expected_version)
        | (current != last)
        | np.where(last, ends != -1, ends != next_start)
        | (same & (starts < np.append(0, starts[:-1]) if n else False))
    )
    signup = customers.table.column("signup_date")
    signup_days = np.asarray(signup.fill_null(0).cast(pa.int32()), np.int64)
    customer_ids = numpy_column(customers.table, "customer_id")
    first_rows = np.flatnonzero(~same)
    matched = np.searchsorted(customer_ids, ids[first_rows])
    matched = np.minimum(matched, max(customer_ids.shape[0] - 1, 0))
    known = customer_ids[matched] == ids[first_rows] if customer_ids.size else matched < 0
    first_day = starts[first_rows] // MICROS_PER_DAY
    broken_first = ~known | (first_day != signup_days[matched] if customer_ids.size else True)
    stats[st.CUSTOMER_HISTORY_BROKEN] = (
        int(np.count_nonzero(broken))
        + int(np.count_nonzero(broken_first))
        + abs(int(first_rows.shape[0]) - int(customer_ids.shape[0]))
    )
    stats[st.CUSTOMER_HISTORY_NOT_SNAPSHOT] = _current_mismatches(customers.table, table, current)
    kinds = history_kinds(table, same)
    stats[st.CUSTOMER_CHANGES_OBSERVED] = np.bincount(
        kinds[kinds >= 0], minlength=len(CHANGE_KINDS)
    ).astype(np.float64)
    income = numpy_column(table, "income").astype(np.float64)
    revised = np.flatnonzero(kinds == INCOME)
    steps = np.log(np.maximum(income[revised], 1) / np.maximum(income[revised - 1], 1))
    stats[st.CUSTOMER_INCOME_STEPS] = np.asarray(
        [float(steps.shape[0]), float(np.sum(steps * steps))]
    )
    expected, variance = _expected_changes(ctx, table, starts, same, kinds)
    stats[st.CUSTOMER_CHANGES_EXPECTED] = expected
    stats[st.CUSTOMER_CHANGES_VARIANCE] = variance
    end_day = int((np.datetime64(ctx.spec.calendar.end, "D") - UNIX_EPOCH).astype(np.int64))
    stats[st.CUSTOMER_CHANGES_NEW_EXPECTED] = int(np.count_nonzero(signup_days <= end_day))
    return stats


def _current_mismatches(snapshot: pa.Table, history: pa.Table, current: np.ndarray) -> int:
    """Customers whose current version is not their row of the snapshot (every column)."""
    rows = history.filter(pa.array(current)).select(SNAPSHOT_COLUMNS)
    if rows.num_rows != snapshot.num_rows:
        return abs(rows.num_rows - snapshot.num_rows) or 1
    theirs = snapshot.select(SNAPSHOT_COLUMNS)
    if rows.equals(theirs):  # the usual case, at memory speed: no column to render
        return 0
    differ = np.zeros(rows.num_rows, dtype=bool)
    for name in SNAPSHOT_COLUMNS:
        left = pc.cast(rows.column(name), pa.string()).fill_null("\0")
        right = pc.cast(theirs.column(name), pa.string()).fill_null("\0")
        differ |= np.asarray(pc.not_equal(left, right).to_numpy(zero_copy_only=False), bool)
    return int(np.count_nonzero(differ))


def _expected_changes(
    ctx: ValidationContext,
    table: pa.Table,
    starts: np.ndarray,
    same: np.ndarray,
    kinds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected changes of each kind in the block, and their variance: per customer and
    month, P = 1 - exp(-r e / 365.25) for e days signed up in the (whole) month, times
    the share of those days up to calendar.end; the loyalty rate by the membership at the
    month's start (read from the history)."""
    rates = ctx.spec.customers.changes
    expected = np.zeros(len(CHANGE_KINDS))
    variance = np.zeros(len(CHANGE_KINDS))
    end = int((np.datetime64(ctx.spec.calendar.end, "D") - UNIX_EPOCH).astype(np.int64))
    loyal = bool_column(table, "is_loyalty_member")
    first_rows = np.flatnonzero(~same)
    signup_loyal = loyal[first_rows]
    customer_of_row = np.cumsum(~same) - 1  # history row -> customer index (file order)
    toggles = np.flatnonzero((kinds == JOIN) | (kinds == LEAVE))
    toggle_key = customer_of_row[toggles] * KEY_SPAN + starts[toggles] // MICROS_PER_DAY
    customers = np.arange(first_rows.shape[0])
    signup = starts[first_rows] // MICROS_PER_DAY  # version 0 begins on the signup day
    for first, last in calendar_months(ctx.spec):
        begin = int((np.datetime64(first, "D") - UNIX_EPOCH).astype(np.int64))
        stop = int((np.datetime64(last, "D") - UNIX_EPOCH).astype(np.int64))
        start = np.maximum(begin, signup + 1)
        exposure = np.maximum(stop - start + 1, 0).astype(np.float64)
        kept = np.clip(np.minimum(stop, end) - start + 1, 0, None) / np.maximum(exposure, 1.0)
        toggled_before = np.searchsorted(
            toggle_key, customers * (1 << 26) + begin
        ) - np.searchsorted(toggle_key, customers * (1 << 26))
        member = signup_loyal ^ (toggled_before % 2 == 1)
        per_kind = {
            MOVE: (rates.move_rate, np.ones_like(member)),
            INCOME: (rates.income_change_rate, np.ones_like(member)),
            JOIN: (rates.loyalty_join_rate, ~member),
            LEAVE: (rates.loyalty_leave_rate, member),
            EMAIL: (rates.email_change_rate, np.ones_like(member)),
        }
        for kind, (rate, at_risk) in per_kind.items():
            p = change_probability(rate, exposure) * kept * at_risk
            expected[kind] += float(p.sum())
            variance[kind] += float((p * (1.0 - p)).sum())
    return expected, variance


def feed_stats(ctx: ValidationContext, feed: FileRead, month: int) -> Stats:
    """Statistics of one block-month of the change feed."""
    table = feed.table
    stats: Stats = {st.FILES: [file_record(feed, "customer_changes", CUSTOMER_CHANGES_SCHEMA)]}
    count_nulls(stats, "customer_changes", feed, CUSTOMER_CHANGES_SCHEMA)
    stats[st.CUSTOMER_CHANGES_ROWS] = table.num_rows
    operation = pc.cast(table.column("operation"), pa.string()).fill_null("")
    changed = pc.cast(table.column("changed_columns"), pa.string()).fill_null("")
    is_update = np.asarray(pc.equal(operation, "update").to_numpy(zero_copy_only=False), bool)
    stats[st.CUSTOMER_CHANGES_NEW_ROWS] = int(
        np.count_nonzero(
            np.asarray(
                pc.is_in(operation, pa.array(["snapshot", "insert"])).to_numpy(
                    zero_copy_only=False
                ),
                bool,
            )
        )
    )

    def mentions(name: str) -> np.ndarray:
        found = pc.match_substring_regex(changed, rf"(^|,){name}(,|$)")
        return np.asarray(found.to_numpy(zero_copy_only=False), bool)

    kind = np.where(mentions("email"), EMAIL, INCOME)
    kind = np.where(mentions("is_loyalty_member"), JOIN, kind)  # joins and leaves: one count
    kind = np.where(mentions("street_address"), MOVE, kind)
    counts = np.bincount(kind[is_update], minlength=len(CHANGE_KINDS)).astype(np.float64)
    stats[st.CUSTOMER_CHANGES_FED] = counts
    days = _day_numbers(table.column("change_ts"))
    month_of_day = ctx.month_of_day
    index = days - int((ctx.dates[0] - UNIX_EPOCH).astype(np.int64))
    inside = (index >= 0) & (index < ctx.days)
    wrong = ~inside | (month_of_day[np.clip(index, 0, ctx.days - 1)] != month)
    stats[st.CUSTOMER_CHANGES_OUTSIDE_MONTH] = int(np.count_nonzero(wrong))
    return stats
