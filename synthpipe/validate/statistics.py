"""Every statistic the validation computes, declared once with its merge rule.

A statistic's key is a typed value (``StatKey``): the code that computes it (per file, in
``dimensions``, ``sales``, ``reference``, ``units``) and the checks that judge it import
the same constant, so a misspelt or undeclared statistic fails type-checking or import,
not a run. How partial statistics of two files combine is declared with the key
(``Merge``), never read from its spelling. Families whose keys carry a name (a table's
columns, a signature group's features, the reference's columns) are declared by prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, NewType

from synthpipe.vocabulary import DIMENSION_TABLES, TABLES

StatKey = NewType("StatKey", str)
Stats = dict[StatKey, Any]


class Merge(Enum):
    """How two partial values of a statistic combine."""

    ADD = "add"  # counts, sums, histograms: element-wise sum
    MIN = "min"
    MAX = "max"
    FIRST = "first"  # a table that exists once (the catalogue): the first value stays
    EXTEND = "extend"  # lists of per-file records: concatenated in order
    ISSUES = "issues"  # examples of problems: concatenated, capped at MAX_ISSUES


MAX_ISSUES = 50  # examples of integrity problems kept for the report
_RULES: dict[str, Merge] = {}
_PREFIX_RULES: dict[str, Merge] = {}


def statistic(key: str, merge: Merge = Merge.ADD) -> StatKey:
    """Declare a statistic; returns its key."""
    if key in _RULES:
        raise ValueError(f"statistic {key!r} is declared twice")
    _RULES[key] = merge
    return StatKey(key)


def _family(prefix: str, merge: Merge = Merge.ADD) -> str:
    """Declare a family of statistics whose keys start with ``prefix``."""
    _PREFIX_RULES[prefix] = merge
    return prefix


def merge_rule(key: str) -> Merge:
    """The declared merge rule of ``key`` (an undeclared key is a programming error)."""
    rule = _RULES.get(key)
    if rule is not None:
        return rule
    for prefix, family_rule in _PREFIX_RULES.items():
        if key.startswith(prefix):
            return family_rule
    raise KeyError(f"statistic {key!r} is not declared in synthpipe.validate.statistics")


def declared() -> dict[str, Merge]:
    """Every declared statistic (families not included) with its merge rule."""
    return dict(_RULES)


# baskets
BASKETS_EXTRA_LINES_BY_CELL = statistic("baskets.extra_lines_by_cell")
BASKETS_SALES_BY_CELL = statistic("baskets.sales_by_cell")

# per file and run
BUSY_SECONDS = statistic("busy_seconds")
FILES = statistic("files", Merge.EXTEND)
ISSUES = statistic("issues", Merge.ISSUES)
UNREADABLE = statistic("unreadable", Merge.EXTEND)

# categories
CATEGORIES_EXPECTED = statistic("categories.expected")
CATEGORIES_EXPECTED_BY_GROUP = statistic("categories.expected_by_group")
CATEGORIES_LINES = statistic("categories.lines")
CATEGORIES_NET_AMOUNT_HIST = statistic("categories.net_amount_hist")
CATEGORIES_OBSERVED = statistic("categories.observed")
CATEGORIES_OBSERVED_BY_GROUP = statistic("categories.observed_by_group")
CATEGORIES_QUANTITY_SUM = statistic("categories.quantity_sum")
CATEGORIES_UNIT_PRICE_HIST = statistic("categories.unit_price_hist")

# customers that change (customer_history, customer_changes)
CUSTOMER_CHANGES_EXPECTED = statistic("customer_changes.expected")  # by kind
CUSTOMER_CHANGES_FED = statistic("customer_changes.fed")  # feed updates by kind
CUSTOMER_CHANGES_NEW_EXPECTED = statistic("customer_changes.new_expected")
CUSTOMER_CHANGES_NEW_ROWS = statistic("customer_changes.new_rows")
CUSTOMER_CHANGES_OBSERVED = statistic("customer_changes.observed")  # history, by kind
CUSTOMER_CHANGES_OUTSIDE_MONTH = statistic("customer_changes.outside_month")
CUSTOMER_CHANGES_ROWS = statistic("customer_changes.rows")
CUSTOMER_CHANGES_VARIANCE = statistic("customer_changes.variance")
CUSTOMER_HISTORY_BROKEN = statistic("customer_history.broken")
CUSTOMER_HISTORY_NOT_SNAPSHOT = statistic("customer_history.not_snapshot")
CUSTOMER_HISTORY_ROWS = statistic("customer_history.rows")
CUSTOMER_INCOME_STEPS = statistic("customer_history.income_steps")  # count, sum of squares

# customers
CUSTOMERS_AGE_BIRTH_MISMATCH = statistic("customers.age_birth_mismatch")
CUSTOMERS_AGE_COUNTS = statistic("customers.age_counts")
CUSTOMERS_AGE_GENDER_COUNTS = statistic("customers.age_gender_counts")
CUSTOMERS_AGE_OUTSIDE_PYRAMID = statistic("customers.age_outside_pyramid")
CUSTOMERS_BAND_CHANNEL_EXPECTED = statistic("customers.band_channel_expected")
CUSTOMERS_BY_SIGNUP = statistic("customers.by_signup")  # per day of the signup window
# the followed customers: (id, signup day, rate in store, rate online) float arrays
CUSTOMERS_SAMPLE = statistic("customers.sample", Merge.EXTEND)
CUSTOMERS_CLASS_COUNTS = statistic("customers.class_counts")
CUSTOMERS_CLASS_EXPECTED = statistic("customers.class_expected")
CUSTOMERS_CLASS_EXTRA_VARIANCE = statistic("customers.class_extra_variance")
CUSTOMERS_EMAIL_DUPLICATES = statistic("customers.email_duplicates")
CUSTOMERS_EMAIL_UNRESERVED = statistic("customers.email_unreserved")
CUSTOMERS_GENDER_COUNTS = statistic("customers.gender_counts")
CUSTOMERS_HOME_STORE_CHECKED = statistic("customers.home_store_checked")
CUSTOMERS_HOME_STORE_IN_REGION = statistic("customers.home_store_in_region")
CUSTOMERS_HOME_STORE_MISSING = statistic("customers.home_store_missing")
CUSTOMERS_ID_MAX = statistic("customers.id_max", Merge.MAX)
CUSTOMERS_ID_MIN = statistic("customers.id_min", Merge.MIN)
CUSTOMERS_ID_DUPLICATES = statistic("customers.id_duplicates")
CUSTOMERS_ID_OUTSIDE_BLOCK = statistic("customers.id_outside_block")
CUSTOMERS_INCOME_BELOW_ONE = statistic("customers.income_below_one")
CUSTOMERS_INCOME_Z_HIST = statistic("customers.income_z_hist")
CUSTOMERS_LOG_INCOME_HIST = statistic("customers.log_income_hist")
CUSTOMERS_LOYAL_BY_SEGMENT = statistic("customers.loyal_by_segment")
CUSTOMERS_RATE_BY_SIGNUP = statistic("customers.rate_by_signup")
CUSTOMERS_REGION_COUNTS = statistic("customers.region_counts")
CUSTOMERS_ROWS = statistic("customers.rows")
CUSTOMERS_SEGMENT_COUNTS = statistic("customers.segment_counts")
CUSTOMERS_SIGNUP_HIST = statistic("customers.signup_hist")
CUSTOMERS_SIGNUP_OUTSIDE_WINDOW = statistic("customers.signup_outside_window")
CUSTOMERS_UNKNOWN_LABELS = statistic("customers.unknown_labels")

# discounts
DISCOUNTS_LINES_EXPECTED = statistic("discounts.lines_expected")
DISCOUNTS_LINES_OBSERVED = statistic("discounts.lines_observed")
DISCOUNTS_VARIANCE = statistic("discounts.variance")

TRANSACTIONS_SALES_BY_TENURE = statistic("transactions.sales_by_tenure")  # by whole years

BASKETS_BRAND_PAIRS = statistic("baskets.brand_pairs")  # per category: line pairs
BASKETS_BRAND_SAME = statistic("baskets.brand_same")  # ... of the same brand
BASKETS_BRAND_GROUPS = statistic("baskets.brand_groups")  # customer-categories with a pair
# staples' reorders: per category; the sampled customers' orders (id, product, day) arrays
REPLENISH_ORDERS = statistic("replenish.orders")
TRANSACTIONS_DAILY_REORDERS = statistic("transactions.daily_reorders")  # (days, channels)
REPLENISH_SAMPLE = statistic("replenish.sample", Merge.EXTEND)
# the followed customers' ordinary first sales: (customer id, day, ts) int arrays
TRANSACTIONS_SAMPLE = statistic("transactions.sample", Merge.EXTEND)
# planted pairs (per complement pair / per substitute pair), legitimate sale lines
ASSOCIATIONS_ANCHOR_LINES = statistic("associations.anchor_lines")  # drawn anchor lines
ASSOCIATIONS_ANCHOR_BROUGHT = statistic("associations.anchor_brought")  # ... with partner
ASSOCIATIONS_OTHER_LINES = statistic("associations.other_lines")  # other drawn lines
ASSOCIATIONS_OTHER_FOLLOWED = statistic("associations.other_followed")  # ... then the partner
ASSOCIATIONS_SUBSTITUTE_LATER = statistic("associations.substitute_later")  # sum of m - 1
ASSOCIATIONS_SUBSTITUTE_LATER_PAIRS = statistic("associations.substitute_later_pairs")
ASSOCIATIONS_SUBSTITUTE_MIXED = statistic("associations.substitute_mixed")  # n1 x n2
ASSOCIATIONS_SUBSTITUTE_BASKETS = statistic("associations.substitute_baskets")  # m >= 2

# habits (legitimate behaviour that looks like fraud)
HABITS_SALES_BY_KIND = statistic("habits.sales_by_kind")  # (channel, first or repeat)
HABITS_REPEAT_GAP_HIST = statistic("habits.repeat_gap_hist")  # minutes to its own sale

# line_items
LINE_ITEMS_DISCOUNT_OUT_OF_RANGE = statistic("line_items.discount_out_of_range")
LINE_ITEMS_KEY_DUPLICATES = statistic("line_items.key_duplicates")
LINE_ITEMS_LINE_NUMBER_GAPS = statistic("line_items.line_number_gaps")
LINE_ITEMS_NET_MISMATCH = statistic("line_items.net_mismatch")
LINE_ITEMS_PRICE_MISMATCH = statistic("line_items.price_mismatch")
LINE_ITEMS_PRODUCT_FK_MISSING = statistic("line_items.product_fk_missing")
LINE_ITEMS_QUANTITY_OUT_OF_RANGE = statistic("line_items.quantity_out_of_range")
LINE_ITEMS_ROWS = statistic("line_items.rows")
LINE_ITEMS_TRANSACTION_FK_MISSING = statistic("line_items.transaction_fk_missing")

# products
PRODUCTS_CATEGORY_FIRST = statistic("products.category_first", Merge.FIRST)
PRODUCTS_CATEGORY_COUNTS = statistic("products.category_counts")
PRODUCTS_COST_ABOVE_PRICE = statistic("products.cost_above_price")
PRODUCTS_ID_MAX = statistic("products.id_max", Merge.MAX)
PRODUCTS_ID_MIN = statistic("products.id_min", Merge.MIN)
PRODUCTS_ID_DUPLICATES = statistic("products.id_duplicates")
PRODUCTS_PRICE_FIRST = statistic("products.price_first", Merge.FIRST)
PRODUCTS_PRICE_NOT_POSITIVE = statistic("products.price_not_positive")
PRODUCTS_ROWS = statistic("products.rows")
PRODUCTS_UNKNOWN_LABELS = statistic("products.unknown_labels")

# reference
REFERENCE_CROSS = statistic("reference.cross")
REFERENCE_N = statistic("reference.n")
REFERENCE_SUM = statistic("reference.sum")

# store_choice
STORE_CHOICE_HOME_REGION_EXPECTED = statistic("store_choice.home_region_expected")
STORE_CHOICE_HOME_REGION_OBSERVED = statistic("store_choice.home_region_observed")
STORE_CHOICE_IN_STORE_SALES = statistic("store_choice.in_store_sales")

# identity (the identity graph's tables, per customer block)
ADDRESSES_ROWS = statistic("addresses.rows")
CARDS_ROWS = statistic("cards.rows")
DEVICES_ROWS = statistic("devices.rows")
IDENTITY_KEY_DUPLICATES = statistic("identity.key_duplicates")  # ids repeated in a file

# stores
STORES_FORMAT_COUNTS = statistic("stores.format_counts")
STORES_ID_MAX = statistic("stores.id_max", Merge.MAX)
STORES_ID_MIN = statistic("stores.id_min", Merge.MIN)
STORES_ID_DUPLICATES = statistic("stores.id_duplicates")
STORES_OPEN_AFTER_HORIZON = statistic("stores.open_after_horizon")
STORES_REGION_COUNTS = statistic("stores.region_counts")
STORES_ROWS = statistic("stores.rows")
STORES_UNKNOWN_LABELS = statistic("stores.unknown_labels")

# transactions
TRANSACTIONS_AMOUNT_MISMATCH = statistic("transactions.amount_mismatch")
TRANSACTIONS_AMOUNT_SIGN = statistic("transactions.amount_sign")
TRANSACTIONS_BEFORE_SIGNUP = statistic("transactions.before_signup")
TRANSACTIONS_BEFORE_STORE_OPEN = statistic("transactions.before_store_open")
TRANSACTIONS_CUSTOMER_FK_MISSING = statistic("transactions.customer_fk_missing")
TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK = statistic("transactions.customer_outside_block")
TRANSACTIONS_DAILY_FRAUD = statistic("transactions.daily_fraud")
TRANSACTIONS_DAILY_LEGIT = statistic("transactions.daily_legit")
TRANSACTIONS_FRAUD_LABEL_MISMATCH = statistic("transactions.fraud_label_mismatch")
TRANSACTIONS_HOURS = statistic("transactions.hours")
TRANSACTIONS_ID_DUPLICATES = statistic("transactions.id_duplicates")
TRANSACTIONS_ID_PARTITION_MISMATCH = statistic("transactions.id_partition_mismatch")
TRANSACTIONS_IN_STORE_SALES = statistic("transactions.in_store_sales")
TRANSACTIONS_ITEMS_MISMATCH = statistic("transactions.items_mismatch")
TRANSACTIONS_PAYMENTS = statistic("transactions.payments")
TRANSACTIONS_ROWS = statistic("transactions.rows")
TRANSACTIONS_SALES_BY_BAND_CHANNEL = statistic("transactions.sales_by_band_channel")
TRANSACTIONS_SALES_BY_CLASS = statistic("transactions.sales_by_class")
TRANSACTIONS_SHIP_NULL_MISMATCH = statistic("transactions.ship_null_mismatch")
TRANSACTIONS_STORE_FK_MISSING = statistic("transactions.store_fk_missing")
TRANSACTIONS_STORE_NULL_MISMATCH = statistic("transactions.store_null_mismatch")
TRANSACTIONS_TS_OUTSIDE_CALENDAR = statistic("transactions.ts_outside_calendar")
TRANSACTIONS_TS_OUTSIDE_PARTITION = statistic("transactions.ts_outside_partition")
TRANSACTIONS_UNKNOWN_LABELS = statistic("transactions.unknown_labels")

# labels (observed, as a detection team would learn them)
LABELS_FRAUD_REPORTED = statistic("labels.fraud_reported")  # per fraud type
LABELS_FRAUD_ROWS = statistic("labels.fraud_rows")  # per fraud type
LABELS_FRIENDLY_REPORTED = statistic("labels.friendly_reported")
LABELS_LEGIT_SALES = statistic("labels.legit_sales")
LABELS_DELAY_HIST = statistic("labels.delay_hist")  # (fraud types + friendly) x log10 days
LABELS_INCONSISTENT = statistic("labels.inconsistent")

# the leakage audit (one unit computes it on its sample: synthpipe.validate.leakage)
LEAKAGE_AUDIT = statistic("leakage.audit", Merge.FIRST)

# per table, by name: the same keys as the constants above
ROWS = {t: StatKey(f"{t}.rows") for t in TABLES}
UNKNOWN_LABELS = {t: StatKey(f"{t}.unknown_labels") for t in (*DIMENSION_TABLES, "transactions")}
ID_DUPLICATES = {t: StatKey(f"{t}.id_duplicates") for t in DIMENSION_TABLES}
ID_MIN = {t: StatKey(f"{t}.id_min") for t in DIMENSION_TABLES}
ID_MAX = {t: StatKey(f"{t}.id_max") for t in DIMENSION_TABLES}

# families
_NULLS = {t: _family(f"{t}.nulls.") for t in TABLES}
_SIGNATURES = _family("signatures.")
_REFERENCE_COUNTS = _family("reference.count.")
_REFERENCE_HISTOGRAMS = _family("reference.hist.")


def null_count(table: str, column: str) -> StatKey:
    """Nulls of a non-nullable column of a table."""
    return StatKey(_NULLS[table] + column)


def null_family(table: str) -> StatKey:
    """The family of a table's null counts, as a check declares that it reads them."""
    return StatKey(_NULLS[table])


def null_total(stats: Stats, table: str) -> int:
    """Nulls of every non-nullable column of a table."""
    prefix = _NULLS[table]
    return sum(int(v) for k, v in stats.items() if k.startswith(prefix))


def signature(group: str, feature: str) -> StatKey:
    """A signature feature (count, or amount_hist) of a fraud type or legitimate group."""
    return StatKey(f"{_SIGNATURES}{group}.{feature}")


def reference_count(column: str, label: str) -> StatKey:
    """Synthetic rows of a categorical reference column with this label."""
    return StatKey(f"{_REFERENCE_COUNTS}{column}.{label}")


def reference_histogram(column: str) -> StatKey:
    """Histogram of a numeric reference column."""
    return StatKey(f"{_REFERENCE_HISTOGRAMS}{column}")


def _check_table_maps(maps: Iterable[dict[str, StatKey]]) -> None:
    for by_table in maps:
        for key in by_table.values():
            merge_rule(key)  # every per-table key is one of the declared constants


_check_table_maps((ROWS, UNKNOWN_LABELS, ID_DUPLICATES, ID_MIN, ID_MAX))
