"""Statistics of one sales partition: its transactions and line items files, read with the
customers of the same block (for signup dates, demographics and home regions), decoded
once into a typed frame and measured by each family of checks in turn."""

from __future__ import annotations

from collections.abc import Callable

from synthpipe.model.schema import LINE_ITEMS_SCHEMA, TRANSACTIONS_SCHEMA
from synthpipe.validate import statistics as st

# the report draws the amount histograms on these edges; it reads them from here
from synthpipe.validate.binning import LOG_AMOUNT_EDGES as LOG_AMOUNT_EDGES
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import Catalogue, count_nulls, file_record
from synthpipe.validate.measures.associations import associations
from synthpipe.validate.measures.baskets import baskets
from synthpipe.validate.measures.frame import SalesFrame, decode_partition
from synthpipe.validate.measures.fraud import fraud
from synthpipe.validate.measures.habits import habits
from synthpipe.validate.measures.integrity import integrity
from synthpipe.validate.measures.labels import labels
from synthpipe.validate.measures.people import block_customers
from synthpipe.validate.measures.purchases import purchases
from synthpipe.validate.measures.replenishment import replenishment
from synthpipe.validate.measures.shoppers import shoppers
from synthpipe.validate.measures.signatures import signatures
from synthpipe.validate.measures.volume import volume
from synthpipe.validate.merge import Stats, merge_owned
from synthpipe.validate.reading import FileRead

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

Measure = Callable[[ValidationContext, SalesFrame], Stats]
# Integrity first and the labels last: the example messages of broken rules keep this
# order in the report (at most MAX_ISSUES of them are kept).
MEASURES: tuple[Measure, ...] = (
    integrity,
    volume,
    fraud,
    habits,
    purchases,
    shoppers,
    baskets,
    associations,
    replenishment,
    signatures,
    labels,
)


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
    people = block_customers(ctx, customers, history)
    frame = decode_partition(ctx, transactions, lines, people, catalogue, block, month)
    return merge_owned([stats, *(measure(ctx, frame) for measure in MEASURES)])
