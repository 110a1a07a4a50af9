"""A sales partition decoded once into typed columns: its transactions, their lines,
which transaction each line belongs to, and the block's customers and catalogue. Every
family of measures reads this frame and nothing else of the files."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_HOUR
from synthpipe.model.ids import LEGIT_SUBRANGE, id_subrange
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import Catalogue, bool_column, numpy_column
from synthpipe.validate.measures.index import IdIndex, LineOwners
from synthpipe.validate.measures.people import Customers
from synthpipe.validate.reading import FileRead, column_codes
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, SALE, TRANSACTION_TYPES

REPLENISH_SUBRANGE = np.asarray([LEGIT_SUBRANGE[f"replenish_{c}"] for c in CHANNELS])
NO_STORE_OPENING = np.iinfo(np.int64).min  # a store id that resolves to no store


@dataclass(frozen=True)
class TransactionFrame:
    """The transactions file, one numpy column per field (label columns as codes, -1 for
    null or unknown), with what the partition's other files say of each row."""

    id: np.ndarray
    ts: np.ndarray  # microseconds since 1970
    unix_day: np.ndarray  # days since 1970
    day: np.ndarray  # days since the calendar's start
    hour: np.ndarray
    customer: np.ndarray
    store: np.ndarray
    store_null: np.ndarray
    channel: np.ndarray
    kind: np.ndarray  # transaction type code (SALE, REFUND)
    payment: np.ndarray
    ship: np.ndarray  # ship region code
    ship_null: np.ndarray
    fraud: np.ndarray  # fraud type code
    is_fraud: np.ndarray
    reported: np.ndarray
    reported_null: np.ndarray
    reported_at: np.ndarray
    items: np.ndarray
    amount: np.ndarray
    unknown_labels: int  # label values outside the vocabularies, all columns together
    subrange: np.ndarray  # the id's legitimate sub-range (which process drew the row)
    # a staple's reorder is judged by its own checks; the other legitimate checks count
    # the ordinary processes
    replenish: np.ndarray
    ordinary: np.ndarray
    customer_row: np.ndarray  # the customer's row in the block's customers file
    customer_found: np.ndarray
    home_region: np.ndarray  # the customer's home region on the day (from the history)
    home_store: np.ndarray  # the customer's home store id on the day
    store_region: np.ndarray  # -1 where null or unresolvable
    store_resolvable: np.ndarray
    store_open: np.ndarray  # the store's opening day (NO_STORE_OPENING where none)

    @property
    def rows(self) -> int:
        """Number of transactions."""
        return int(self.id.shape[0])


@dataclass(frozen=True)
class LineFrame:
    """The line items file, one numpy column per field, with each product's catalogue
    entry and where a line sits among its neighbours."""

    id: np.ndarray  # the owning transaction's id
    number: np.ndarray
    product: np.ndarray
    product_resolvable: np.ndarray
    category: np.ndarray  # -1 where the product resolves to none
    list_price: np.ndarray
    quantity: np.ndarray
    price: np.ndarray
    gross: np.ndarray  # quantity x unit price
    discount: np.ndarray
    net: np.ndarray
    follows: np.ndarray  # per line but the last: the next line is the next of its transaction
    partner: np.ndarray  # an attached complement (the anchor's partner right after it)

    @property
    def rows(self) -> int:
        """Number of lines."""
        return int(self.id.shape[0])


@dataclass(frozen=True)
class LegitSales:
    """The ordinary legitimate sales of the block's customers on calendar days (what the
    spec's rates and basket laws describe), and their lines."""

    sale: np.ndarray  # per transaction
    group: np.ndarray  # per transaction: the customer's audience group (age band x gender)
    first_day: int  # the first calendar day with such a sale (0 when none)
    span: int  # days from first_day to the last such sale, both counted (1 when none)
    line_cell: np.ndarray  # per line: (day - first_day) x groups + group of its sale; -1
    sale_line: np.ndarray  # per line: of such a sale
    drawn: np.ndarray  # index of the sale lines of a known category drawn by the basket law


