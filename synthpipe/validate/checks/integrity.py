"""Checks of the integrity family."""

from __future__ import annotations

from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import CheckFamily, CheckInfo, stat
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
    checks = [
        zero(
            "files.readable", len(unreadable), "every file in the manifest can be read as Parquet"
        ),
        zero(
            "files.present",
            len([p for p in listed if p not in files and p not in unreadable]),
            "every file the manifest lists was found",
        ),
        zero(
            "files.checksum",
            sum(1 for p, f in files.items() if p in listed and listed[p].sha256 != f["sha256"]),
            "every file's SHA-256 matches the manifest",
        ),
        zero(
            "files.row_count",
            sum(1 for p, f in files.items() if p in listed and listed[p].rows != f["rows"]),
            "every file's row count matches the manifest",
        ),
        zero(
            "files.schema",
            sum(1 for f in files.values() if not f["schema_ok"]),
            "every file has the table's columns and types",
        ),
        zero(
            "files.synthetic_label",
            sum(1 for f in files.values() if not f["synthetic_label"]),
            "every file's metadata labels it synthetic",
        ),
    ]
    for table in ("customers", "products", "stores", "transactions", "line_items"):
        nulls = st.null_total(stats, table)
        checks.append(
            zero(f"{table}.no_nulls", nulls, f"no nulls in {table} columns that allow none")
        )
    checks.append(
        zero(
            "labels.known",
            sum(
                stat(stats, st.UNKNOWN_LABELS[t])
                for t in ("customers", "products", "stores", "transactions")
            ),
            "every category label is one the spec defines",
        )
    )
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
        zero(
            "customers.key_in_block",
            stat(stats, st.CUSTOMERS_ID_OUTSIDE_BLOCK),
            "each customer file holds its block's ids",
        ),
        zero(
            "transactions.key_unique",
            stat(stats, st.TRANSACTIONS_ID_DUPLICATES)
            + stat(stats, st.TRANSACTIONS_ID_PARTITION_MISMATCH),
            "transaction ids are unique per file and carry their partition's day and block,"
            " so they are unique overall",
        ),
        zero(
            "line_items.key_unique",
            stat(stats, st.LINE_ITEMS_KEY_DUPLICATES),
            "(transaction_id, line_number) is unique",
        ),
        zero(
            "transactions.customer_fk",
            stat(stats, st.TRANSACTIONS_CUSTOMER_FK_MISSING),
            "every customer_id resolves",
        ),
        zero(
            "transactions.store_fk",
            stat(stats, st.TRANSACTIONS_STORE_FK_MISSING),
            "every store_id resolves",
        ),
        zero(
            "line_items.transaction_fk",
            stat(stats, st.LINE_ITEMS_TRANSACTION_FK_MISSING),
            "every line's transaction exists (in its partition)",
        ),
        zero(
            "line_items.product_fk",
            stat(stats, st.LINE_ITEMS_PRODUCT_FK_MISSING),
            "every product_id resolves",
        ),
        zero(
            "customers.home_store_fk",
            stat(stats, st.CUSTOMERS_HOME_STORE_MISSING),
            "every home_store_id resolves",
        ),
        zero(
            "transactions.in_partition",
            stat(stats, st.TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK)
            + stat(stats, st.TRANSACTIONS_TS_OUTSIDE_PARTITION),
            "each transaction sits in its customer block's and month's partition",
        ),
        zero(
            "transactions.ts_in_calendar",
            stat(stats, st.TRANSACTIONS_TS_OUTSIDE_CALENDAR),
            "every timestamp is inside calendar.start..calendar.end",
        ),
        zero(
            "transactions.after_signup",
            stat(stats, st.TRANSACTIONS_BEFORE_SIGNUP),
            "no customer buys before signup",
        ),
        zero(
            "transactions.after_store_open",
            stat(stats, st.TRANSACTIONS_BEFORE_STORE_OPEN),
            "no store sells before its open date",
        ),
        zero(
            "transactions.nullability",
            stat(stats, st.TRANSACTIONS_STORE_NULL_MISMATCH)
            + stat(stats, st.TRANSACTIONS_SHIP_NULL_MISMATCH)
            + stat(stats, st.TRANSACTIONS_FRAUD_LABEL_MISMATCH),
            "store_id null exactly online, ship_region null exactly in store,"
            " fraud_type null exactly when not fraud",
        ),
        zero(
            "transactions.amount_is_sum",
            stat(stats, st.TRANSACTIONS_AMOUNT_MISMATCH)
            + stat(stats, st.TRANSACTIONS_ITEMS_MISMATCH)
            + stat(stats, st.LINE_ITEMS_LINE_NUMBER_GAPS),
            "amount = sum of line net amounts, items = number of lines numbered 1..items",
        ),
        zero(
            st.TRANSACTIONS_AMOUNT_SIGN,
            stat(stats, st.TRANSACTIONS_AMOUNT_SIGN),
            "sales are non-negative, refunds non-positive",
        ),
        zero(
            "line_items.net_amount",
            stat(stats, st.LINE_ITEMS_NET_MISMATCH),
            "net_amount = quantity x unit_price - discount, to the cent",
        ),
        zero(
            "line_items.unit_price",
            stat(stats, st.LINE_ITEMS_PRICE_MISMATCH),
            "unit_price is the product's list price",
        ),
        zero(
            "line_items.ranges",
            stat(stats, st.LINE_ITEMS_QUANTITY_OUT_OF_RANGE)
            + stat(stats, st.LINE_ITEMS_DISCOUNT_OUT_OF_RANGE),
            "quantities non-zero, signed by type, under 1,000; discounts within the line",
        ),
        zero(
            "customers.ranges",
            stat(stats, st.CUSTOMERS_AGE_OUTSIDE_PYRAMID)
            + stat(stats, st.CUSTOMERS_INCOME_BELOW_ONE)
            + stat(stats, st.CUSTOMERS_SIGNUP_OUTSIDE_WINDOW)
            + stat(stats, st.CUSTOMERS_AGE_BIRTH_MISMATCH),
            "ages inside the pyramid and match birth dates, incomes >= 1, signups in the window",
        ),
        zero(
            "customers.reserved_emails",
            stat(stats, st.CUSTOMERS_EMAIL_UNRESERVED) + stat(stats, st.CUSTOMERS_EMAIL_DUPLICATES),
            "every e-mail is unique and uses an RFC 2606 reserved domain",
        ),
        zero(
            "products.ranges",
            stat(stats, st.PRODUCTS_PRICE_NOT_POSITIVE) + stat(stats, st.PRODUCTS_COST_ABOVE_PRICE),
            "list prices positive, unit cost between 0 and the list price",
        ),
        zero(
            "stores.ranges",
            stat(stats, st.STORES_OPEN_AFTER_HORIZON),
            "stores open no later than the world's horizon",
        ),
    ]
    return checks


