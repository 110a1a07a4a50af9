"""Transactions and line items of one block-month, as Arrow tables sorted by time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synthpipe.clock import MICROS_PER_DAY, UNIX_EPOCH_ORDINAL
from synthpipe.data.geography import load_geography
from synthpipe.model.blockmonth import (
    NO_REGION,
    NO_STORE,
    NOT_FRAUD,
    BlockMonth,
    TransactionSet,
    block_month,
    concat_sets,
    payment_methods,
)
from synthpipe.model.fraud import fraud_transactions
from synthpipe.model.identity import NO_ENTITY
from synthpipe.model.ids import EPOCH_ORDINAL, transaction_ids
from synthpipe.model.labels import report_labels
from synthpipe.model.money import PRICE_PRECISION, cents_to_decimal
from synthpipe.model.replenishment import replenishment_orders
from synthpipe.model.sales import channel_sales, refunds
from synthpipe.model.sampling import group_offsets, rank_within_groups
from synthpipe.model.schema import LINE_ITEMS_SCHEMA, TRANSACTIONS_SCHEMA, dictionary_array
from synthpipe.model.sessions import SessionRows, session_keys
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, TRANSACTION_TYPES


@dataclass(frozen=True)
class SalesTables:
    """The output of one block-month: its two tables and what it realised."""

    transactions: pa.Table
    line_items: pa.Table
    legitimate: int  # legitimate transactions (sales and refunds)
    fraud: dict[str, int]  # realised fraud transactions per type


def legitimate_sets(ctx: BlockMonth) -> list[TransactionSet]:
    """Sales of each channel and their same-day repeats, refunds of each channel, then
    the staples' reorders of each channel."""
    channels = range(len(CHANNELS))
    sales = [part for c in channels for part in channel_sales(ctx, c)]
    return sales + [refunds(ctx, c) for c in channels] + replenishment_orders(ctx)


def _timestamps(ctx: BlockMonth, day: np.ndarray, micros: np.ndarray) -> np.ndarray:
    first = ctx.first_day.toordinal() - UNIX_EPOCH_ORDINAL
    return np.asarray((first + day) * np.int64(MICROS_PER_DAY) + micros)


def _ids(ctx: BlockMonth, parts: list[TransactionSet]) -> np.ndarray:
    """Transaction ids; each part is numbered within its own sub-range per day."""
    first = ctx.first_day.toordinal() - EPOCH_ORDINAL
    ids = [
        transaction_ids(
            first + p.day, ctx.block, int(p.subrange[0]), p.sequence(ctx.days), ctx.spec.seed
        )
        for p in parts
        if p.size
    ]
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)


def _nullable_dictionary(
    values: np.ndarray, missing: int, labels: list[str] | tuple[str, ...]
) -> pa.Array:
    null = values == missing
    return dictionary_array(np.where(null, 0, values), labels, null_mask=null)


def _nullable_key(values: np.ndarray) -> pa.Array:
    """An identity key column: null where the transaction has none."""
    return pa.array(values, pa.int64(), mask=values == NO_ENTITY)