@dataclass(frozen=True)
class SalesFrame:
    """One sales partition (a block-month), decoded."""

    txn: TransactionFrame
    lines: LineFrame
    owners: LineOwners
    people: Customers
    catalogue: Catalogue
    sales: LegitSales
    block: int
    month: int
    transactions_path: str
    lines_path: str


def decode_partition(
    ctx: ValidationContext,
    transactions: FileRead,
    lines: FileRead,
    people: Customers,
    catalogue: Catalogue,
    block: int,
    month: int,
) -> SalesFrame:
    """The partition's files as typed columns, joined to its customers and catalogue."""
    txn = _transactions(ctx, transactions.table, people, catalogue)
    line = _lines(ctx, lines.table, catalogue)
    starts = starts_in_file_order(txn, line)
    owners = (
        LineOwners(txn.items, np.ones(line.rows, dtype=bool), np.zeros(0, np.int64), starts)
        if starts is not None
        else owners_by_search(txn, line)
    )
    sales = _legit_sales(ctx, txn, line, owners, people)
    return SalesFrame(
        txn, line, owners, people, catalogue, sales, block, month, transactions.path, lines.path
    )


def _transactions(
    ctx: ValidationContext, table: pa.Table, people: Customers, catalogue: Catalogue
) -> TransactionFrame:
    """The transactions' columns, with their customers' rows and homes and their stores."""
    ids = numpy_column(table, "transaction_id")
    ts = numpy_column(table, "ts")
    unix_day = ts // MICROS_PER_DAY  # a floor division and a product: np.divmod is slower
    within_day = ts - unix_day * MICROS_PER_DAY
    channel, unknown_channel = column_codes(table, "channel", CHANNELS)
    kind, unknown_kind = column_codes(table, "transaction_type", TRANSACTION_TYPES)
    payment, unknown_payment = column_codes(table, "payment_method", ctx.payments)
    ship, unknown_ship = column_codes(table, "ship_region", ctx.regions)
    fraud, unknown_fraud = column_codes(table, "fraud_type", FRAUD_TYPES)
    unknown = unknown_channel + unknown_kind + unknown_payment + unknown_ship + unknown_fraud
    is_fraud = bool_column(table, "is_fraud")
    customer = numpy_column(table, "customer_id")
    subrange = id_subrange(ids, ctx.spec.seed)
    replenish = np.isin(subrange, REPLENISH_SUBRANGE)
    customer_row, customer_found = people.rows(customer)
    home_region, home_store = people.home_on(customer_row, unix_day)
    store = numpy_column(table, "store_id")
    stores = IdIndex.of(store, catalogue.stores)
    return TransactionFrame(
        id=ids,
        ts=ts,
        unix_day=unix_day,
        day=unix_day - ctx.start_day,
        hour=within_day // MICROS_PER_HOUR,
        customer=customer,
        store=store,
        store_null=np.asarray(table.column("store_id").is_null(), dtype=bool),
        channel=channel,
        kind=kind,
        payment=payment,
        ship=ship,
        ship_null=np.asarray(table.column("ship_region").is_null(), dtype=bool),
        fraud=fraud,
        is_fraud=is_fraud,
        reported=bool_column(table, "fraud_reported"),
        reported_null=np.asarray(table.column("fraud_reported_at").is_null(), dtype=bool),
        reported_at=numpy_column(table, "fraud_reported_at"),
        items=numpy_column(table, "items"),
        amount=numpy_column(table, "amount"),
        unknown_labels=int(unknown),
        subrange=subrange,
        replenish=replenish,
        ordinary=~is_fraud & ~replenish,
        customer_row=customer_row,
        customer_found=customer_found,
        home_region=home_region,
        home_store=home_store,
        store_region=stores.take(catalogue.store_region, -1),
        store_resolvable=stores.resolvable,
        store_open=stores.take(catalogue.store_open, NO_STORE_OPENING),
    )


