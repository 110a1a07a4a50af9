"""Statistics of one sales partition: its transactions and line items files, read with the
customers of the same block (for signup dates, demographics and home regions)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from synthpipe.model.baskets import audience_group
from synthpipe.model.blockmonth import MICROS_PER_DAY, MICROS_PER_HOUR
from synthpipe.model.customers import block_range
from synthpipe.model.ids import BLOCK_BITS, EPOCH_ORDINAL, SEQUENCE_BITS
from synthpipe.model.sampling import rank_within_groups
from synthpipe.model.schema import (
    CHANNEL_NAMES,
    LINE_ITEMS_SCHEMA,
    TRANSACTION_TYPES,
    TRANSACTIONS_SCHEMA,
)
from synthpipe.spec.models import FRAUD_TYPES, GENDERS
from synthpipe.validate.context import UNIX_EPOCH, ValidationContext
from synthpipe.validate.dimensions import (
    LOG_PRICE_EDGES,
    Catalogue,
    count_nulls,
    file_record,
    numpy_column,
    uniform_bins,
)
from synthpipe.validate.merge import Stats, issue
from synthpipe.validate.reading import FileRead, column_codes

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
]
IN_STORE, ONLINE = CHANNEL_NAMES.index("in_store"), CHANNEL_NAMES.index("online")
SALE, REFUND = TRANSACTION_TYPES.index("sale"), TRANSACTION_TYPES.index("refund")
# Log10 of a line's net amount in cents, fixed bins: histograms for the report.
LOG_AMOUNT_EDGES = np.linspace(0.0, 7.0, 141)
BURST_WINDOW_MICROS = 10 * 60_000_000  # card-testing charges within 10 minutes of another
BURST_GROUPS = ("card_testing", "legit_online")  # groups whose burst share is reported
REPEAT_GROUPS = ("refund_abuse", "legit_refund")  # groups whose same-day repeats are counted
DAY_KEY_SPAN = 1 << 20  # days in an (account, day) key: more than any calendar
SMALL_CHARGE_CENTS = 1_000  # "tiny" charge: under 10.00
QUANTITY_CAP = 1_000  # no basket line has this many units
ID_DAY_SHIFT = BLOCK_BITS + SEQUENCE_BITS
EPOCH_DAYS_SINCE_UNIX = EPOCH_ORDINAL - dt.date(1970, 1, 1).toordinal()


def approximate_bins(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Bins of evenly spaced edges by arithmetic alone (a value within rounding of an
    edge may land in the next bin): for histograms that are plotted or summarised, not
    tested at their edges."""
    width = (edges[-1] - edges[0]) / (edges.shape[0] - 1)
    return np.asarray(
        np.clip(((values - edges[0]) / width + 1.0).astype(np.int64), 0, edges.shape[0])
    )


_CUSTOMERS: dict[tuple[str, str], Customers] = {}


def block_customers(ctx: ValidationContext, read: FileRead) -> Customers:
    """The block's customers, built once per file content in this process."""
    key = (read.path, read.sha256)
    if key not in _CUSTOMERS:
        _CUSTOMERS.clear()  # one block at a time is enough: units come block by block
        _CUSTOMERS[key] = Customers(ctx, read)
    return _CUSTOMERS[key]


