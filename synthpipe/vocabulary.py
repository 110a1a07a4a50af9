"""The world's fixed vocabulary: the one place that names channels, transaction types,
genders, fraud typologies and tables.

Spec, model and validation all read these names from here. The position of a name in its
tuple is its integer code in the generated arrays and the order of its Parquet dictionary,
so members are only ever appended, never reordered.
"""

from __future__ import annotations

from synthpipe.seeds import FraudKey

GENDERS = ("female", "male", "nonbinary")

CHANNELS = ("in_store", "online")
IN_STORE, ONLINE = CHANNELS.index("in_store"), CHANNELS.index("online")

TRANSACTION_TYPES = ("sale", "refund")
SALE, REFUND = TRANSACTION_TYPES.index("sale"), TRANSACTION_TYPES.index("refund")

# A fraud type's code is its stable key in synthpipe.seeds (FraudKey), by construction.
FRAUD_TYPES = tuple(key.name.lower() for key in sorted(FraudKey))

DIMENSION_TABLES = ("customers", "products", "stores")
FACT_TABLES = ("transactions", "line_items")
# customers that change: every version (SCD type 2) and the change feed by month
CHANGE_TABLES = ("customer_history", "customer_changes")
# what each customer block's accounts registered: the identity graph's entities
IDENTITY_TABLES = ("devices", "cards", "addresses")
TABLES = DIMENSION_TABLES + FACT_TABLES + CHANGE_TABLES + IDENTITY_TABLES
MONTHLY_TABLES = (*FACT_TABLES, "customer_changes")  # in month=YYYY-MM folders
REPORT_FOLDER = "_fidelity"  # the fidelity report beside the tables


def fraud_key(name: str) -> FraudKey:
    """The stable key of the fraud type called ``name``."""
    return FraudKey[name.upper()]