def _lines(ctx: ValidationContext, table: pa.Table, catalogue: Catalogue) -> LineFrame:
    """The lines' columns, with their products' categories and list prices."""
    ids = numpy_column(table, "transaction_id")
    number = numpy_column(table, "line_number")
    product = numpy_column(table, "product_id")
    products = IdIndex.of(product, catalogue.products)
    quantity = numpy_column(table, "quantity")
    price = numpy_column(table, "unit_price")
    follows = np.asarray((ids[1:] == ids[:-1]) & (number[1:] == number[:-1] + 1))
    return LineFrame(
        id=ids,
        number=number,
        product=product,
        product_resolvable=products.resolvable,
        category=products.take(catalogue.product_category, -1),
        list_price=products.take(catalogue.product_price, 0),
        quantity=quantity,
        price=price,
        gross=quantity * price,
        discount=numpy_column(table, "discount"),
        net=numpy_column(table, "net_amount"),
        follows=follows,
        partner=_partner_lines(ctx, product, follows),
    )


def _partner_lines(ctx: ValidationContext, product: np.ndarray, follows: np.ndarray) -> np.ndarray:
    """Lines that are an attached complement: the anchor's partner right after the anchor
    (lines in file order; a drawn partner right after a drawn anchor, about one line in
    10^5, is counted as attached)."""
    partner = np.zeros(product.shape[0], dtype=bool)
    if product.shape[0] < 2 or ctx.pairs.complements == 0:
        return partner
    wanted = ctx.pairs.lookup(ctx.pairs.partner_by_id, product[:-1], 0)
    partner[1:] = (wanted > 0) & (product[1:] == wanted) & follows
    return partner


def starts_in_file_order(txn: TransactionFrame, line: LineFrame) -> np.ndarray | None:
    """Each transaction's first line when the lines file lists every transaction's lines
    in the transactions file's order, numbered 1..items (as synthpipe writes it); else None."""
    items, ids, number = txn.items, line.id, line.number
    if items.size == 0 or np.any(items < 1) or int(items.sum()) != ids.shape[0]:
        return None
    starts = np.zeros(items.shape[0], dtype=np.int64)
    np.cumsum(items[:-1], out=starts[1:])
    if not np.array_equal(ids[starts], txn.id) or not np.all(number[starts] == 1):
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


def owners_by_search(txn: TransactionFrame, line: LineFrame) -> LineOwners:
    """Owners of lines in any order (a file synthpipe did not write): found by id."""
    order = np.argsort(txn.id, kind="stable")
    sorted_ids = txn.id[order]
    position = np.minimum(np.searchsorted(sorted_ids, line.id), max(sorted_ids.shape[0] - 1, 0))
    found = sorted_ids[position] == line.id if sorted_ids.size else np.zeros(line.rows, bool)
    owner = np.where(found, order[position] if sorted_ids.size else 0, 0)
    counts = np.bincount(owner[found], minlength=txn.rows)
    return LineOwners(counts, found, owner, None)


def _legit_sales(
    ctx: ValidationContext,
    txn: TransactionFrame,
    line: LineFrame,
    owners: LineOwners,
    people: Customers,
) -> LegitSales:
    """The ordinary legitimate sales of the block's customers on calendar days: the sales
    the spec's rates and basket laws describe."""
    rows = txn.customer_row
    day = txn.day
    sale = (
        (txn.kind == SALE)
        & txn.ordinary
        & txn.customer_found
        & (day >= 0)
        & (day < ctx.days)
        & (txn.channel >= 0)
    )
    sale_days = day[sale]
    first_day = int(sale_days.min()) if sale_days.size else 0
    span = int(sale_days.max()) - first_day + 1 if sale_days.size else 1
    group = people.group.take(rows)
    cell = np.where(sale, (day - first_day) * ctx.group_count() + group, -1)
    line_cell = owners.spread(cell, -1)
    sale_line = line_cell >= 0
    # rows kept as an index array: taking by index is about twice as quick as masking,
    # and the lines are taken from several columns; an attached complement is not a
    # drawn line
    drawn = np.flatnonzero(sale_line & (line.category >= 0) & ~line.partner)
    return LegitSales(sale, group, first_day, span, line_cell, sale_line, drawn)
