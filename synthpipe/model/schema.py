"""Arrow schemas of the tables, with a description on every column.

Money is decimal128 with scale 2 (exact cents); timestamps are timestamp[us] in the local
wall-clock time of the sale (no time zone); categories are dictionary-encoded with a
dictionary fixed by the spec, so every file of a table has the same dictionary.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from synthpipe.model.money import PRICE_PRECISION, money_type

TIMESTAMP = pa.timestamp("us")
TIME_ZONE_CONVENTION = "local wall-clock time of the store or of the online customer; no zone"
DICTIONARY_INDEX = pa.int32()


def dictionary_type() -> pa.DictionaryType:
    """The dictionary-encoded string type of every category column."""
    return pa.dictionary(DICTIONARY_INDEX, pa.string())


def _field(name: str, kind: pa.DataType, description: str, nullable: bool = False) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"description": description})


def dictionary_array(
    indices: np.ndarray, values: Sequence[str], null_mask: np.ndarray | None = None
) -> pa.DictionaryArray:
    """Dictionary array of ``values[indices]`` (int32 indices, optional nulls).

    Repeated labels in ``values`` (two states with a "Portland") are merged, so the
    dictionary holds each label once, in order of first appearance.
    """
    unique: dict[str, int] = {}
    remap = np.asarray([unique.setdefault(v, len(unique)) for v in values], dtype=np.int32)
    codes = remap[np.asarray(indices, dtype=np.int64)] if len(unique) < len(values) else indices
    index = pa.array(np.asarray(codes, dtype=np.int32), pa.int32(), mask=null_mask)
    return pa.DictionaryArray.from_arrays(index, pa.array(list(unique), pa.string()))


CUSTOMERS_SCHEMA = pa.schema(
    [
        _field("customer_id", pa.int64(), "unique customer key, 1-based"),
        _field("first_name", dictionary_type(), "given name (Faker pool of the customer's locale)"),
        _field("last_name", dictionary_type(), "family name (Faker pool of the customer's locale)"),
        _field("email", pa.string(), "unique address derived from the name, RFC 2606 domains only"),
        _field("gender", dictionary_type(), "female, male or nonbinary"),
        _field("birth_date", pa.date32(), "date of birth"),
        _field("age", pa.int16(), "age in whole years on calendar.start"),
        _field("income", pa.int32(), "annual personal income, whole currency units"),
        _field("segment", dictionary_type(), "customer segment"),
        _field("region", dictionary_type(), "home region"),
        _field("state", dictionary_type(), "home state / province"),
        _field("city", dictionary_type(), "home city"),
        _field("postcode", pa.string(), "postal code (Faker, fictional)"),
        _field("street_address", pa.string(), "street and number (Faker, fictional)"),
        _field("signup_date", pa.date32(), "account creation; no purchase happens before it"),
        _field("home_store_id", pa.int32(), "store in the home region, open at signup"),
        _field("is_loyalty_member", pa.bool_(), "loyalty programme member"),
        _field("locale", dictionary_type(), "Faker locale the names come from"),
    ]
)

# Customers that change (docs/change-data.md): every version of every customer (SCD
# type 2), and the change feed by month.
CUSTOMER_HISTORY_SCHEMA = pa.schema(
    [
        *CUSTOMERS_SCHEMA,
        _field("version", pa.int16(), "0 at signup, then one more per change"),
        _field("valid_from", TIMESTAMP, "when this version begins"),
        _field("valid_to", TIMESTAMP, "when the next version begins; null: current", True),
        _field("is_current", pa.bool_(), "the customer's version at the calendar's end"),
    ]
)
CHANGE_OPERATIONS = ("snapshot", "insert", "update")
CUSTOMER_CHANGES_SCHEMA = pa.schema(
    [
        CUSTOMERS_SCHEMA.field("customer_id"),
        _field("version", pa.int16(), "the customer's version this change makes"),
        _field("change_ts", TIMESTAMP, "when the change happens"),
        _field("operation", dictionary_type(), "snapshot (at calendar.start), insert, update"),
        _field("changed_columns", dictionary_type(), "comma-separated; empty for a new row"),
        *(f for f in CUSTOMERS_SCHEMA if f.name != "customer_id"),
    ]
)

PRODUCTS_SCHEMA = pa.schema(
    [
        _field("product_id", pa.int32(), "unique product key, 1-based"),
        _field("name", pa.string(), "product name"),
        _field("category", dictionary_type(), "category"),
        _field("subcategory", dictionary_type(), "subcategory within the category"),
        _field("brand", dictionary_type(), "brand (synthetic)"),
        _field("list_price", money_type(PRICE_PRECISION), "list price per unit"),
        _field(
            "unit_cost", money_type(PRICE_PRECISION), "cost per unit, list price x (1 - margin)"
        ),
    ]
)

STORES_SCHEMA = pa.schema(
    [
        _field("store_id", pa.int32(), "unique store key, 1-based"),
        _field("name", pa.string(), "store name"),
        _field("format", dictionary_type(), "store format"),
        _field("region", dictionary_type(), "region"),
        _field("state", dictionary_type(), "state / province"),
        _field("city", dictionary_type(), "city"),
        _field("open_date", pa.date32(), "first trading day; no sale happens before it"),
    ]
)

TRANSACTIONS_SCHEMA = pa.schema(
    [
        _field(
            "transaction_id", pa.int64(), "unique key: day | customer block | scrambled sequence"
        ),
        _field("ts", TIMESTAMP, f"time of the transaction, {TIME_ZONE_CONVENTION}"),
        _field("customer_id", pa.int64(), "customer (account) charged or refunded"),
        _field("store_id", pa.int32(), "store; null for online", nullable=True),
        _field("channel", dictionary_type(), "in_store or online"),
        _field("transaction_type", dictionary_type(), "sale or refund"),
        _field("payment_method", dictionary_type(), "payment method"),
        _field("items", pa.int16(), "number of line items"),
        _field("amount", money_type(), "sum of the line items' net amounts; negative for refunds"),
        _field(
            "ship_region", dictionary_type(), "online delivery region; null in store", nullable=True
        ),
        _field("is_fraud", pa.bool_(), "label: fraud-style rare event"),
        _field(
            "fraud_type", dictionary_type(), "fraud typology; null when not fraud", nullable=True
        ),
        _field(
            "fraud_reported",
            pa.bool_(),
            "observed label: ever reported as fraud (missed fraud is false, friendly fraud true)",
        ),
        _field(
            "fraud_reported_at",
            TIMESTAMP,
            "when the report arrives (same clock as ts); null when never reported",
            nullable=True,
        ),
        # the identity graph (synthpipe.model.identity), appended so no column moves
        _field("device_id", pa.int64(), "device of an online transaction; null in store", True),
        _field(
            "ip_id",
            pa.int64(),
            "network address of an online transaction (opaque; a household's connection or"
            " a public one shared by many accounts); null in store",
            True,
        ),
        _field("card_id", pa.int64(), "card charged (card payments only); null otherwise", True),
        _field(
            "ship_address_id",
            pa.int64(),
            "shipping address of an online sale; null in store and on refunds",
            True,
        ),
    ]
)

LINE_ITEMS_SCHEMA = pa.schema(
    [
        _field("transaction_id", pa.int64(), "transaction the line belongs to"),
        _field("line_number", pa.int16(), "1-based position in the basket"),
        _field("product_id", pa.int32(), "product"),
        _field("quantity", pa.int16(), "units; negative on refunds"),
        _field("unit_price", money_type(PRICE_PRECISION), "list price per unit at the time"),
        _field("discount", money_type(), "discount on the line (promotion or markdown)"),
        _field("net_amount", money_type(), "quantity x unit_price - discount"),
    ]
)

# The identity graph's dimension tables, per customer block: what each account registered.
DEVICES_SCHEMA = pa.schema(
    [
        _field("device_id", pa.int64(), "unique device key (opaque)"),
        _field("customer_id", pa.int64(), "the account that registered the device"),
    ]
)
CARDS_SCHEMA = pa.schema(
    [
        _field("card_id", pa.int64(), "unique card token (opaque)"),
        _field("customer_id", pa.int64(), "the account that registered the card"),
    ]
)
ADDRESSES_SCHEMA = pa.schema(
    [
        _field("address_id", pa.int64(), "unique shipping address key (opaque)"),
        _field("customer_id", pa.int64(), "the account that registered the address"),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "customers": CUSTOMERS_SCHEMA,
    "customer_history": CUSTOMER_HISTORY_SCHEMA,
    "customer_changes": CUSTOMER_CHANGES_SCHEMA,
    "products": PRODUCTS_SCHEMA,
    "stores": STORES_SCHEMA,
    "transactions": TRANSACTIONS_SCHEMA,
    "line_items": LINE_ITEMS_SCHEMA,
    "devices": DEVICES_SCHEMA,
    "cards": CARDS_SCHEMA,
    "addresses": ADDRESSES_SCHEMA,
}
