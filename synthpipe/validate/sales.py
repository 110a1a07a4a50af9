"""Statistics of one sales partition: its transactions and line items files, read with the
customers of the same block (for signup dates, demographics and home regions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synthpipe.clock import (
    HOURS_PER_DAY,
    MICROS_PER_DAY,
    MICROS_PER_HOUR,
    MICROS_PER_MINUTE,
    NIGHT_END_HOUR,
    UNIX_EPOCH,
    UNIX_EPOCH_ORDINAL,
)
from synthpipe.fraud import TYPOLOGIES
from synthpipe.fraud.base import LEGIT_GROUPS, Feature
from synthpipe.model.baskets import audience_group
from synthpipe.model.customers import block_range
from synthpipe.model.ids import (
    BLOCK_BITS,
    EPOCH_ORDINAL,
    LEGIT_SUBRANGE,
    SEQUENCE_BITS,
    id_subrange,
)
from synthpipe.model.kernels import version_positions
from synthpipe.model.sales import MAX_REPEAT_GAP_MINUTES
from synthpipe.model.schema import LINE_ITEMS_SCHEMA, TRANSACTIONS_SCHEMA
from synthpipe.validate import statistics as st
from synthpipe.validate.binning import LogBins
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import (
    PRICE_BINS,
    Catalogue,
    bool_column,
    count_nulls,
    duplicate_count,
    file_record,
    numpy_column,
)
from synthpipe.validate.merge import Stats, issue
from synthpipe.validate.reading import FileRead, column_codes
from synthpipe.vocabulary import (
    CHANNELS,
    FRAUD_TYPES,
    GENDERS,
    IN_STORE,
    ONLINE,
    REFUND,
    SALE,
    TRANSACTION_TYPES,
)

TRANSACTION_COLUMNS = TRANSACTIONS_SCHEMA.names
LINE_COLUMNS = LINE_ITEMS_SCHEMA.names
CUSTOMER_COLUMNS = [
    "customer_id",
    "age",
    "gender",
    "segment",
    "region",
    "signup_date",
    "home_store_id",
    "income",
    "is_loyalty_member",
]
# the block's customer history: where each customer lived when (customers.changes), and
# the income and membership they signed up with (what their purchase rate was set by)
HISTORY_COLUMNS = [
    "customer_id",
    "version",
    "valid_from",
    "region",
    "home_store_id",
    "income",
    "is_loyalty_member",
]
HOME_KEY_SPAN = 1 << 26  # (customer row, day) keys: row x HOME_KEY_SPAN + days since 1970
# Log10 of a report's delay in days, fixed bins (1 minute to 10 years).
LOG_DELAY_EDGES = np.linspace(-3.2, 3.6, 137)
# Log10 of a line's net amount in cents, fixed bins: histograms for the report.
LOG_AMOUNT_EDGES = np.linspace(0.0, 7.0, 141)
AMOUNT_BINS = LogBins(LOG_AMOUNT_EDGES)
BURST_WINDOW_MICROS = 10 * 60_000_000  # card-testing charges within 10 minutes of another
DAY_KEY_SPAN = 1 << 20  # days in an (account, day) key: more than any calendar
SMALL_CHARGE_CENTS = 1_000  # "tiny" charge: under 10.00
QUANTITY_CAP = 1_000  # no basket line has this many units
QUANTITY_TABLE = 64  # quantities 0..63 are counted in a table, others one by one
ID_DAY_SHIFT = BLOCK_BITS + SEQUENCE_BITS
EPOCH_DAYS_SINCE_UNIX = EPOCH_ORDINAL - UNIX_EPOCH_ORDINAL


SIGNATURE_GROUPS = LEGIT_GROUPS + tuple(FRAUD_TYPES)
TENURE_YEARS = 6  # sales by tenure: 0, 1, ... 4 whole years since signup, and 5 or more
DAYS_PER_TENURE_YEAR = 365
REPEAT_SUBRANGE = np.asarray([LEGIT_SUBRANGE[f"repeat_{c}"] for c in CHANNELS])
REPLENISH_SUBRANGE = np.asarray([LEGIT_SUBRANGE[f"replenish_{c}"] for c in CHANNELS])


def feature_groups(feature: Feature) -> frozenset[str]:
    """The groups a feature that is costly to measure is measured for: the typologies whose
    signatures read it, and the legitimate groups they are compared with."""
    return frozenset(
        group
        for name, typology in TYPOLOGIES.items()
        for signature in typology.share_signatures
        if signature.feature == feature
        for group in (name, signature.baseline)
    )


BURST_GROUPS = feature_groups("burst")  # groups whose burst share is reported
REPEAT_GROUPS = feature_groups("same_day_repeat")  # groups whose same-day repeats are counted


_CUSTOMERS: list[tuple[ValidationContext, FileRead, FileRead, Customers]] = []


def block_customers(ctx: ValidationContext, read: FileRead, history: FileRead) -> Customers:
    """The block's customers, built once per read of its files (the reader caches reads
    by path and manifest checksum) in this process."""
    cached = _CUSTOMERS[0] if _CUSTOMERS else None
    if cached is None or cached[0] is not ctx or cached[1] is not read or cached[2] is not history:
        # one block at a time is enough: units come block by block
        _CUSTOMERS[:] = [(ctx, read, history, Customers(ctx, read, history))]
    return _CUSTOMERS[0][3]


class Customers:
    """The block's customers, indexable by customer id; where each lived on each day, from
    the block's customer history."""

    def __init__(self, ctx: ValidationContext, read: FileRead, history: FileRead) -> None:
        table = read.table
        self.ids = numpy_column(table, "customer_id")
        n = self.ids.shape[0]
        self.contiguous = bool(
            n and self.ids[-1] - self.ids[0] == n - 1 and np.all(np.diff(self.ids) == 1)
        )
        self.age = numpy_column(table, "age")
        self.band = ctx.band(self.age)
        self.gender, _ = column_codes(table, "gender", GENDERS)
        self.group = audience_group(self.band, np.maximum(self.gender, 0))
        self.segment, _ = column_codes(table, "segment", ctx.segments)
        self.region, _ = column_codes(table, "region", ctx.regions)
        self.signup = numpy_column(table, "signup_date")
        self.home_store = numpy_column(table, "home_store_id")
        self._order: np.ndarray | None = None  # argsort of ids, for files not in id order
        loyal = bool_column(table, "is_loyalty_member")
        income = numpy_column(table, "income")
        versions = history.table
        row, found = self.rows(numpy_column(versions, "customer_id"))
        row = np.where(found, row, -1)
        starts = np.asarray(
            versions.column("valid_from").fill_null(0).cast(pa.int64()), dtype=np.int64
        )
        key = row * HOME_KEY_SPAN + starts // MICROS_PER_DAY
        order = np.argsort(key, kind="stable")
        self._home_key = key[order]
        # where each customer row's versions begin in the sorted keys (rows 0..n; row -1,
        # a version of a customer not in the block, sorts before them all)
        self._home_first = np.searchsorted(
            self._home_key, np.arange(n + 1, dtype=np.int64) * HOME_KEY_SPAN
        ).astype(np.int64)
        self._home_region = column_codes(versions, "region", ctx.regions)[0][order]
        self._home_store_id = numpy_column(versions, "home_store_id")[order]
        # the purchase rate was set at signup: by the income and membership of version 0
        signup = found & (numpy_column(versions, "version") == 0)
        income = income.copy()
        loyal = loyal.copy()
        income[row[signup]] = numpy_column(versions, "income")[signup]
        loyal[row[signup]] = bool_column(versions, "is_loyalty_member")[signup]
        self.intensity_class = ctx.intensity_class(self.segment, loyal, income)
        self._home_store_region: tuple[Catalogue, np.ndarray] | None = None

    def rows(self, customer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of each customer id in the block file, and whether it was found."""
        n = self.ids.shape[0]
        if self.contiguous:
            offset = customer_ids - self.ids[0]
            found = (offset >= 0) & (offset < n)
            return np.where(found, offset, 0), found
        if n == 0:
            return np.zeros(customer_ids.shape, np.int64), np.zeros(customer_ids.shape, bool)
        if self._order is None:  # sorted once per block, not once per month
            self._order = np.argsort(self.ids, kind="stable")
        sorted_ids = self.ids[self._order]
        position = np.minimum(np.searchsorted(sorted_ids, customer_ids), n - 1)
        return self._order[position], sorted_ids[position] == customer_ids

    def home_on(self, rows: np.ndarray, unix_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The home region code and home store id of each customer row on each day (the
        version of the history in force that day; the snapshot's where none is)."""
        if not self._home_key.size:
            return self.region.take(rows), self.home_store.take(rows)
        row = np.ascontiguousarray(rows, dtype=np.int64)
        wanted = np.ascontiguousarray(row * HOME_KEY_SPAN + unix_day, dtype=np.int64)
        position = version_positions(self._home_key, self._home_first, row, wanted)
        safe = np.maximum(position, 0)
        same = position >= 0
        region = np.where(same, self._home_region[safe], self.region.take(rows))
        store = np.where(same, self._home_store_id[safe], self.home_store.take(rows))
        return region, store

    def home_store_region(self, catalogue: Catalogue) -> np.ndarray:
        """Region code of each customer's home store (-1 when it resolves to no store)."""
        if self._home_store_region is None or self._home_store_region[0] is not catalogue:
            stores = IdIndex.of(self.home_store, catalogue.stores)
            self._home_store_region = (catalogue, stores.take(catalogue.store_region, -1))
        return self._home_store_region[1]


@dataclass(frozen=True)
class IdIndex:
    """Where ids sit in a dense by-id table (``table[id - 1]``), for several tables."""

    position: np.ndarray  # id - 1, clipped into the table
    resolvable: np.ndarray  # 1 <= id <= table size
    complete: bool  # every id resolves

    @classmethod
    def of(cls, ids: np.ndarray, size: int) -> IdIndex:
        """The index of ``ids`` into tables of ``size`` rows."""
        resolvable = (ids >= 1) & (ids <= size)
        complete = bool(resolvable.all())
        position = ids - 1 if complete else np.clip(ids, 1, max(size, 1)) - 1
        return cls(np.asarray(position), resolvable, complete)

    def take(self, table: np.ndarray, fill: int) -> np.ndarray:
        """``table[id - 1]`` where the id resolves, ``fill`` elsewhere."""
        if table.shape[0] == 0:
            return np.full(self.position.shape, fill, dtype=table.dtype)
        values = table[self.position]
        return values if self.complete else np.where(self.resolvable, values, fill)


@dataclass(frozen=True)
class LineOwners:
    """Which transaction row each line belongs to."""

    items: np.ndarray  # lines found per transaction row
    found: np.ndarray  # per line: its transaction is in the partition
    owner: np.ndarray  # per line: its transaction's row (0 where not found)
    starts: np.ndarray | None  # first line of each transaction when lines follow in order

    def spread(self, per_transaction: np.ndarray, fill: int) -> np.ndarray:
        """A per-transaction value on each line (``fill`` where the line has none)."""
        if self.starts is not None:
            return np.repeat(per_transaction, self.items)
        return np.where(self.found, per_transaction[self.owner], fill)

    def totals(self, per_line: np.ndarray) -> np.ndarray:
        """Exact integer sum over each transaction's lines."""
        if self.starts is not None:
            # running total at each transaction's last line, differenced (exact in int64,
            # even past an overflow, since the differences wrap back)
            running = np.cumsum(per_line)
            return np.diff(running[self.starts + self.items - 1], prepend=0)
        totals = np.zeros(self.items.shape[0], dtype=np.int64)
        np.add.at(totals, self.owner[self.found], per_line[self.found])
        return totals


def sales_stats(
    ctx: ValidationContext,
    transactions: FileRead,
    lines: FileRead,
    customers: FileRead,
    history: FileRead,
    catalogue: Catalogue,
    block: int,
    month: int,
) -> Stats:
    """Statistics of one sales partition (transactions + line items of a block-month)."""
    stats: Stats = {
        st.FILES: [
            file_record(transactions, "transactions", TRANSACTIONS_SCHEMA),
            file_record(lines, "line_items", LINE_ITEMS_SCHEMA),
        ]
    }
    count_nulls(stats, "transactions", transactions, TRANSACTIONS_SCHEMA)
    count_nulls(stats, "line_items", lines, LINE_ITEMS_SCHEMA)
    txn = _transaction_columns(ctx, transactions.table)
    txn["subrange"] = id_subrange(txn["id"], ctx.spec.seed)
    # a staple's reorder is judged by its own checks; the other legitimate checks count
    # the ordinary processes
    txn["replenish"] = np.isin(txn["subrange"], REPLENISH_SUBRANGE)
    txn["ordinary"] = ~txn["is_fraud"] & ~txn["replenish"]
    people = block_customers(ctx, customers, history)
    txn["customer_row"], txn["customer_found"] = people.rows(txn["customer"])
    txn["home_region"], txn["home_store"] = people.home_on(txn["customer_row"], txn["unix_day"])
    stores = IdIndex.of(txn["store"], catalogue.stores)
    txn["store_region"] = stores.take(catalogue.store_region, -1)
    txn["store_resolvable"] = stores.resolvable
    txn["store_open"] = stores.take(catalogue.store_open, np.iinfo(np.int64).min)
    _transaction_integrity(ctx, stats, txn, people, catalogue, block, month, transactions.path)
    line = _line_columns(lines.table, catalogue)
    owners = _line_integrity(stats, txn, line, lines.path)
    _profiles(ctx, stats, txn)
    _habits(ctx, stats, txn)
    _tenure(stats, txn, people)
    _store_choice(ctx, stats, txn, people, catalogue, month)
    line["follows"] = _follows(line)  # once: the complements' two passes read it
    line["partner"] = _partner_lines(ctx, line)
    _baskets(ctx, stats, txn, line, owners, people, catalogue)
    _replenishment(ctx, stats, txn, line, owners)
    _signatures(stats, txn, people)
    _labels(stats, txn, transactions.path)
    return stats


def _labels(stats: Stats, txn: dict[str, np.ndarray], path: str) -> None:
    """The observed labels: reports per fraud type and of legitimate sales (friendly
    fraud), a histogram of report delays per group, and the columns' consistency."""
    reported = txn["reported"]
    fraud = txn["fraud"]
    types = len(FRAUD_TYPES)
    is_fraud = fraud >= 0
    stats[st.LABELS_FRAUD_REPORTED] = np.bincount(fraud[is_fraud & reported], minlength=types)
    stats[st.LABELS_FRAUD_ROWS] = np.bincount(fraud[is_fraud], minlength=types)
    legit_sale = ~txn["is_fraud"] & (txn["kind"] == SALE)
    stats[st.LABELS_FRIENDLY_REPORTED] = int(np.count_nonzero(legit_sale & reported))
    stats[st.LABELS_LEGIT_SALES] = int(np.count_nonzero(legit_sale))
    delay_days = np.where(reported, txn["reported_at"] - txn["ts"], 1) / MICROS_PER_DAY
    group = np.where(is_fraud, fraud, np.where(legit_sale, types, -1))  # friendly: last row
    counted = reported & (group >= 0) & (delay_days > 0)
    size = LOG_DELAY_EDGES.shape[0] + 1
    cell = np.searchsorted(LOG_DELAY_EDGES, np.log10(delay_days[counted]), side="right")
    stats[st.LABELS_DELAY_HIST] = np.bincount(
        group[counted] * size + cell, minlength=(types + 1) * size
    ).reshape(types + 1, size)
    _count(
        stats,
        st.LABELS_INCONSISTENT,
        (reported == txn["reported_null"])
        | (reported & (txn["reported_at"] < txn["ts"]))
        | (reported & (txn["kind"] != SALE) & ~is_fraud),
        path,
        "observed labels without their time, reported before the transaction, or on a"
        " legitimate refund",
    )


def _transaction_columns(ctx: ValidationContext, table: pa.Table) -> dict[str, np.ndarray]:
    ts = numpy_column(table, "ts")
    unix_day = ts // MICROS_PER_DAY  # a floor division and a product: np.divmod is slower
    within_day = ts - unix_day * MICROS_PER_DAY
    channel, unknown_channel = column_codes(table, "channel", CHANNELS)
    kind, unknown_kind = column_codes(table, "transaction_type", TRANSACTION_TYPES)
    payment, unknown_payment = column_codes(table, "payment_method", ctx.payments)
    ship, unknown_ship = column_codes(table, "ship_region", ctx.regions)
    fraud, unknown_fraud = column_codes(table, "fraud_type", FRAUD_TYPES)
    return {
        "id": numpy_column(table, "transaction_id"),
        "ts": ts,
        "unix_day": unix_day,
        "day": unix_day - ctx.start_day,
        "hour": within_day // MICROS_PER_HOUR,
        "customer": numpy_column(table, "customer_id"),
        "store": numpy_column(table, "store_id"),
        "store_null": np.asarray(table.column("store_id").is_null(), dtype=bool),
        "channel": channel,
        "kind": kind,
        "payment": payment,
        "ship": ship,
        "ship_null": np.asarray(table.column("ship_region").is_null(), dtype=bool),
        "fraud": fraud,
        "is_fraud": bool_column(table, "is_fraud"),
        "reported": bool_column(table, "fraud_reported"),
        "reported_null": np.asarray(table.column("fraud_reported_at").is_null(), dtype=bool),
        "reported_at": numpy_column(table, "fraud_reported_at"),
        "items": numpy_column(table, "items"),
        "amount": numpy_column(table, "amount"),
        "unknown_labels": np.asarray(
            [unknown_channel + unknown_kind + unknown_payment + unknown_ship + unknown_fraud]
        ),
    }


def _line_columns(table: pa.Table, catalogue: Catalogue) -> dict[str, np.ndarray]:
    product = numpy_column(table, "product_id")
    products = IdIndex.of(product, catalogue.products)
    category = products.take(catalogue.product_category, -1)
    list_price = products.take(catalogue.product_price, 0)
    quantity = numpy_column(table, "quantity")
    price = numpy_column(table, "unit_price")
    return {
        "id": numpy_column(table, "transaction_id"),
        "number": numpy_column(table, "line_number"),
        "product": product,
        "product_resolvable": products.resolvable,
        "category": category,
        "list_price": list_price,
        "quantity": quantity,
        "price": price,
        "gross": quantity * price,
        "discount": numpy_column(table, "discount"),
        "net": numpy_column(table, "net_amount"),
    }


def _count(stats: Stats, key: st.StatKey, mask: np.ndarray, path: str, what: str) -> None:
    count = int(np.count_nonzero(mask))
    stats[key] = stats.get(key, 0) + count
    if count:
        issue(stats, f"{path}: {count} {what}")


def _transaction_integrity(
    ctx: ValidationContext,
    stats: Stats,
    txn: dict[str, np.ndarray],
    people: Customers,
    catalogue: Catalogue,
    block: int,
    month: int,
    path: str,
) -> None:
    spec = ctx.spec
    stats[st.TRANSACTIONS_ROWS] = int(txn["id"].shape[0])
    stats[st.TRANSACTIONS_UNKNOWN_LABELS] = int(txn["unknown_labels"][0])
    stats[st.TRANSACTIONS_ID_DUPLICATES] = duplicate_count(txn["id"])
    id_day = (txn["id"] >> ID_DAY_SHIFT) + EPOCH_DAYS_SINCE_UNIX - ctx.start_day
    id_block = (txn["id"] >> SEQUENCE_BITS) & ((1 << BLOCK_BITS) - 1)
    _count(
        stats,
        st.TRANSACTIONS_ID_PARTITION_MISMATCH,
        (id_day != txn["day"]) | (id_block != block),
        path,
        "transaction ids whose day/block bits disagree with their time and partition",
    )
    day = txn["day"]
    outside = (day < 0) | (day >= ctx.days)
    _count(
        stats, st.TRANSACTIONS_TS_OUTSIDE_CALENDAR, outside, path, "timestamps outside the calendar"
    )
    other_month = ctx.month_of_day[np.clip(day, 0, ctx.days - 1)] != month
    _count(
        stats,
        st.TRANSACTIONS_TS_OUTSIDE_PARTITION,
        other_month & ~outside,
        path,
        "timestamps outside the partition's month",
    )
    online = txn["channel"] == ONLINE
    _count(
        stats,
        st.TRANSACTIONS_STORE_NULL_MISMATCH,
        txn["store_null"] != online,
        path,
        "rows where store_id is null but the channel is not online, or the reverse",
    )
    _count(
        stats,
        st.TRANSACTIONS_SHIP_NULL_MISMATCH,
        txn["ship_null"] != ~online,
        path,
        "rows where ship_region is null but the channel is not in_store, or the reverse",
    )
    _count(
        stats,
        st.TRANSACTIONS_FRAUD_LABEL_MISMATCH,
        (txn["fraud"] >= 0) != txn["is_fraud"],
        path,
        "rows where fraud_type and is_fraud disagree",
    )
    customer = txn["customer"]
    _count(
        stats,
        st.TRANSACTIONS_CUSTOMER_FK_MISSING,
        (customer < 1) | (customer > spec.customers.count),
        path,
        "customer_id values that resolve to no customer",
    )
    first, size = block_range(spec, block)
    _count(
        stats,
        st.TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK,
        (customer < first) | (customer >= first + size),
        path,
        "customers outside the partition's block",
    )
    _count(
        stats,
        st.TRANSACTIONS_BEFORE_SIGNUP,
        txn["customer_found"] & (txn["unix_day"] < people.signup[txn["customer_row"]]),
        path,
        "transactions before the customer's signup date",
    )
    opened = txn["store_open"]
    has_store = ~txn["store_null"]
    _count(
        stats,
        st.TRANSACTIONS_STORE_FK_MISSING,
        has_store & ~txn["store_resolvable"],
        path,
        "store_id values that resolve to no store",
    )
    _count(
        stats,
        st.TRANSACTIONS_BEFORE_STORE_OPEN,
        has_store & (txn["unix_day"] < opened),
        path,
        "in-store transactions before the store opened",
    )
    refund = txn["kind"] == REFUND
    _count(
        stats,
        st.TRANSACTIONS_AMOUNT_SIGN,
        np.where(refund, txn["amount"] > 0, txn["amount"] < 0),
        path,
        "amounts whose sign disagrees with the type",
    )


def _line_integrity(
    stats: Stats, txn: dict[str, np.ndarray], line: dict[str, np.ndarray], path: str
) -> LineOwners:
    """Integrity of the lines; returns which transaction each line belongs to."""
    stats[st.LINE_ITEMS_ROWS] = int(line["id"].shape[0])
    starts = _starts_in_file_order(txn, line)
    if starts is not None:
        # Lines follow their transactions, numbered 1..items: every key is present once,
        # every line has its transaction, and every transaction has its items.
        n = line["id"].shape[0]
        owners = LineOwners(txn["items"], np.ones(n, dtype=bool), np.zeros(0, np.int64), starts)
        for key in (
            st.LINE_ITEMS_KEY_DUPLICATES,
            st.LINE_ITEMS_TRANSACTION_FK_MISSING,
            st.TRANSACTIONS_ITEMS_MISMATCH,
            st.LINE_ITEMS_LINE_NUMBER_GAPS,
        ):
            stats[key] = stats.get(key, 0)
    else:
        owners = _owners_by_search(stats, txn, line, path)
    _count(
        stats,
        st.TRANSACTIONS_AMOUNT_MISMATCH,
        owners.totals(line["net"]) != txn["amount"],
        path,
        "transactions whose amount is not the sum of their lines' net amounts",
    )
    _count(
        stats,
        st.LINE_ITEMS_NET_MISMATCH,
        line["net"] != line["gross"] - line["discount"],
        path,
        "lines whose net_amount != quantity x unit_price - discount",
    )
    resolvable = line["product_resolvable"]
    _count(
        stats,
        st.LINE_ITEMS_PRODUCT_FK_MISSING,
        ~resolvable,
        path,
        "product_id values that resolve to no product",
    )
    _count(
        stats,
        st.LINE_ITEMS_PRICE_MISMATCH,
        resolvable & (line["price"] != line["list_price"]),
        path,
        "lines whose unit_price is not the product's list price",
    )
    quantity = line["quantity"]
    refund = owners.spread(txn["kind"] == REFUND, False)
    wrong_sign = np.where(refund, quantity >= 0, quantity <= 0)
    _count(
        stats,
        st.LINE_ITEMS_QUANTITY_OUT_OF_RANGE,
        wrong_sign | (np.abs(quantity) > QUANTITY_CAP),
        path,
        "quantities that are zero, too large, or of the wrong sign for the transaction type",
    )
    discount = line["discount"]
    _count(
        stats,
        st.LINE_ITEMS_DISCOUNT_OUT_OF_RANGE,
        (discount < 0) | (discount > np.abs(line["gross"])),
        path,
        "discounts below zero or above the line's gross amount",
    )
    return owners


def _starts_in_file_order(
    txn: dict[str, np.ndarray], line: dict[str, np.ndarray]
) -> np.ndarray | None:
    """Each transaction's first line when the lines file lists every transaction's lines
    in the transactions file's order, numbered 1..items (as synthpipe writes it); else None."""
    items, ids, number = txn["items"], line["id"], line["number"]
    if items.size == 0 or np.any(items < 1) or int(items.sum()) != ids.shape[0]:
        return None
    starts = np.zeros(items.shape[0], dtype=np.int64)
    np.cumsum(items[:-1], out=starts[1:])
    if not np.array_equal(ids[starts], txn["id"]) or not np.all(number[starts] == 1):
        return None
    # the id changes exactly where the next transaction's run starts ...
    changes = np.flatnonzero(ids[1:] != ids[:-1])
    if not np.array_equal(changes + 1, starts[1:]):
        return None
    # ... and inside a run the number steps by one (each run starts at 1, checked above)
    steps = np.diff(number)
    steps[changes] = 1
    if not np.all(steps == 1):
        return None
    return starts


def _owners_by_search(
    stats: Stats, txn: dict[str, np.ndarray], line: dict[str, np.ndarray], path: str
) -> LineOwners:
    """Owners of lines in any order (a file synthpipe did not write): found by id."""
    n = int(line["id"].shape[0])
    order = np.argsort(txn["id"], kind="stable")
    sorted_ids = txn["id"][order]
    position = np.minimum(np.searchsorted(sorted_ids, line["id"]), max(sorted_ids.shape[0] - 1, 0))
    found = sorted_ids[position] == line["id"] if sorted_ids.size else np.zeros(n, dtype=bool)
    owner = np.where(found, order[position] if sorted_ids.size else 0, 0)
    counts = np.bincount(owner[found], minlength=txn["id"].shape[0])
    # (transaction_id, line_number) is unique iff each line, placed at its transaction's
    # start + line_number - 1, lands on its own slot: one bincount, no sort.
    slots = _line_slots(owner[found], line["number"][found], txn["items"])
    stats[st.LINE_ITEMS_KEY_DUPLICATES] = stats.get(st.LINE_ITEMS_KEY_DUPLICATES, 0) + int(
        np.count_nonzero(slots > 1)
    )
    _count(
        stats,
        st.LINE_ITEMS_TRANSACTION_FK_MISSING,
        ~found,
        path,
        "lines whose transaction_id is not in the partition",
    )
    _count(
        stats,
        st.TRANSACTIONS_ITEMS_MISMATCH,
        counts != txn["items"],
        path,
        "transactions whose items != number of lines",
    )
    top = np.zeros(txn["id"].shape[0], dtype=np.int64)
    np.maximum.at(top, owner[found], line["number"][found])
    _count(
        stats,
        st.LINE_ITEMS_LINE_NUMBER_GAPS,
        (top != counts) & (counts > 0),
        path,
        "transactions whose line numbers are not 1..items",
    )
    return LineOwners(counts, found, owner, None)


def _line_slots(owner: np.ndarray, number: np.ndarray, items: np.ndarray) -> np.ndarray:
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


def _profiles(ctx: ValidationContext, stats: Stats, txn: dict[str, np.ndarray]) -> None:
    """Daily, hourly, channel, payment, month and fraud counts."""
    day = txn["day"]
    ok = (day >= 0) & (day < ctx.days) & (txn["channel"] >= 0) & (txn["kind"] >= 0)
    legit = ok & ~txn["is_fraud"]
    channels, kinds = len(CHANNELS), len(TRANSACTION_TYPES)
    cell = (day * channels + txn["channel"]) * kinds + txn["kind"]
    stats[st.TRANSACTIONS_DAILY_LEGIT] = np.bincount(
        cell[legit], minlength=ctx.days * channels * kinds
    ).reshape(ctx.days, channels, kinds)
    reorder = legit & txn["replenish"]
    stats[st.TRANSACTIONS_DAILY_REORDERS] = np.bincount(
        (day * channels + txn["channel"])[reorder], minlength=ctx.days * channels
    ).reshape(ctx.days, channels)
    legit = legit & ~txn["replenish"]
    fraud = ok & (txn["fraud"] >= 0)
    fraud_cell = day * len(FRAUD_TYPES) + txn["fraud"]
    stats[st.TRANSACTIONS_DAILY_FRAUD] = np.bincount(
        fraud_cell[fraud], minlength=ctx.days * len(FRAUD_TYPES)
    ).reshape(ctx.days, len(FRAUD_TYPES))
    sales = legit & (txn["kind"] == SALE)
    hour_cell = txn["channel"] * HOURS_PER_DAY + txn["hour"]  # hour is 0..23 by construction
    stats[st.TRANSACTIONS_HOURS] = np.bincount(
        hour_cell[sales], minlength=channels * HOURS_PER_DAY
    ).reshape(channels, HOURS_PER_DAY)
    payment_ok = sales & (txn["payment"] >= 0)
    pay_cell = txn["channel"] * len(ctx.payments) + txn["payment"]
    stats[st.TRANSACTIONS_PAYMENTS] = np.bincount(
        pay_cell[payment_ok], minlength=channels * len(ctx.payments)
    ).reshape(channels, len(ctx.payments))
    in_store = sales & (txn["channel"] == IN_STORE) & ~txn["store_null"]
    stats[st.TRANSACTIONS_IN_STORE_SALES] = int(np.count_nonzero(in_store))


def _habits(ctx: ValidationContext, stats: Stats, txn: dict[str, np.ndarray]) -> None:
    """Same-day repeats: legitimate sales per channel, first sales and repeats apart (the
    id's sub-range says which, given the seed), and a histogram of each repeat's gap in
    whole minutes to its own first sale (the last cell: none within the cap), taken on the
    customer-days of just the two: the other sale is then the repeat's own, and whether a
    customer buys anything else that day is independent of the gap (its other first sales
    are the rest of a Poisson draw), so the gap keeps its law however often it buys."""
    sales = np.flatnonzero(
        txn["ordinary"] & (txn["kind"] == SALE) & (txn["channel"] >= 0) & (txn["day"] >= 0)
    )
    channel = txn["channel"].take(sales)
    repeat = txn["subrange"].take(sales) == REPEAT_SUBRANGE.take(channel)
    _followed_sales(ctx, stats, txn, sales[~repeat])
    channels = len(CHANNELS)
    stats[st.HABITS_SALES_BY_KIND] = np.bincount(
        channel * 2 + repeat, minlength=channels * 2
    ).reshape(channels, 2)
    cap = MAX_REPEAT_GAP_MINUTES + 1
    if sales.size == 0:
        stats[st.HABITS_REPEAT_GAP_HIST] = np.zeros(cap + 1, dtype=np.int64)
        return
    customer, ts = txn["customer"].take(sales), txn["ts"].take(sales)
    order = np.lexsort((ts, customer))
    c, t, d = customer[order], ts[order], txn["day"].take(sales)[order]
    same = (c[1:] == c[:-1]) & (d[1:] == d[:-1])
    none = np.iinfo(np.int64).max
    gap = np.where(same, t[1:] - t[:-1], none)
    nearest = np.minimum(np.concatenate([[none], gap]), np.concatenate([gap, [none]]))
    group = np.cumsum(np.concatenate([[True], ~same])) - 1  # customer-day of each sale
    pair = np.bincount(group)[group] == 2
    minutes = np.minimum(nearest[repeat[order] & pair] // MICROS_PER_MINUTE, cap)
    stats[st.HABITS_REPEAT_GAP_HIST] = np.bincount(minutes, minlength=cap + 1)


def _followed_sales(
    ctx: ValidationContext, stats: Stats, txn: dict[str, np.ndarray], first: np.ndarray
) -> None:
    """The followed customers' ordinary first sales (rows ``first``): customer id, day and
    time, for the checks that follow a customer across months."""
    customer = txn["customer"].take(first)
    chosen = first[customer % ctx.sample_modulus == 0]
    stats[st.TRANSACTIONS_SAMPLE] = [
        np.stack(
            [txn["customer"].take(chosen), txn["unix_day"].take(chosen), txn["ts"].take(chosen)],
            axis=1,
        )
    ]


def _tenure(stats: Stats, txn: dict[str, np.ndarray], people: Customers) -> None:
    """Legitimate sales by the customer's whole years since signup (the last cell: that
    many or more), the cohort curve the lifetime model shapes."""
    sales = np.flatnonzero(txn["ordinary"] & (txn["kind"] == SALE) & txn["customer_found"])
    signup = people.signup.take(txn["customer_row"].take(sales))
    years = (txn["unix_day"].take(sales) - signup) // DAYS_PER_TENURE_YEAR
    stats[st.TRANSACTIONS_SALES_BY_TENURE] = np.bincount(
        np.clip(years, 0, TENURE_YEARS - 1), minlength=TENURE_YEARS
    )


PACKED_KEY_LIMIT = 2**62  # packed sort keys stay below this (int64, with room)


def _sorted_triples(
    first: np.ndarray, second: np.ndarray, third: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-negative integer triples (first, second, third) in lexicographic order.
    Packed into one int64 key (offsets from each column's minimum, in mixed radix) and
    sorted once: about four times faster than a three-key ``lexsort``. Values too spread
    to pack (only in a tampered file) take the ``lexsort``."""
    first, second, third = (np.asarray(c, dtype=np.int64) for c in (first, second, third))
    columns = (first, second, third)
    low = [int(column.min()) for column in columns]
    sizes = [int(column.max()) - lo + 1 for column, lo in zip(columns, low, strict=True)]
    if sizes[0] * sizes[1] * sizes[2] >= PACKED_KEY_LIMIT:
        order = np.lexsort((third, second, first))
        return first.take(order), second.take(order), third.take(order)
    key = ((first - low[0]) * sizes[1] + (second - low[1])) * sizes[2] + (third - low[2])
    key = np.sort(key.astype(np.int64))
    return (
        key // (sizes[2] * sizes[1]) + low[0],
        key // sizes[2] % sizes[1] + low[1],
        key % sizes[2] + low[2],
    )


def _brand_repeats(
    stats: Stats,
    line_customer: np.ndarray,
    line: dict[str, np.ndarray],
    counted: np.ndarray,
    catalogue: Catalogue,
    categories: int,
) -> None:
    """Per category, pairs of legitimate sale lines (``counted``) of one customer in the
    file (one block-month), and how many of them are of one brand: brand loyalty's
    footprint."""
    product = line["product"].take(counted)
    resolvable = (product >= 1) & (product <= catalogue.product_brand.shape[0])
    chosen = counted[resolvable]
    brand = catalogue.product_brand.take(line["product"].take(chosen) - 1)
    category = line["category"].take(chosen)
    owner_customer = line_customer.take(chosen)
    keep = brand >= 0
    pairs = np.zeros(categories, dtype=np.int64)
    same = np.zeros(categories, dtype=np.int64)
    groups = np.zeros(categories, dtype=np.int64)
    if keep.any():
        c, k, b = _sorted_triples(owner_customer[keep], category[keep], brand[keep])
        new_group = np.concatenate([[True], (c[1:] != c[:-1]) | (k[1:] != k[:-1])])
        new_brand = new_group | np.concatenate([[True], b[1:] != b[:-1]])
        group_size = np.diff(np.append(np.flatnonzero(new_group), c.shape[0]))
        brand_size = np.diff(np.append(np.flatnonzero(new_brand), c.shape[0]))
        group_category = k[new_group]
        brand_category = k[new_brand]
        pairs = np.bincount(
            group_category, weights=group_size * (group_size - 1) // 2, minlength=categories
        ).astype(np.int64)
        same = np.bincount(
            brand_category, weights=brand_size * (brand_size - 1) // 2, minlength=categories
        ).astype(np.int64)
        groups = np.bincount(group_category[group_size > 1], minlength=categories)
    stats[st.BASKETS_BRAND_PAIRS] = pairs
    stats[st.BASKETS_BRAND_SAME] = same
    stats[st.BASKETS_BRAND_GROUPS] = groups


def _follows(line: dict[str, np.ndarray]) -> np.ndarray:
    """Per line but the last: the next line is the next of the same transaction."""
    return np.asarray(
        (line["id"][1:] == line["id"][:-1]) & (line["number"][1:] == line["number"][:-1] + 1)
    )


def _partner_lines(ctx: ValidationContext, line: dict[str, np.ndarray]) -> np.ndarray:
    """Lines that are an attached complement: the anchor's partner right after the anchor
    (lines in file order; a drawn partner right after a drawn anchor, about one line in
    10^5, is counted as attached)."""
    product = line["product"]
    partner = np.zeros(product.shape[0], dtype=bool)
    if product.shape[0] < 2 or ctx.pairs.complements == 0:
        return partner
    wanted = ctx.pairs.lookup(ctx.pairs.partner_by_id, product[:-1], 0)
    partner[1:] = (wanted > 0) & (product[1:] == wanted) & line["follows"]
    return partner


def _associations(
    ctx: ValidationContext, stats: Stats, line: dict[str, np.ndarray], sale_line: np.ndarray
) -> None:
    """The planted pairs' footprint in legitimate sale lines: per complement pair, anchor
    lines and how many bring their partner, with the drawn rate of the partner after any
    other line (its chance of following by itself); per substitute pair, its lines per
    basket and the pairs of different members among them."""
    pairs = ctx.pairs
    product = line["product"]
    n = product.shape[0]
    natural = sale_line & ~line["partner"]
    anchor = pairs.lookup(pairs.anchor_pair, product, -1)
    brought = np.zeros(n, dtype=bool)
    brought[:-1] = line["partner"][1:]
    next_partner = np.full(n, -1, dtype=np.int64)
    if n > 1:
        next_partner[:-1] = np.where(
            line["follows"], pairs.lookup(pairs.partner_pair, product[1:], -1), -1
        )
    k = pairs.complements
    is_anchor = natural & (anchor >= 0)
    other = natural & (anchor < 0)
    stats[st.ASSOCIATIONS_ANCHOR_LINES] = np.bincount(anchor[is_anchor], minlength=k)
    stats[st.ASSOCIATIONS_ANCHOR_BROUGHT] = np.bincount(anchor[is_anchor & brought], minlength=k)
    stats[st.ASSOCIATIONS_OTHER_LINES] = int(np.count_nonzero(other))
    stats[st.ASSOCIATIONS_OTHER_FOLLOWED] = np.bincount(
        next_partner[other & (next_partner >= 0)], minlength=k
    )
    _substitute_pairs(ctx, stats, line, natural)


def _substitute_pairs(
    ctx: ValidationContext, stats: Stats, line: dict[str, np.ndarray], natural: np.ndarray
) -> None:
    """Per substitute pair: sum over baskets of (m - 1) and C(m - 1, 2), m the basket's
    lines of the pair, the baskets with two or more, and the pairs of different members."""
    pairs = ctx.pairs
    k = pairs.substitutes
    pair = pairs.lookup(pairs.substitute_pair, line["product"], -1)
    rows = np.flatnonzero(natural & (pair >= 0))
    later: np.ndarray = np.zeros(k)
    later_pairs: np.ndarray = np.zeros(k)
    mixed: np.ndarray = np.zeros(k)
    baskets: np.ndarray = np.zeros(k, dtype=np.int64)
    if rows.size:
        chosen = pair.take(rows)
        order = np.lexsort((chosen, line["id"].take(rows)))
        group_pair = chosen[order]
        group_id = line["id"].take(rows)[order]
        new = np.concatenate(
            [[True], (group_id[1:] != group_id[:-1]) | (group_pair[1:] != group_pair[:-1])]
        )
        starts = np.flatnonzero(new)
        size = np.diff(np.append(starts, order.shape[0])).astype(np.float64)
        first = pairs.lookup(pairs.substitute_first, line["product"].take(rows)[order], 0)
        firsts = np.add.reduceat(first.astype(np.float64), starts)
        owner = group_pair[starts]
        later = np.bincount(owner, weights=size - 1.0, minlength=k)
        later_pairs = np.bincount(owner, weights=(size - 1.0) * (size - 2.0) / 2.0, minlength=k)
        mixed = np.bincount(owner, weights=firsts * (size - firsts), minlength=k)
        baskets = np.bincount(owner[size >= 2], minlength=k)
    stats[st.ASSOCIATIONS_SUBSTITUTE_LATER] = later
    stats[st.ASSOCIATIONS_SUBSTITUTE_LATER_PAIRS] = later_pairs
    stats[st.ASSOCIATIONS_SUBSTITUTE_MIXED] = np.rint(mixed).astype(np.int64)
    stats[st.ASSOCIATIONS_SUBSTITUTE_BASKETS] = baskets


def _replenishment(
    ctx: ValidationContext,
    stats: Stats,
    txn: dict[str, np.ndarray],
    line: dict[str, np.ndarray],
    owners: LineOwners,
) -> None:
    """Staples' reorders: their lines per category, and the sampled customers' orders
    (customer id, product id, day) for the checks that follow a staple across months."""
    reorder = owners.spread(txn["replenish"] & ~txn["is_fraud"], 0).astype(bool)
    category = line["category"]
    counted = reorder & (category >= 0)
    stats[st.REPLENISH_ORDERS] = np.bincount(category[counted], minlength=len(ctx.categories))
    customer = owners.spread(txn["customer"], -1)
    day = owners.spread(txn["unix_day"], -1)
    sampled = reorder & (customer >= 0) & (customer % ctx.sample_modulus == 0)
    stats[st.REPLENISH_SAMPLE] = [
        np.stack([customer[sampled], line["product"][sampled], day[sampled]], axis=1)
    ]


def _store_choice(
    ctx: ValidationContext,
    stats: Stats,
    txn: dict[str, np.ndarray],
    people: Customers,
    catalogue: Catalogue,
    month: int,
) -> None:
    """Legitimate in-store sales in the customer's home region: observed, and expected from
    the store-choice mix (home store, a store of the region, any store by traffic)."""
    choice = ctx.spec.sales.store_choice
    total = choice.home + choice.region + choice.travel
    mask = (
        txn["customer_found"]
        & ~txn["is_fraud"]
        & (txn["kind"] == SALE)
        & (txn["channel"] == IN_STORE)
        & ~txn["store_null"]
        & txn["store_resolvable"]
    )
    chosen = np.flatnonzero(mask)  # taken from two columns: an index array
    home = txn["home_region"].take(chosen)
    home_stores = IdIndex.of(txn["home_store"].take(chosen), catalogue.stores)
    home_in_region = home_stores.take(catalogue.store_region, -1) == home
    observed = txn["store_region"].take(chosen) == home
    first_day = ctx.dates[ctx.month_of_day == month][0]
    open_by = catalogue.store_open <= int((first_day - UNIX_EPOCH).astype(np.int64))
    weight = catalogue.store_traffic * open_by
    regions = len(ctx.regions)
    by_region = np.bincount(
        np.maximum(catalogue.store_region, 0), weights=weight, minlength=regions
    )
    share = by_region / max(weight.sum(), 1e-12)
    has_store = by_region > 0
    valid = home >= 0
    region = home[valid]
    expected = (
        choice.home * home_in_region[valid]
        + choice.region * np.where(has_store[region], 1.0, home_in_region[valid])
        + choice.travel * share[region]
    ) / total
    stats[st.STORE_CHOICE_IN_STORE_SALES] = int(np.count_nonzero(valid))
    stats[st.STORE_CHOICE_HOME_REGION_OBSERVED] = int(np.count_nonzero(observed[valid]))
    stats[st.STORE_CHOICE_HOME_REGION_EXPECTED] = float(expected.sum())


def _baskets(
    ctx: ValidationContext,
    stats: Stats,
    txn: dict[str, np.ndarray],
    line: dict[str, np.ndarray],
    owners: LineOwners,
    people: Customers,
    catalogue: Catalogue,
) -> None:
    """Lines per basket, category mix (observed vs the spec's expected probabilities),
    quantities and amounts per category: legitimate sales only."""
    rows = txn["customer_row"]
    day = txn["day"]
    sale = (
        (txn["kind"] == SALE)
        & txn["ordinary"]
        & txn["customer_found"]
        & (day >= 0)
        & (day < ctx.days)
        & (txn["channel"] >= 0)
    )
    # each sale's purchase-rate class (segment x loyalty x income band), which holds the
    # segment: one lookup of the customers for both
    klass = people.intensity_class.take(rows)
    segment = ctx.class_segment(klass)
    counted = sale & (segment >= 0)
    # legitimate sales per class, against the class's expected purchases (customers units)
    stats[st.TRANSACTIONS_SALES_BY_CLASS] = np.bincount(
        klass[counted], minlength=ctx.intensity_classes()
    )
    # sales and their lines beyond the first per (segment, channel): the basket factors
    # are judged cell by cell, the expected lines following from the counts
    channels = len(CHANNELS)
    cells = len(ctx.segments) * channels
    basket_cell = (segment * channels + txn["channel"])[counted]
    stats[st.BASKETS_SALES_BY_CELL] = np.bincount(basket_cell, minlength=cells)
    # attached complements are not the basket-size draw's lines
    natural_items = txn["items"] - owners.totals(line["partner"].astype(np.int64))
    stats[st.BASKETS_EXTRA_LINES_BY_CELL] = np.rint(
        np.bincount(basket_cell, weights=natural_items[counted] - 1, minlength=cells)
    ).astype(np.int64)
    # Lines of legitimate sales by (day, audience group, category), in one bincount over
    # the days the partition covers: the observed category mix by month, and the
    # expected one (each (day, group) key's lines times its category probabilities).
    groups, categories, months = ctx.group_count(), len(ctx.categories), len(ctx.months)
    sale_days = day[sale]
    first_day = int(sale_days.min()) if sale_days.size else 0
    span = int(sale_days.max()) - first_day + 1 if sale_days.size else 1
    group = people.group.take(rows)
    # legitimate sales per (age band, channel): the online share by age
    band_channel = (group // len(GENDERS)) * len(CHANNELS) + txn["channel"]
    stats[st.TRANSACTIONS_SALES_BY_BAND_CHANNEL] = np.bincount(
        band_channel[sale], minlength=len(ctx.bands_low) * len(CHANNELS)
    ).reshape(-1, len(CHANNELS))
    cell = np.where(sale, (day - first_day) * groups + group, -1)
    line_cell = owners.spread(cell, -1)
    sale_line = line_cell >= 0
    _associations(ctx, stats, line, sale_line)
    # rows kept as an index array: taking by index is about twice as quick as masking,
    # and the lines are taken from five columns; an attached complement is not a drawn line
    counted_lines = np.flatnonzero(sale_line & (line["category"] >= 0) & ~line["partner"])
    category = line["category"].take(counted_lines)
    joint = np.bincount(
        line_cell.take(counted_lines) * categories + category,
        minlength=span * groups * categories,
    ).reshape(span, groups, categories)
    month_of = ctx.month_of_day[first_day : first_day + span]
    by_day_category = joint.sum(axis=1)
    observed = np.zeros((months, categories), dtype=np.int64)
    np.add.at(observed, month_of, by_day_category)
    probability = ctx.category_probability[first_day * groups : (first_day + span) * groups]
    weighted = joint.sum(axis=2)[:, :, None] * probability.reshape(span, groups, -1)
    expected = np.zeros((months, categories))
    np.add.at(expected, month_of, weighted.sum(axis=1))
    _brand_repeats(
        stats, owners.spread(txn["customer"], -1), line, counted_lines, catalogue, categories
    )
    stats[st.CATEGORIES_OBSERVED] = observed
    stats[st.CATEGORIES_EXPECTED] = expected
    # the same mix per audience group (age band x gender): the spec's affinities
    stats[st.CATEGORIES_OBSERVED_BY_GROUP] = joint.sum(axis=0)
    stats[st.CATEGORIES_EXPECTED_BY_GROUP] = weighted.sum(axis=0)
    stats[st.CATEGORIES_LINES] = joint.sum(axis=(0, 1))
    stats[st.CATEGORIES_QUANTITY_SUM] = _quantity_sums(
        category, line["quantity"].take(counted_lines), categories
    )
    _discounts(ctx, stats, by_day_category, first_day, line["discount"].take(counted_lines))
    # Lines per product, then each product's list-price bin (unit_price = list price is
    # its own integrity check): the histogram costs one bincount over the lines.
    per_product = np.bincount(line["product"].take(counted_lines) - 1, minlength=catalogue.products)
    cells = categories * PRICE_BINS
    stats[st.CATEGORIES_UNIT_PRICE_HIST] = (
        np.bincount(catalogue.product_price_cell, weights=per_product, minlength=cells + 1)[:cells]
        .reshape(categories, PRICE_BINS)
        .astype(np.int64)
    )
    size = LOG_AMOUNT_EDGES.shape[0] + 1
    stats[st.CATEGORIES_NET_AMOUNT_HIST] = np.bincount(
        category * size + AMOUNT_BINS(line["net"].take(counted_lines)), minlength=categories * size
    ).reshape(categories, size)


def _discounts(
    ctx: ValidationContext,
    stats: Stats,
    by_day_category: np.ndarray,
    first_day: int,
    discount: np.ndarray,
) -> None:
    """Discounted lines of legitimate sales, observed and expected: a line is discounted
    whenever a promotion is in force for its day and category, else at the markdown rate."""
    span = by_day_category.shape[0]
    promoted = ctx.discount_in_force[first_day : first_day + span] > 0
    probability = np.where(promoted, 1.0, ctx.spec.sales.markdown.rate)
    stats[st.DISCOUNTS_LINES_OBSERVED] = int(np.count_nonzero(discount > 0))
    stats[st.DISCOUNTS_LINES_EXPECTED] = float((by_day_category * probability).sum())
    stats[st.DISCOUNTS_VARIANCE] = float(
        (by_day_category * probability * (1.0 - probability)).sum()
    )


def _legit_group_table() -> np.ndarray:
    """LEGIT_GROUPS index by (kind + 1, channel + 1) of an unlabelled row (-1: none; the
    extra first row and column take unknown labels)."""
    table = np.full((len(TRANSACTION_TYPES) + 1, len(CHANNELS) + 1), -1, dtype=np.int64)
    table[SALE + 1, ONLINE + 1] = LEGIT_GROUPS.index("legit_online")
    table[SALE + 1, IN_STORE + 1] = LEGIT_GROUPS.index("legit_in_store")
    table[REFUND + 1, :] = LEGIT_GROUPS.index("legit_refund")
    return table


LEGIT_GROUP_BY_KIND_CHANNEL = _legit_group_table()


def _quantity_sums(category: np.ndarray, quantity: np.ndarray, categories: int) -> np.ndarray:
    """Units sold per category (float64), from one bincount over (category, quantity):
    quicker than a weighted bincount; quantities outside the table (none in a valid
    basket) are added exactly on the side."""
    all_in_table = quantity.size == 0 or (
        int(quantity.min()) >= 0 and int(quantity.max()) < QUANTITY_TABLE
    )
    in_table = None if all_in_table else (quantity >= 0) & (quantity < QUANTITY_TABLE)
    key = category * QUANTITY_TABLE + (
        quantity if in_table is None else np.where(in_table, quantity, 0)
    )
    joint = np.bincount(key, minlength=categories * QUANTITY_TABLE)
    total = joint.reshape(categories, QUANTITY_TABLE) @ np.arange(QUANTITY_TABLE, dtype=np.float64)
    if in_table is not None:
        outside = ~in_table
        total += np.bincount(
            category[outside], weights=quantity[outside].astype(np.float64), minlength=categories
        )
    return np.asarray(total)


def _signature_groups(txn: dict[str, np.ndarray]) -> np.ndarray:
    """Each transaction's index in SIGNATURE_GROUPS (-1: in none). A row labelled with a
    fraud type is in that type's group whatever is_fraud says (a mismatch is its own
    integrity check)."""
    width = LEGIT_GROUP_BY_KIND_CHANNEL.shape[1]
    legit = LEGIT_GROUP_BY_KIND_CHANNEL.ravel().take((txn["kind"] + 1) * width + txn["channel"] + 1)
    group = np.where(txn["is_fraud"] | txn["replenish"], -1, legit)  # reorders: no group
    return np.where(txn["fraud"] >= 0, len(LEGIT_GROUPS) + txn["fraud"], group)


def _signatures(stats: Stats, txn: dict[str, np.ndarray], people: Customers) -> None:
    """Per fraud type, the features of its signature next to the same features of
    legitimate transactions of the same channel."""
    home = txn["home_region"]
    if not txn["customer_found"].all():
        home = np.where(txn["customer_found"], home, -1)
    store_region = txn["store_region"]  # -1 where null or unresolvable
    features = {
        "night": txn["hour"] < NIGHT_END_HOUR,
        "ship_away": (txn["ship"] >= 0) & (home >= 0) & (txn["ship"] != home),
        "store_away": (store_region >= 0) & (home >= 0) & (store_region != home),
        "small": np.abs(txn["amount"]) < SMALL_CHARGE_CENTS,
    }
    group = _signature_groups(txn)
    member = np.flatnonzero(group >= 0)  # taken from four columns: an index array
    count = len(SIGNATURE_GROUPS)
    member_group = group.take(member)
    magnitude = np.abs(txn["amount"].take(member))
    # one bincount over (group, feature bits); each feature's count sums the bit's cells
    # (the bits are packed in bytes: an eighth of the memory traffic of int64)
    bits = np.zeros(txn["id"].shape[0], dtype=np.uint8)
    for bit, flag in enumerate(features.values()):
        bits |= flag.view(np.uint8) << np.uint8(bit)
    combos = 1 << len(features)
    joint = np.bincount(
        member_group * combos + bits.take(member), minlength=count * combos
    ).reshape(count, combos)
    totals = {"n": joint.sum(axis=1)}
    for bit, name in enumerate(features):
        totals[name] = joint[:, (np.arange(combos) >> bit) & 1 == 1].sum(axis=1)
    size = LOG_AMOUNT_EDGES.shape[0] + 1
    hist = np.bincount(
        member_group * size + AMOUNT_BINS(magnitude), minlength=count * size
    ).reshape(count, size)
    for k, name in enumerate(SIGNATURE_GROUPS):
        for feature, values in totals.items():
            stats[st.signature(name, feature)] = int(values[k])
        stats[st.signature(name, "amount_hist")] = hist[k]
        if name in BURST_GROUPS:
            mask = group == k
            stats[st.signature(name, "burst")] = _burst_members(
                txn["customer"][mask], txn["ts"][mask]
            )
        if name in REPEAT_GROUPS:
            mask = group == k
            stats[st.signature(name, "same_day_repeat")] = _same_day_repeats(
                txn["customer"][mask], txn["day"][mask]
            )


def _pair_keys(major: np.ndarray, minor: np.ndarray) -> np.ndarray | None:
    """One sortable int64 key per (major, minor) pair, ordered like the pairs; None when
    the ranges are too wide to pack."""
    major_span = int(major.max()) - int(major.min()) + 1
    minor_span = int(minor.max()) - int(minor.min()) + 1
    if major_span * minor_span >= 1 << 62:
        return None
    return np.asarray((major - major.min()) * np.int64(minor_span) + (minor - minor.min()))


def _burst_members(customer: np.ndarray, ts: np.ndarray) -> int:
    """Transactions with another one of the same account within the burst window."""
    if customer.shape[0] < 2:
        return 0
    key = _pair_keys(customer, ts)
    if key is None:
        order = np.lexsort((ts, customer))
        c, t = customer[order], ts[order]
    else:
        key = np.sort(key)  # sorting values, not an argsort: several times quicker
        span = int(ts.max()) - int(ts.min()) + 1
        c = key // span  # np.divmod is slower than a division and a product
        t = key - c * span
    close = (c[1:] == c[:-1]) & (t[1:] - t[:-1] <= BURST_WINDOW_MICROS)
    return _members(close)


def _same_day_repeats(customer: np.ndarray, day: np.ndarray) -> int:
    """Transactions sharing their (account, day) with another of the same group."""
    if customer.shape[0] < 2:
        return 0
    key = _pair_keys(customer, day)
    if key is None:
        key = customer * np.int64(DAY_KEY_SPAN) + (day - day.min())
    key = np.sort(key)
    return _members(key[1:] == key[:-1])


def _members(linked: np.ndarray) -> int:
    """Elements of a sorted run joined to a neighbour: ``linked[i]`` joins i and i + 1."""
    member = np.zeros(linked.shape[0] + 1, dtype=bool)
    member[1:] |= linked
    member[:-1] |= linked
    return int(np.count_nonzero(member))
