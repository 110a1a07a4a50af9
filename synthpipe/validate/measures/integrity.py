"""Integrity of a sales partition: counts of rows that break a rule of the schema, the
ids, the calendar, the partition, the keys between files, or the arithmetic of amounts
(each must be zero), with an example message per broken rule."""

from __future__ import annotations

import numpy as np

from synthpipe.clock import UNIX_EPOCH_ORDINAL
from synthpipe.model.customers import block_range
from synthpipe.model.ids import BLOCK_BITS, EPOCH_ORDINAL, SEQUENCE_BITS
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import duplicate_count
from synthpipe.validate.measures.frame import LineFrame, SalesFrame, TransactionFrame
from synthpipe.validate.measures.index import LineOwners
from synthpipe.validate.merge import Stats, issue
from synthpipe.vocabulary import ONLINE, REFUND

QUANTITY_CAP = 1_000  # no basket line has this many units
ID_DAY_SHIFT = BLOCK_BITS + SEQUENCE_BITS
EPOCH_DAYS_SINCE_UNIX = EPOCH_ORDINAL - UNIX_EPOCH_ORDINAL
# the keys a file in synthpipe's own order has no violation of by construction
IN_ORDER_KEYS = (
    st.LINE_ITEMS_KEY_DUPLICATES,
    st.LINE_ITEMS_TRANSACTION_FK_MISSING,
    st.TRANSACTIONS_ITEMS_MISMATCH,
    st.LINE_ITEMS_LINE_NUMBER_GAPS,
)


def count_problems(stats: Stats, key: st.StatKey, mask: np.ndarray, path: str, what: str) -> None:
    """Add the rows of ``mask`` to the count ``key``; record an example message if any."""
    count = int(np.count_nonzero(mask))
    stats[key] = stats.get(key, 0) + count
    if count:
        issue(stats, f"{path}: {count} {what}")