class Customers:
    """The block's customers, indexable by customer id."""

    def __init__(self, ctx: ValidationContext, read: FileRead) -> None:
        table = read.table
        self.ids = numpy_column(table, "customer_id")
        self.order = np.argsort(self.ids, kind="stable")
        self.sorted_ids = self.ids[self.order]
        self.age = numpy_column(table, "age")
        self.band = np.maximum(np.searchsorted(ctx.bands_low, self.age, side="right") - 1, 0)
        self.gender, _ = column_codes(table, "gender", GENDERS)
        self.segment, _ = column_codes(table, "segment", ctx.segments)
        self.region, _ = column_codes(table, "region", ctx.regions)
        self.signup = numpy_column(table, "signup_date")
        self.home_store = numpy_column(table, "home_store_id")

    def rows(self, customer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of each customer id in the block file, and whether it was found."""
        n = self.ids.shape[0]
        if n and self.ids[0] + n - 1 == self.ids[-1] and np.all(np.diff(self.ids) == 1):
            offset = customer_ids - self.ids[0]
            found = (offset >= 0) & (offset < n)
            return np.where(found, offset, 0), found
        position = np.searchsorted(self.sorted_ids, customer_ids)
        position = np.minimum(position, max(self.sorted_ids.shape[0] - 1, 0))
        found = (
            self.sorted_ids[position] == customer_ids
            if self.sorted_ids.size
            else np.zeros(customer_ids.shape, bool)
        )
        return self.order[position], found


def sales_stats(
    ctx: ValidationContext,
    transactions: FileRead,
    lines: FileRead,
    customers: FileRead,
    catalogue: Catalogue,
    block: int,
    month: int,
) -> Stats:
    """Statistics of one sales partition (transactions + line items of a block-month)."""
    stats: Stats = {
        "files": [
            file_record(transactions, "transactions", TRANSACTIONS_SCHEMA),
            file_record(lines, "line_items", LINE_ITEMS_SCHEMA),
        ]
    }
    count_nulls(stats, "transactions", transactions, TRANSACTIONS_SCHEMA)
    count_nulls(stats, "line_items", lines, LINE_ITEMS_SCHEMA)
    txn = _transaction_columns(ctx, transactions.table)
    people = block_customers(ctx, customers)
    rows, found = people.rows(txn["customer"])
    txn["customer_row"], txn["customer_found"] = rows, found
    _transaction_integrity(ctx, stats, txn, people, catalogue, block, month, transactions.path)
    line = _line_columns(lines.table)
    line["owner"], line["found"] = _line_integrity(stats, txn, line, catalogue, lines.path)
    _profiles(ctx, stats, txn)
    _store_choice(ctx, stats, txn, people, catalogue, month)
    _baskets(ctx, stats, txn, line, people, catalogue)
    _signatures(stats, txn, people, catalogue)
    return stats


def _transaction_columns(ctx: ValidationContext, table: pa.Table) -> dict[str, np.ndarray]:
    ts = numpy_column(table, "ts")
    channel, unknown_channel = column_codes(table, "channel", CHANNEL_NAMES)
    kind, unknown_kind = column_codes(table, "transaction_type", TRANSACTION_TYPES)
    payment, unknown_payment = column_codes(table, "payment_method", ctx.payments)
    ship, unknown_ship = column_codes(table, "ship_region", ctx.regions)
    fraud, unknown_fraud = column_codes(table, "fraud_type", FRAUD_TYPES)
    store = table.column("store_id")
    return {
        "id": numpy_column(table, "transaction_id"),
        "ts": ts,
        "day": ts // MICROS_PER_DAY - ctx.start_day,
        "hour": (ts % MICROS_PER_DAY) // MICROS_PER_HOUR,
        "customer": numpy_column(table, "customer_id"),
        "store": numpy_column(table, "store_id"),
        "store_null": np.asarray(store.is_null(), dtype=bool),
        "channel": channel,
        "kind": kind,
        "payment": payment,
        "ship": ship,
        "ship_null": np.asarray(table.column("ship_region").is_null(), dtype=bool),
        "fraud": fraud,
        "is_fraud": np.asarray(table.column("is_fraud").fill_null(False), dtype=bool),
        "items": numpy_column(table, "items"),
        "amount": numpy_column(table, "amount"),
        "unknown_labels": np.asarray(
            [unknown_channel + unknown_kind + unknown_payment + unknown_ship + unknown_fraud]
        ),
    }


def _line_columns(table: pa.Table) -> dict[str, np.ndarray]:
    return {
        "id": numpy_column(table, "transaction_id"),
        "number": numpy_column(table, "line_number"),
        "product": numpy_column(table, "product_id"),
        "quantity": numpy_column(table, "quantity"),
        "price": numpy_column(table, "unit_price"),
        "discount": numpy_column(table, "discount"),
        "net": numpy_column(table, "net_amount"),
    }


def _count(stats: Stats, key: str, mask: np.ndarray, path: str, what: str) -> None:
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
    n = int(txn["id"].shape[0])
    stats["transactions.rows"] = n
    stats["transactions.unknown_labels"] = int(txn["unknown_labels"][0])
    order = np.argsort(txn["id"], kind="stable")
    txn["id_order"], txn["sorted_id"] = order, txn["id"][order]
    stats["transactions.id_duplicates"] = int(np.count_nonzero(np.diff(txn["sorted_id"]) == 0))
    id_day = (txn["id"] >> ID_DAY_SHIFT) + EPOCH_DAYS_SINCE_UNIX - ctx.start_day
    id_block = (txn["id"] >> SEQUENCE_BITS) & ((1 << BLOCK_BITS) - 1)
    _count(
        stats,
        "transactions.id_partition_mismatch",
        (id_day != txn["day"]) | (id_block != block),
        path,
        "transaction ids whose day/block bits disagree with their time and partition",
    )
    day = txn["day"]
    outside = (day < 0) | (day >= ctx.days)
    _count(
        stats, "transactions.ts_outside_calendar", outside, path, "timestamps outside the calendar"
    )
    in_month = ~outside
    in_month[~outside] = ctx.month_of_day[day[~outside]] == month
    _count(
        stats,
        "transactions.ts_outside_partition",
        ~in_month & ~outside,
        path,
        "timestamps outside the partition's month",
    )
    online = txn["channel"] == ONLINE
    _count(
        stats,
        "transactions.store_null_mismatch",
        txn["store_null"] != online,
        path,
        "rows where store_id is null but the channel is not online, or the reverse",
    )
    _count(
        stats,
        "transactions.ship_null_mismatch",
        txn["ship_null"] != ~online,
        path,
        "rows where ship_region is null but the channel is not in_store, or the reverse",
    )
    _count(
        stats,
        "transactions.fraud_label_mismatch",
        (txn["fraud"] >= 0) != txn["is_fraud"],
        path,
        "rows where fraud_type and is_fraud disagree",
    )
    customer = txn["customer"]
    _count(
        stats,
        "transactions.customer_fk_missing",
        (customer < 1) | (customer > spec.customers.count),
        path,
        "customer_id values that resolve to no customer",
    )
    first, size = block_range(spec, block)
    _count(
        stats,
        "transactions.customer_outside_block",
        (customer < first) | (customer >= first + size),
        path,
        "customers outside the partition's block",
    )
    rows, found = txn["customer_row"], txn["customer_found"]
    signup = people.signup[rows]
    _count(
        stats,
        "transactions.before_signup",
        found & (txn["ts"] // MICROS_PER_DAY < signup),
        path,
        "transactions before the customer's signup date",
    )
    store = txn["store"]
    has_store = ~txn["store_null"]
    _count(
        stats,
        "transactions.store_fk_missing",
        has_store & ((store < 1) | (store > catalogue.stores)),
        path,
        "store_id values that resolve to no store",
    )
    valid_store = has_store & (store >= 1) & (store <= catalogue.stores)
    opened = np.full(n, np.iinfo(np.int64).min)
    opened[valid_store] = catalogue.store_open[store[valid_store] - 1]
    _count(
        stats,
        "transactions.before_store_open",
        valid_store & (txn["ts"] // MICROS_PER_DAY < opened),
        path,
        "in-store transactions before the store opened",
    )
    sign_ok = np.where(txn["kind"] == REFUND, txn["amount"] <= 0, txn["amount"] >= 0)
    _count(
        stats,
        "transactions.amount_sign",
        ~sign_ok,
        path,
        "amounts whose sign disagrees with the type",
    )


def _line_integrity(
    stats: Stats,
    txn: dict[str, np.ndarray],
    line: dict[str, np.ndarray],
    catalogue: Catalogue,
    path: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrity of the lines; returns each line's transaction row and whether it exists."""
    n = int(line["id"].shape[0])
    stats["line_items.rows"] = n
    owner = _owners_in_file_order(txn, line)
    if owner is not None:
        # Lines follow their transactions, numbered 1..items: every key is present once.
        found = np.ones(n, dtype=bool)
        counts = txn["items"]
        stats["line_items.key_duplicates"] = 0
    else:
        order, sorted_ids = txn["id_order"], txn["sorted_id"]
        position = np.minimum(
            np.searchsorted(sorted_ids, line["id"]), max(sorted_ids.shape[0] - 1, 0)
        )
        found = sorted_ids[position] == line["id"] if sorted_ids.size else np.zeros(n, dtype=bool)
        owner = order[position]
        counts = np.bincount(owner[found], minlength=txn["id"].shape[0])
        # (transaction_id, line_number) is unique iff each line, placed at its transaction's
        # start + line_number - 1, lands on its own slot: one bincount, no sort.
        slots = _line_slots(owner[found], line["number"][found], txn["items"])
        stats["line_items.key_duplicates"] = int(np.count_nonzero(slots > 1))
    _count(
        stats,
        "line_items.transaction_fk_missing",
        ~found,
        path,
        "lines whose transaction_id is not in the partition",
    )
    _count(
        stats,
        "transactions.items_mismatch",
        counts != txn["items"],
        path,
        "transactions whose items != number of lines",
    )
    top = np.zeros(txn["id"].shape[0], dtype=np.int64)
    np.maximum.at(top, owner[found], line["number"][found])
    _count(
        stats,
        "line_items.line_number_gaps",
        (top != counts) & (counts > 0),
        path,
        "transactions whose line numbers are not 1..items",
    )
    net_sum = np.bincount(owner[found], weights=line["net"][found], minlength=txn["id"].shape[0])
    _count(
        stats,
        "transactions.amount_mismatch",
        np.round(net_sum).astype(np.int64) != txn["amount"],
        path,
        "transactions whose amount is not the sum of their lines' net amounts",
    )
    _count(
        stats,
        "line_items.net_mismatch",
        line["net"] != line["quantity"] * line["price"] - line["discount"],
        path,
        "lines whose net_amount != quantity x unit_price - discount",
    )
    product = line["product"]
    resolvable = (product >= 1) & (product <= catalogue.products)
    _count(
        stats,
        "line_items.product_fk_missing",
        ~resolvable,
        path,
        "product_id values that resolve to no product",
    )
    list_price = np.zeros(n, dtype=np.int64)
    list_price[resolvable] = catalogue.product_price[product[resolvable] - 1]
    _count(
        stats,
        "line_items.price_mismatch",
        resolvable & (line["price"] != list_price),
        path,
        "lines whose unit_price is not the product's list price",
    )
    quantity = line["quantity"]
    kind = np.where(found, txn["kind"][owner], SALE)
    wrong_sign = np.where(kind == REFUND, quantity >= 0, quantity <= 0)
    _count(
        stats,
        "line_items.quantity_out_of_range",
        wrong_sign | (np.abs(quantity) > QUANTITY_CAP),
        path,
        "quantities that are zero, too large, or of the wrong sign for the transaction type",
    )
    gross = np.abs(quantity * line["price"])
    _count(
        stats,
        "line_items.discount_out_of_range",
        (line["discount"] < 0) | (line["discount"] > gross),
        path,
        "discounts below zero or above the line's gross amount",
    )
    return owner, found


def _owners_in_file_order(
    txn: dict[str, np.ndarray], line: dict[str, np.ndarray]
) -> np.ndarray | None:
    """Each line's transaction row when the lines file lists every transaction's lines in
    the transactions file's order, numbered 1..items (as synthpipe writes it); else None."""
    items = txn["items"]
    if items.size == 0 or np.any(items < 0) or int(items.sum()) != line["id"].shape[0]:
        return None
    owner = np.repeat(np.arange(items.shape[0], dtype=np.int64), items)
    if not np.array_equal(txn["id"][owner], line["id"]):
        return None
    if not np.array_equal(rank_within_groups(items) + 1, line["number"]):
        return None
    return owner


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
    channels, kinds = len(CHANNEL_NAMES), len(TRANSACTION_TYPES)
    cell = (day * channels + txn["channel"]) * kinds + txn["kind"]
    stats["transactions.daily_legit"] = np.bincount(
        cell[legit], minlength=ctx.days * channels * kinds
    ).reshape(ctx.days, channels, kinds)
    fraud = ok & (txn["fraud"] >= 0)
    fraud_cell = day * len(FRAUD_TYPES) + txn["fraud"]
    stats["transactions.daily_fraud"] = np.bincount(
        fraud_cell[fraud], minlength=ctx.days * len(FRAUD_TYPES)
    ).reshape(ctx.days, len(FRAUD_TYPES))
    sales = legit & (txn["kind"] == SALE)
    hour_cell = txn["channel"] * 24 + np.clip(txn["hour"], 0, 23)
    stats["transactions.hours"] = np.bincount(hour_cell[sales], minlength=channels * 24).reshape(
        channels, 24
    )
    payment_ok = sales & (txn["payment"] >= 0)
    pay_cell = txn["channel"] * len(ctx.payments) + txn["payment"]
    stats["transactions.payments"] = np.bincount(
        pay_cell[payment_ok], minlength=channels * len(ctx.payments)
    ).reshape(channels, len(ctx.payments))
    in_store = sales & (txn["channel"] == IN_STORE) & ~txn["store_null"]
    stats["transactions.in_store_sales"] = int(np.count_nonzero(in_store))


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
    rows, found = txn["customer_row"], txn["customer_found"]
    store = txn["store"]
    mask = (
        found
        & ~txn["is_fraud"]
        & (txn["kind"] == SALE)
        & (txn["channel"] == IN_STORE)
        & ~txn["store_null"]
        & (store >= 1)
        & (store <= catalogue.stores)
    )
    home = people.region[rows[mask]]
    home_store = people.home_store[rows[mask]]
    known_store = (home_store >= 1) & (home_store <= catalogue.stores)
    home_store_region = np.where(
        known_store, catalogue.store_region[np.clip(home_store, 1, catalogue.stores) - 1], -1
    )
    home_in_region = home_store_region == home
    observed = catalogue.store_region[store[mask] - 1] == home
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
    stats["store_choice.in_store_sales"] = int(np.count_nonzero(valid))
    stats["store_choice.home_region_observed"] = int(np.count_nonzero(observed[valid]))
    stats["store_choice.home_region_expected"] = float(expected.sum())


def _baskets(
    ctx: ValidationContext,
    stats: Stats,
    txn: dict[str, np.ndarray],
    line: dict[str, np.ndarray],
    people: Customers,
    catalogue: Catalogue,
) -> None:
    """Lines per basket, category mix (observed vs the spec's expected probabilities),
    quantities and amounts per category: legitimate sales only."""
    spec = ctx.spec
    owner, found = line["owner"], line["found"]
    rows, customer_found = txn["customer_row"], txn["customer_found"]
    day = txn["day"]
    sale = (
        (txn["kind"] == SALE)
        & ~txn["is_fraud"]
        & customer_found
        & (day >= 0)
        & (day < ctx.days)
        & (txn["channel"] >= 0)
    )
    segment = people.segment[rows]
    basket = np.asarray([s.basket for s in spec.customers.segments.values()])
    channel_factor = np.asarray(
        [spec.sales.channels.in_store.basket_factor, spec.sales.channels.online.basket_factor]
    )
    counted = sale & (segment >= 0)
    expected_lines = (
        1.0
        + (spec.sales.basket_mean_items - 1.0)
        * basket[segment[counted]]
        * channel_factor[txn["channel"][counted]]
    )
    stats["baskets.sales"] = int(np.count_nonzero(counted))
    stats["baskets.lines_observed"] = int(txn["items"][counted].sum())
    stats["baskets.lines_expected"] = float(expected_lines.sum())
    stats["baskets.extra_lines_expected"] = float((expected_lines - 1.0).sum())
    line_sale = found & sale[owner]
    product = line["product"]
    resolvable = line_sale & (product >= 1) & (product <= catalogue.products)
    category = np.full(product.shape[0], -1, dtype=np.int64)
    category[resolvable] = catalogue.product_category[product[resolvable] - 1]
    counted_lines = resolvable & (category >= 0)
    owner_rows = rows[owner[counted_lines]]
    group = audience_group(people.band[owner_rows], np.maximum(people.gender[owner_rows], 0))
    line_day = day[owner[counted_lines]]
    key = line_day * ctx.group_count() + group
    months = len(ctx.months)
    categories = len(ctx.categories)
    month = ctx.month_of_day[line_day]
    observed = np.bincount(
        month * categories + category[counted_lines], minlength=months * categories
    )
    # Expected lines per category: how many lines each (day, group) key has, times that
    # key's category probabilities, summed by month.
    keys_per_day = ctx.group_count()
    lines_per_key = np.bincount(key, minlength=ctx.days * keys_per_day).astype(np.float64)
    per_day = (lines_per_key[:, None] * ctx.category_probability).reshape(
        ctx.days, keys_per_day, -1
    )
    expected = np.zeros((months, categories))
    np.add.at(expected, ctx.month_of_day, per_day.sum(axis=1))
    stats["categories.observed"] = observed.reshape(months, categories)
    stats["categories.expected"] = expected
    quantity = line["quantity"][counted_lines].astype(np.float64)
    cat = category[counted_lines]
    stats["categories.quantity_sum"] = np.bincount(cat, weights=quantity, minlength=categories)
    stats["categories.quantity_sq_sum"] = np.bincount(
        cat, weights=quantity**2, minlength=categories
    )
    stats["categories.lines"] = np.bincount(cat, minlength=categories)
    # Lines per product, then each product's list-price bin (unit_price = list price is
    # its own integrity check): the histogram costs one bincount over the lines.
    per_product = np.bincount(product[counted_lines] - 1, minlength=catalogue.products)
    sold = np.flatnonzero(per_product)
    bins = LOG_PRICE_EDGES.shape[0] + 1
    price_bin = uniform_bins(
        LOG_PRICE_EDGES, np.log10(np.maximum(catalogue.product_price[sold], 1))
    )
    stats["categories.unit_price_hist"] = (
        np.bincount(
            catalogue.product_category[sold] * bins + price_bin,
            weights=per_product[sold],
            minlength=categories * bins,
        )
        .reshape(categories, bins)
        .astype(np.int64)
    )
    net = np.maximum(line["net"][counted_lines], 1)
    amount_bin = approximate_bins(LOG_AMOUNT_EDGES, np.log10(net))
    size = LOG_AMOUNT_EDGES.shape[0] + 1
    stats["categories.net_amount_hist"] = np.bincount(
        cat * size + amount_bin, minlength=categories * size
    ).reshape(categories, size)
    discounted = line["discount"][counted_lines] > 0
    stats["categories.discounted_lines"] = np.bincount(cat[discounted], minlength=categories)


def _signatures(
    stats: Stats, txn: dict[str, np.ndarray], people: Customers, catalogue: Catalogue
) -> None:
    """Per fraud type, the features of its signature next to the same features of
    legitimate transactions of the same channel."""
    rows, found = txn["customer_row"], txn["customer_found"]
    home = np.where(found, people.region[rows], -1)
    fraud = txn["fraud"]
    legit = ~txn["is_fraud"]
    online = txn["channel"] == ONLINE
    in_store = txn["channel"] == IN_STORE
    sale = txn["kind"] == SALE
    refund = txn["kind"] == REFUND
    amount = txn["amount"]
    night_hours = np.zeros(24, dtype=bool)
    night_hours[0:6] = True
    night = night_hours[np.clip(txn["hour"], 0, 23)]
    ship_away = (txn["ship"] >= 0) & (home >= 0) & (txn["ship"] != home)
    store = txn["store"]
    valid_store = ~txn["store_null"] & (store >= 1) & (store <= catalogue.stores)
    store_region = np.full(store.shape[0], -1, dtype=np.int64)
    store_region[valid_store] = catalogue.store_region[store[valid_store] - 1]
    store_away = valid_store & (home >= 0) & (store_region != home)
    groups = {
        "legit_online": legit & online & sale,
        "legit_in_store": legit & in_store & sale,
        "legit_refund": legit & refund,
    }
    for t, name in enumerate(FRAUD_TYPES):
        groups[name] = fraud == t
    for name, mask in groups.items():
        prefix = f"signatures.{name}"
        stats[f"{prefix}.n"] = int(np.count_nonzero(mask))
        stats[f"{prefix}.night"] = int(np.count_nonzero(mask & night))
        stats[f"{prefix}.ship_away"] = int(np.count_nonzero(mask & ship_away))
        stats[f"{prefix}.store_away"] = int(np.count_nonzero(mask & store_away))
        stats[f"{prefix}.amount_sum"] = int(np.abs(amount[mask]).sum())
        magnitude = np.log10(np.maximum(np.abs(amount[mask]), 1))
        stats[f"{prefix}.amount_hist"] = np.bincount(
            approximate_bins(LOG_AMOUNT_EDGES, magnitude),
            minlength=LOG_AMOUNT_EDGES.shape[0] + 1,
        )
        stats[f"{prefix}.small"] = int(
            np.count_nonzero(mask & (np.abs(amount) < SMALL_CHARGE_CENTS))
        )
        if name in BURST_GROUPS:
            stats[f"{prefix}.burst"] = _burst_members(txn["customer"][mask], txn["ts"][mask])
        if name in REPEAT_GROUPS:
            stats[f"{prefix}.same_day_repeat"] = _same_day_repeats(
                txn["customer"][mask], txn["day"][mask]
            )


def _burst_members(customer: np.ndarray, ts: np.ndarray) -> int:
    """Transactions with another one of the same account within the burst window."""
    if customer.shape[0] < 2:
        return 0
    order = np.lexsort((ts, customer))
    c, t = customer[order], ts[order]
    close = (c[1:] == c[:-1]) & (t[1:] - t[:-1] <= BURST_WINDOW_MICROS)
    member = np.zeros(c.shape[0], dtype=bool)
    member[1:] |= close
    member[:-1] |= close
    return int(np.count_nonzero(member))


def _same_day_repeats(customer: np.ndarray, day: np.ndarray) -> int:
    """Transactions sharing their (account, day) with another of the same group."""
    if customer.shape[0] == 0:
        return 0
    key = customer * np.int64(DAY_KEY_SPAN) + (day - day.min())
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return int(np.count_nonzero(counts[inverse] > 1))
