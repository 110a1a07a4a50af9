"""Checks of the integrity family."""

from __future__ import annotations

from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import CheckFamily, CheckInfo, integrity, stat
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import (
    Check,
    at_most,
    zero,
)
from synthpipe.validate.listing import Listing
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import DIMENSION_TABLES, TABLES

# --- integrity -------------------------------------------------------------------------


def integrity_checks(ctx: ValidationContext, stats: Stats, listing: Listing) -> list[Check]:
    """Schema, labels, checksums, counts, nulls, keys, foreign keys, ranges, arithmetic."""
    spec = ctx.spec
    files = {f["path"]: f for f in stats.get(st.FILES, [])}
    # keyed by where each file was read (the listing resolves a pending refresh's files)
    listed = {f.path: f for f in listing.files}
    unreadable = stats.get(st.UNREADABLE, [])
    # files whose content was read: one that did not parse is judged by files.readable only
    parsed = {p: f for p, f in files.items() if f.get("schema_problem") not in NOT_PARSED}
    offending = {
        "files.readable": sorted(unreadable),
        "files.present": sorted(p for p in listed if p not in files and p not in unreadable),
        "files.unlisted": sorted(listing.unlisted),
        "files.checksum": sorted(
            p for p, f in files.items() if p in listed and listed[p].sha256 != f["sha256"]
        ),
        "files.row_count": sorted(
            p for p, f in parsed.items() if p in listed and listed[p].rows != f["rows"]
        ),
        "files.schema": sorted(p for p, f in parsed.items() if not f["schema_ok"]),
        "files.synthetic_label": sorted(p for p, f in parsed.items() if not f["synthetic_label"]),
    }
    checks = [
        zero(info.name, len(offending[info.name]), _naming(info.summary, offending[info.name]))
        for info in FILE_CHECKS
    ]
    for table in TABLES:
        nulls = st.null_total(stats, table)
        checks.append(
            zero(f"{table}.no_nulls", nulls, f"no nulls in {table} columns that allow none")
        )
    checks.append(zero(LABELS.name, sum(stat(stats, k) for k in LABELS.reads), LABELS.summary))
    counts = {
        "customers": spec.customers.count,
        "products": spec.products.count,
        "stores": spec.stores.count,
    }
    for table, expected in counts.items():
        rows = stat(stats, st.ROWS[table])
        unique_dense = (
            stat(stats, st.ID_DUPLICATES[table]) == 0
            and stat(stats, st.ID_MIN[table]) == 1
            and stat(stats, st.ID_MAX[table]) == rows
        )
        checks.append(
            at_most(
                f"{table}.row_count",
                "integrity",
                "|rows - planned|",
                abs(rows - expected),
                0,
                f"{table} has the {expected:,} rows the spec plans",
            )
        )
        checks.append(
            zero(
                f"{table}.key_unique",
                0 if unique_dense else max(1, stat(stats, st.ID_DUPLICATES[table])),
                f"{table} ids are unique and run 1..rows",
            )
        )
    checks += [
        zero(info.name, sum(stat(stats, key) for key in info.reads), info.summary)
        for info in COUNTED
    ]
    return checks


def _naming(summary: str, paths: list[str]) -> str:
    """The check's line, naming the first files that break it (so a failure says where)."""
    if not paths:
        return summary
    more = f" and {len(paths) - SHOWN_FILES} more" if len(paths) > SHOWN_FILES else ""
    return f"{summary}; not so: {', '.join(paths[:SHOWN_FILES])}{more}"