def build_tables(ctx: BlockMonth, parts: list[TransactionSet]) -> tuple[pa.Table, pa.Table]:
    """Sort all transactions by (time, id) and build both tables."""
    parts = [p for p in parts if p.size]
    ids = _ids(ctx, parts)
    txn = concat_sets(parts) if parts else None
    if txn is None:
        return TRANSACTIONS_SCHEMA.empty_table(), LINE_ITEMS_SCHEMA.empty_table()
    ts = _timestamps(ctx, txn.day, txn.micros)
    order = np.argsort(ts, kind="stable")  # ties keep the (deterministic) generation order
    reported, delay = report_labels(ctx, parts)
    lines = txn.lines
    net = lines.net()
    items = np.bincount(lines.transaction, minlength=txn.size)
    amount = (
        np.bincount(lines.transaction, weights=net, minlength=txn.size).round().astype(np.int64)
    )
    # A transaction's lines are contiguous and in transaction order, so the lines in the
    # sorted order are the same ranges taken in that order: no sort needed.
    sorted_items = items[order]
    starts = group_offsets(items)[:-1][order] - group_offsets(sorted_items)[:-1]
    line_order = np.repeat(starts, sorted_items) + np.arange(lines.size, dtype=np.int64)
    owner = np.repeat(np.arange(txn.size, dtype=np.int64), sorted_items)
    line_number = rank_within_groups(sorted_items) + 1
    geography = load_geography(ctx.spec.calendar.country)
    store_ids = ctx.stores.ids()
    store = txn.store[order]
    keys = session_keys(
        ctx,
        SessionRows(
            customer=txn.customer[order],
            day=txn.day[order],
            channel=txn.channel[order],
            kind=txn.kind[order],
            payment=txn.payment[order],
            ship_region=txn.ship_region[order],
            ring=txn.ring[order],
            ring_card=txn.ring_card[order],
            fraud=txn.fraud[order],
        ),
    )
    transactions = pa.Table.from_pydict(
        {
            "transaction_id": pa.array(ids[order], pa.int64()),
            "ts": pa.array(ts[order], pa.timestamp("us")),
            "customer_id": pa.array(ctx.customers.ids[txn.customer[order]], pa.int64()),
            "store_id": pa.array(
                store_ids[np.maximum(store, 0)], pa.int32(), mask=store == NO_STORE
            ),
            "channel": dictionary_array(txn.channel[order], CHANNELS),
            "transaction_type": dictionary_array(txn.kind[order], TRANSACTION_TYPES),
            "payment_method": dictionary_array(txn.payment[order], payment_methods(ctx.spec)),
            "items": pa.array(items[order], pa.int16()),
            "amount": cents_to_decimal(amount[order]),
            "ship_region": _nullable_dictionary(
                txn.ship_region[order], NO_REGION, geography.regions
            ),
            "is_fraud": pa.array(txn.fraud[order] != NOT_FRAUD, pa.bool_()),
            "fraud_type": _nullable_dictionary(txn.fraud[order], NOT_FRAUD, FRAUD_TYPES),
            "fraud_reported": pa.array(reported[order], pa.bool_()),
            "fraud_reported_at": pa.array(
                (ts + delay)[order], pa.timestamp("us"), mask=~reported[order]
            ),
            "device_id": _nullable_key(keys.device),
            "ip_id": _nullable_key(keys.network),
            "card_id": _nullable_key(keys.card),
            "ship_address_id": _nullable_key(keys.address),
        },
        schema=TRANSACTIONS_SCHEMA,
    )
    line_items = pa.Table.from_pydict(
        {
            "transaction_id": pa.array(ids[order][owner], pa.int64()),
            "line_number": pa.array(line_number, pa.int16()),
            "product_id": pa.array(ctx.products.ids()[lines.product[line_order]], pa.int32()),
            "quantity": pa.array(lines.quantity[line_order], pa.int16()),
            "unit_price": cents_to_decimal(lines.price[line_order], PRICE_PRECISION),
            "discount": cents_to_decimal(lines.discount[line_order]),
            "net_amount": cents_to_decimal(net[line_order]),
        },
        schema=LINE_ITEMS_SCHEMA,
    )
    return transactions, line_items


def generate_sales(spec: Spec, block: int, first_day: dt.date, last_day: dt.date) -> SalesTables:
    """Transactions and line items of customer ``block`` from ``first_day`` to ``last_day``
    (inclusive, within one month)."""
    ctx = block_month(spec, block, first_day, last_day)
    legit = legitimate_sets(ctx)
    legit_per_day = sum(
        (np.bincount(p.day, minlength=ctx.days) for p in legit), np.zeros(ctx.days, dtype=np.int64)
    )
    fraud, realised = fraud_transactions(ctx, legit_per_day)
    transactions, line_items = build_tables(ctx, legit + fraud)
    return SalesTables(transactions, line_items, int(legit_per_day.sum()), realised)