_FILES = (st.FILES, st.UNREADABLE)
CHECKS: tuple[CheckInfo, ...] = (
    CheckInfo(
        "files.readable", "integrity", "every file in the manifest can be read as Parquet", _FILES
    ),
    CheckInfo("files.present", "integrity", "every file the manifest lists was found", _FILES),
    CheckInfo("files.checksum", "integrity", "every file's SHA-256 matches the manifest", _FILES),
    CheckInfo(
        "files.row_count", "integrity", "every file's row count matches the manifest", _FILES
    ),
    CheckInfo("files.schema", "integrity", "every file has the table's columns and types", _FILES),
    CheckInfo(
        "files.synthetic_label", "integrity", "every file's metadata labels it synthetic", _FILES
    ),
    *(
        CheckInfo(
            f"{table}.no_nulls",
            "integrity",
            f"no nulls in {table} columns that allow none",
            (st.null_family(table),),
        )
        for table in TABLES
    ),
    CheckInfo(
        "labels.known",
        "integrity",
        "every category label is one the spec defines",
        tuple(st.UNKNOWN_LABELS.values()),
    ),
    *(
        info
        for table in DIMENSION_TABLES
        for info in (
            CheckInfo(
                f"{table}.row_count",
                "integrity",
                f"{table} has the rows the spec plans",
                (st.ROWS[table],),
            ),
            CheckInfo(
                f"{table}.key_unique",
                "integrity",
                f"{table} ids are unique and run 1..rows",
                (st.ID_DUPLICATES[table], st.ID_MIN[table], st.ID_MAX[table], st.ROWS[table]),
            ),
        )
    ),
    CheckInfo(
        "customers.key_in_block",
        "integrity",
        "each customer file holds its block's ids",
        (st.CUSTOMERS_ID_OUTSIDE_BLOCK,),
    ),
    CheckInfo(
        "transactions.key_unique",
        "integrity",
        "transaction ids are unique per file and carry their partition's day and block",
        (st.TRANSACTIONS_ID_DUPLICATES, st.TRANSACTIONS_ID_PARTITION_MISMATCH),
    ),
    CheckInfo(
        "line_items.key_unique",
        "integrity",
        "(transaction_id, line_number) is unique",
        (st.LINE_ITEMS_KEY_DUPLICATES,),
    ),
    CheckInfo(
        "transactions.customer_fk",
        "integrity",
        "every customer_id resolves",
        (st.TRANSACTIONS_CUSTOMER_FK_MISSING,),
    ),
    CheckInfo(
        "transactions.store_fk",
        "integrity",
        "every store_id resolves",
        (st.TRANSACTIONS_STORE_FK_MISSING,),
    ),
    CheckInfo(
        "line_items.transaction_fk",
        "integrity",
        "every line's transaction exists (in its partition)",
        (st.LINE_ITEMS_TRANSACTION_FK_MISSING,),
    ),
    CheckInfo(
        "line_items.product_fk",
        "integrity",
        "every product_id resolves",
        (st.LINE_ITEMS_PRODUCT_FK_MISSING,),
    ),
    CheckInfo(
        "customers.home_store_fk",
        "integrity",
        "every home_store_id resolves",
        (st.CUSTOMERS_HOME_STORE_MISSING,),
    ),
    CheckInfo(
        "transactions.in_partition",
        "integrity",
        "each transaction sits in its customer block's and month's partition",
        (st.TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK, st.TRANSACTIONS_TS_OUTSIDE_PARTITION),
    ),
    CheckInfo(
        "transactions.ts_in_calendar",
        "integrity",
        "every timestamp is inside calendar.start..calendar.end",
        (st.TRANSACTIONS_TS_OUTSIDE_CALENDAR,),
    ),
    CheckInfo(
        "transactions.after_signup",
        "integrity",
        "no customer buys before signup",
        (st.TRANSACTIONS_BEFORE_SIGNUP,),
    ),
    CheckInfo(
        "transactions.after_store_open",
        "integrity",
        "no store sells before its open date",
        (st.TRANSACTIONS_BEFORE_STORE_OPEN,),
    ),
    CheckInfo(
        "transactions.nullability",
        "integrity",
        "store_id null exactly online, ship_region exactly in store, fraud_type exactly when"
        " not fraud",
        (
            st.TRANSACTIONS_FRAUD_LABEL_MISMATCH,
            st.TRANSACTIONS_SHIP_NULL_MISMATCH,
            st.TRANSACTIONS_STORE_NULL_MISMATCH,
        ),
    ),
    CheckInfo(
        "transactions.amount_is_sum",
        "integrity",
        "amount = sum of line net amounts, items = number of lines numbered 1..items",
        (
            st.LINE_ITEMS_LINE_NUMBER_GAPS,
            st.TRANSACTIONS_AMOUNT_MISMATCH,
            st.TRANSACTIONS_ITEMS_MISMATCH,
        ),
    ),
    CheckInfo(
        "transactions.amount_sign",
        "integrity",
        "sales are non-negative, refunds non-positive",
        (st.TRANSACTIONS_AMOUNT_SIGN,),
    ),
    CheckInfo(
        "line_items.net_amount",
        "integrity",
        "net_amount = quantity x unit_price - discount, to the cent",
        (st.LINE_ITEMS_NET_MISMATCH,),
    ),
    CheckInfo(
        "line_items.unit_price",
        "integrity",
        "unit_price is the product's list price",
        (st.LINE_ITEMS_PRICE_MISMATCH,),
    ),
    CheckInfo(
        "line_items.ranges",
        "integrity",
        "quantities non-zero, signed by type, under 1,000; discounts within the line",
        (st.LINE_ITEMS_DISCOUNT_OUT_OF_RANGE, st.LINE_ITEMS_QUANTITY_OUT_OF_RANGE),
    ),
    CheckInfo(
        "customers.ranges",
        "integrity",
        "ages inside the pyramid and match birth dates, incomes >= 1, signups in the window",
        (
            st.CUSTOMERS_AGE_BIRTH_MISMATCH,
            st.CUSTOMERS_AGE_OUTSIDE_PYRAMID,
            st.CUSTOMERS_INCOME_BELOW_ONE,
            st.CUSTOMERS_SIGNUP_OUTSIDE_WINDOW,
        ),
    ),
    CheckInfo(
        "customers.reserved_emails",
        "integrity",
        "every e-mail is unique and uses an RFC 2606 reserved domain",
        (st.CUSTOMERS_EMAIL_DUPLICATES, st.CUSTOMERS_EMAIL_UNRESERVED),
    ),
    CheckInfo(
        "products.ranges",
        "integrity",
        "list prices positive, unit cost between 0 and the list price",
        (st.PRODUCTS_COST_ABOVE_PRICE, st.PRODUCTS_PRICE_NOT_POSITIVE),
    ),
    CheckInfo(
        "stores.ranges",
        "integrity",
        "stores open no later than the world's horizon",
        (st.STORES_OPEN_AFTER_HORIZON,),
    ),
)

FAMILY = CheckFamily(
    order=10,
    judge=integrity_checks,
    checks=CHECKS,
)