def integrity(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Integrity counts of the partition's transactions, then of its lines."""
    stats: Stats = {}
    _transactions(ctx, stats, frame)
    _owners(stats, frame)
    _lines(stats, frame.txn, frame.lines, frame.owners, frame.lines_path)
    return stats


def _transactions(ctx: ValidationContext, stats: Stats, frame: SalesFrame) -> None:
    txn, path = frame.txn, frame.transactions_path
    stats[st.TRANSACTIONS_ROWS] = txn.rows
    stats[st.TRANSACTIONS_UNKNOWN_LABELS] = txn.unknown_labels
    stats[st.TRANSACTIONS_ID_DUPLICATES] = duplicate_count(txn.id)
    id_day = (txn.id >> ID_DAY_SHIFT) + EPOCH_DAYS_SINCE_UNIX - ctx.start_day
    id_block = (txn.id >> SEQUENCE_BITS) & ((1 << BLOCK_BITS) - 1)
    count_problems(
        stats,
        st.TRANSACTIONS_ID_PARTITION_MISMATCH,
        (id_day != txn.day) | (id_block != frame.block),
        path,
        "transaction ids whose day/block bits disagree with their time and partition",
    )
    day = txn.day
    outside = (day < 0) | (day >= ctx.days)
    count_problems(
        stats, st.TRANSACTIONS_TS_OUTSIDE_CALENDAR, outside, path, "timestamps outside the calendar"
    )
    other_month = ctx.month_of_day[np.clip(day, 0, ctx.days - 1)] != frame.month
    count_problems(
        stats,
        st.TRANSACTIONS_TS_OUTSIDE_PARTITION,
        other_month & ~outside,
        path,
        "timestamps outside the partition's month",
    )
    _channel_columns(stats, txn, path)
    _customers(ctx, stats, frame)
    has_store = ~txn.store_null
    count_problems(
        stats,
        st.TRANSACTIONS_STORE_FK_MISSING,
        has_store & ~txn.store_resolvable,
        path,
        "store_id values that resolve to no store",
    )
    count_problems(
        stats,
        st.TRANSACTIONS_BEFORE_STORE_OPEN,
        has_store & (txn.unix_day < txn.store_open),
        path,
        "in-store transactions before the store opened",
    )
    refund = txn.kind == REFUND
    count_problems(
        stats,
        st.TRANSACTIONS_AMOUNT_SIGN,
        np.where(refund, txn.amount > 0, txn.amount < 0),
        path,
        "amounts whose sign disagrees with the type",
    )


def _channel_columns(stats: Stats, txn: TransactionFrame, path: str) -> None:
    """The columns a channel (or a fraud label) makes null or not."""
    online = txn.channel == ONLINE
    count_problems(
        stats,
        st.TRANSACTIONS_STORE_NULL_MISMATCH,
        txn.store_null != online,
        path,
        "rows where store_id is null but the channel is not online, or the reverse",
    )
    count_problems(
        stats,
        st.TRANSACTIONS_SHIP_NULL_MISMATCH,
        txn.ship_null != ~online,
        path,
        "rows where ship_region is null but the channel is not in_store, or the reverse",
    )
    count_problems(
        stats,
        st.TRANSACTIONS_FRAUD_LABEL_MISMATCH,
        (txn.fraud >= 0) != txn.is_fraud,
        path,
        "rows where fraud_type and is_fraud disagree",
    )


def _customers(ctx: ValidationContext, stats: Stats, frame: SalesFrame) -> None:
    """Each transaction's customer: known, of the partition's block, signed up by then."""
    txn, path = frame.txn, frame.transactions_path
    customer = txn.customer
    count_problems(
        stats,
        st.TRANSACTIONS_CUSTOMER_FK_MISSING,
        (customer < 1) | (customer > ctx.spec.customers.count),
        path,
        "customer_id values that resolve to no customer",
    )
    first, size = block_range(ctx.spec, frame.block)
    count_problems(
        stats,
        st.TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK,
        (customer < first) | (customer >= first + size),
        path,
        "customers outside the partition's block",
    )
    count_problems(
        stats,
        st.TRANSACTIONS_BEFORE_SIGNUP,
        txn.customer_found & (txn.unix_day < frame.people.signup[txn.customer_row]),
        path,
        "transactions before the customer's signup date",
    )


def _owners(stats: Stats, frame: SalesFrame) -> None:
    """The keys between lines and transactions: nothing to count when the lines follow
    their transactions in order, numbered 1..items (as synthpipe writes them)."""
    owners = frame.owners
    if owners.starts is not None:
        for key in IN_ORDER_KEYS:
            stats[key] = stats.get(key, 0)
        return
    txn, line, path = frame.txn, frame.lines, frame.lines_path
    found, owner, counts = owners.found, owners.owner, owners.items
    # (transaction_id, line_number) is unique iff each line, placed at its transaction's
    # start + line_number - 1, lands on its own slot: one bincount, no sort.
    slots = line_slots(owner[found], line.number[found], txn.items)
    stats[st.LINE_ITEMS_KEY_DUPLICATES] = stats.get(st.LINE_ITEMS_KEY_DUPLICATES, 0) + int(
        np.count_nonzero(slots > 1)
    )
    count_problems(
        stats,
        st.LINE_ITEMS_TRANSACTION_FK_MISSING,
        ~found,
        path,
        "lines whose transaction_id is not in the partition",
    )
    count_problems(
        stats,
        st.TRANSACTIONS_ITEMS_MISMATCH,
        counts != txn.items,
        path,
        "transactions whose items != number of lines",
    )
    top = np.zeros(txn.rows, dtype=np.int64)
    np.maximum.at(top, owner[found], line.number[found])
    count_problems(
        stats,
        st.LINE_ITEMS_LINE_NUMBER_GAPS,
        (top != counts) & (counts > 0),
        path,
        "transactions whose line numbers are not 1..items",
    )


def line_slots(owner: np.ndarray, number: np.ndarray, items: np.ndarray) -> np.ndarray:
    """How many lines claim each (transaction, line number) slot; numbers outside
    1..items share one overflow slot per transaction."""
    capacity = np.maximum(items, 0) + 1  # one extra slot for out-of-range numbers
    start = np.concatenate([[0], np.cumsum(capacity)])[:-1]
    inside = (number >= 1) & (number <= items[owner])
    slot = start[owner] + np.where(inside, number - 1, capacity[owner] - 1)
    claims = np.bincount(slot, minlength=int(capacity.sum()))
    overflow = start + capacity - 1
    claims[overflow] = np.where(claims[overflow] > 0, 2, 0)  # any out-of-range line counts
    return claims


def _lines(
    stats: Stats, txn: TransactionFrame, line: LineFrame, owners: LineOwners, path: str
) -> None:
    stats[st.LINE_ITEMS_ROWS] = line.rows
    count_problems(
        stats,
        st.TRANSACTIONS_AMOUNT_MISMATCH,
        owners.totals(line.net) != txn.amount,
        path,
        "transactions whose amount is not the sum of their lines' net amounts",
    )
    count_problems(
        stats,
        st.LINE_ITEMS_NET_MISMATCH,
        line.net != line.gross - line.discount,
        path,
        "lines whose net_amount != quantity x unit_price - discount",
    )
    resolvable = line.product_resolvable
    count_problems(
        stats,
        st.LINE_ITEMS_PRODUCT_FK_MISSING,
        ~resolvable,
        path,
        "product_id values that resolve to no product",
    )
    count_problems(
        stats,
        st.LINE_ITEMS_PRICE_MISMATCH,
        resolvable & (line.price != line.list_price),
        path,
        "lines whose unit_price is not the product's list price",
    )
    quantity = line.quantity
    refund = owners.spread(txn.kind == REFUND, False)
    wrong_sign = np.where(refund, quantity >= 0, quantity <= 0)
    count_problems(
        stats,
        st.LINE_ITEMS_QUANTITY_OUT_OF_RANGE,
        wrong_sign | (np.abs(quantity) > QUANTITY_CAP),
        path,
        "quantities that are zero, too large, or of the wrong sign for the transaction type",
    )
    discount = line.discount
    count_problems(
        stats,
        st.LINE_ITEMS_DISCOUNT_OUT_OF_RANGE,
        (discount < 0) | (discount > np.abs(line.gross)),
        path,
        "discounts below zero or above the line's gross amount",
    )