# Checks whose value is the number of violations the statistics they read count: each is
# declared once here, and the judge emits it from the declaration.
LABELS = integrity(
    "labels.known",
    "every category label is one the spec defines",
    *st.UNKNOWN_LABELS.values(),
)
COUNTED: tuple[CheckInfo, ...] = (
    integrity(
        "customers.key_in_block",
        "each customer file holds its block's ids",
        st.CUSTOMERS_ID_OUTSIDE_BLOCK,
    ),
    integrity(
        "transactions.key_unique",
        "transaction ids are unique per file and carry their partition's day and block,"
        " so they are unique overall",
        st.TRANSACTIONS_ID_DUPLICATES,
        st.TRANSACTIONS_ID_PARTITION_MISMATCH,
    ),
    integrity(
        "line_items.key_unique",
        "(transaction_id, line_number) is unique",
        st.LINE_ITEMS_KEY_DUPLICATES,
    ),
    integrity(
        "transactions.customer_fk",
        "every customer_id resolves",
        st.TRANSACTIONS_CUSTOMER_FK_MISSING,
    ),
    integrity("transactions.store_fk", "every store_id resolves", st.TRANSACTIONS_STORE_FK_MISSING),
    integrity(
        "line_items.transaction_fk",
        "every line's transaction exists (in its partition)",
        st.LINE_ITEMS_TRANSACTION_FK_MISSING,
    ),
    integrity(
        "line_items.product_fk", "every product_id resolves", st.LINE_ITEMS_PRODUCT_FK_MISSING
    ),
    integrity(
        "customers.home_store_fk", "every home_store_id resolves", st.CUSTOMERS_HOME_STORE_MISSING
    ),
    integrity(
        "transactions.in_partition",
        "each transaction sits in its customer block's and month's partition",
        st.TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK,
        st.TRANSACTIONS_TS_OUTSIDE_PARTITION,
    ),
    integrity(
        "transactions.ts_in_calendar",
        "every timestamp is inside calendar.start..calendar.end",
        st.TRANSACTIONS_TS_OUTSIDE_CALENDAR,
    ),
    integrity(
        "transactions.after_signup", "no customer buys before signup", st.TRANSACTIONS_BEFORE_SIGNUP
    ),
    integrity(
        "transactions.after_store_open",
        "no store sells before its open date",
        st.TRANSACTIONS_BEFORE_STORE_OPEN,
    ),
    integrity(
        "transactions.nullability",
        "store_id null exactly online, ship_region null exactly in store,"
        " fraud_type null exactly when not fraud",
        st.TRANSACTIONS_FRAUD_LABEL_MISMATCH,
        st.TRANSACTIONS_SHIP_NULL_MISMATCH,
        st.TRANSACTIONS_STORE_NULL_MISMATCH,
    ),
    integrity(
        "transactions.amount_is_sum",
        "amount = sum of line net amounts, items = number of lines numbered 1..items",
        st.LINE_ITEMS_LINE_NUMBER_GAPS,
        st.TRANSACTIONS_AMOUNT_MISMATCH,
        st.TRANSACTIONS_ITEMS_MISMATCH,
    ),
    integrity(
        "transactions.amount_sign",
        "sales are non-negative, refunds non-positive",
        st.TRANSACTIONS_AMOUNT_SIGN,
    ),
    integrity(
        "line_items.net_amount",
        "net_amount = quantity x unit_price - discount, to the cent",
        st.LINE_ITEMS_NET_MISMATCH,
    ),
    integrity(
        "line_items.unit_price",
        "unit_price is the product's list price",
        st.LINE_ITEMS_PRICE_MISMATCH,
    ),
    integrity(
        "line_items.ranges",
        "quantities non-zero, signed by type, under 1,000; discounts within the line",
        st.LINE_ITEMS_DISCOUNT_OUT_OF_RANGE,
        st.LINE_ITEMS_QUANTITY_OUT_OF_RANGE,
    ),
    integrity(
        "customers.ranges",
        "ages inside the pyramid and match birth dates, incomes >= 1, signups in the window",
        st.CUSTOMERS_AGE_BIRTH_MISMATCH,
        st.CUSTOMERS_AGE_OUTSIDE_PYRAMID,
        st.CUSTOMERS_INCOME_BELOW_ONE,
        st.CUSTOMERS_SIGNUP_OUTSIDE_WINDOW,
    ),
    integrity(
        "customers.reserved_emails",
        "every e-mail is unique and uses an RFC 2606 reserved domain",
        st.CUSTOMERS_EMAIL_DUPLICATES,
        st.CUSTOMERS_EMAIL_UNRESERVED,
    ),
    integrity(
        "products.ranges",
        "list prices positive, unit cost between 0 and the list price",
        st.PRODUCTS_COST_ABOVE_PRICE,
        st.PRODUCTS_PRICE_NOT_POSITIVE,
    ),
    integrity(
        "stores.ranges",
        "stores open no later than the world's horizon",
        st.STORES_OPEN_AFTER_HORIZON,
    ),
)
_FILES = (st.FILES, st.UNREADABLE)
SHOWN_FILES = 3  # files a failing file check names
NOT_PARSED = ("unreadable", "unread")  # units.py: records of files whose content was not read
FILE_CHECKS: tuple[CheckInfo, ...] = (
    integrity("files.readable", "every file in the manifest can be read as Parquet", *_FILES),
    integrity("files.present", "every file the manifest lists was found", *_FILES),
    integrity(
        "files.unlisted",
        "every data file in the table folders is one the manifest lists",
        *_FILES,
    ),
    integrity("files.checksum", "every file's SHA-256 matches the manifest", *_FILES),
    integrity("files.row_count", "every file's row count matches the manifest", *_FILES),
    integrity("files.schema", "every file has the table's columns and types", *_FILES),
    integrity("files.synthetic_label", "every file's metadata labels it synthetic", *_FILES),
)
CHECKS: tuple[CheckInfo, ...] = (
    *FILE_CHECKS,
    *(
        integrity(
            f"{table}.no_nulls",
            f"no nulls in {table} columns that allow none",
            st.null_family(table),
        )
        for table in TABLES
    ),
    LABELS,
    *(
        info
        for table in DIMENSION_TABLES
        for info in (
            integrity(f"{table}.row_count", f"{table} has the rows the spec plans", st.ROWS[table]),
            integrity(
                f"{table}.key_unique",
                f"{table} ids are unique and run 1..rows",
                st.ID_DUPLICATES[table],
                st.ID_MIN[table],
                st.ID_MAX[table],
                st.ROWS[table],
            ),
        )
    ),
    *COUNTED,
)

FAMILY = CheckFamily(
    order=10,
    judge=integrity_checks,
    checks=CHECKS,
)
