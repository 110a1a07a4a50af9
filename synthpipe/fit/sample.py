"""A real transaction sample, read once and reduced to numeric columns for the estimators.

Required: a customer id, a time or a date, an amount. Optional: items, channel, payment
method, fraud label and type, category, and the customer's signup date (which lets the
lifecycle be fitted from signup, not from the first purchase seen), age and gender.
Identifiers become dense codes at once and the sample's text never leaves this module:
estimators see numbers and our own vocabulary only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_HOUR
from synthpipe.errors import InputError
from synthpipe.samples import read_user_table
from synthpipe.vocabulary import CHANNELS, GENDERS

REQUIRED = ("customer_id", "ts", "amount")
OPTIONAL = (
    "items",
    "channel",
    "payment_method",
    "is_fraud",
    "fraud_type",
    "category",
    "signup_date",
    "age",
    "gender",
)
COLUMNS = REQUIRED + OPTIONAL
TRUE_LABELS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_LABELS = frozenset({"false", "0", "no", "n", "f", ""})
IN_STORE_ALIASES = frozenset({"in_store", "instore", "in-store", "store", "offline", "pos"})
ONLINE_ALIASES = frozenset({"online", "web", "ecommerce", "e-commerce", "app", "internet"})
GENDER_ALIASES = {
    "female": frozenset({"female", "f", "woman", "w"}),
    "male": frozenset({"male", "m", "man"}),
    "nonbinary": frozenset({"nonbinary", "non-binary", "non binary", "nb", "x", "diverse"}),
}


@dataclass(frozen=True)
class Sample:
    """The sample as numpy columns, one row per transaction."""

    customer: np.ndarray  # dense code 0..customers-1
    day: np.ndarray  # days since 1970-01-01
    hour: np.ndarray | None  # 0..23, None when the sample has dates only
    amount: np.ndarray  # currency units
    items: np.ndarray | None
    channel: np.ndarray | None  # index into CHANNELS, -1 unknown
    payment: np.ndarray | None  # code into ``payment_labels``
    payment_labels: tuple[str, ...]  # lower-cased labels, each seen by enough customers
    fraud: np.ndarray | None  # bool
    customers: int
    category: np.ndarray | None = None  # code into ``category_labels``
    category_labels: tuple[str, ...] = ()  # lower-cased; only the spec's names leave
    signup: np.ndarray | None = None  # per customer code: signup day (days since 1970)
    fraud_type: np.ndarray | None = None  # code into ``fraud_type_labels``
    fraud_type_labels: tuple[str, ...] = ()  # lower-cased; only the spec's type names leave
    age: np.ndarray | None = None  # per customer code, from its first row (NaN: not given)
    gender: np.ndarray | None = None  # per customer code: index into GENDERS, -1 unknown

    @property
    def rows(self) -> int:
        """Number of transactions."""
        return int(self.day.shape[0])


def read_table(path: str) -> pa.Table:
    """The sample as an Arrow table, or a one-line InputError."""
    return read_user_table(path, "sample")


def renamed(table: pa.Table, mapping: dict[str, str], path: str) -> pa.Table:
    """The table with the user's columns renamed to ours (``--map OURS=THEIRS``)."""
    unknown = [ours for ours in mapping if ours not in COLUMNS]
    if unknown:
        raise InputError(f"--map {unknown[0]!r} is not one of our columns ({', '.join(COLUMNS)})")
    missing = [theirs for theirs in mapping.values() if theirs not in table.column_names]
    if missing:
        raise InputError(f"sample {path!r} has no column {missing[0]!r}")
    renames = {theirs: ours for ours, theirs in mapping.items()}
    return table.rename_columns([renames.get(n, n) for n in table.column_names])


def _times(column: pa.ChunkedArray, name: str = "ts") -> tuple[np.ndarray, np.ndarray | None]:
    """Days since 1970 and hours (None for dates only) of a time or date column."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = pc.cast(column, pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            try:
                column = pc.cast(pc.strptime(column, "%Y-%m-%d", "s"), pa.timestamp("us"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InputError(
                    f"sample column {name!r} has values that are not dates or times"
                ) from None
    if pa.types.is_date(column.type):
        days = pc.cast(pc.cast(column, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
        return days.astype(np.int64), None
    if not pa.types.is_timestamp(column.type):
        raise InputError(f"sample column {name!r} is {column.type}, not a date or a time")
    micros = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64()).to_numpy(zero_copy_only=False)
    days = micros // MICROS_PER_DAY
    within = micros - days * MICROS_PER_DAY
    if np.all(within == 0):  # midnight throughout: a date column in a time's clothing
        return days, None
    return days, (within // MICROS_PER_HOUR).astype(np.int64)


def _dense(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 of a string column's values in sorted order, and the values (only the
    distinct ones are touched in Python): what ``numpy.unique(..., return_inverse=True)``
    gives, at Arrow's speed."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    values = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(values, kind="stable")
    rank = np.empty(order.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    return rank[encoded.indices.to_numpy(zero_copy_only=False)], values[order]


def _normalised(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A label column as trimmed lower-case text (an empty value reads "none")."""
    text = pc.cast(column, pa.string()).fill_null("none")
    return pc.utf8_lower(pc.utf8_trim_whitespace(text))


def _labels(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct labels of a label column; codes leave this module, text does not."""
    return _dense(_normalised(column))


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    try:
        values = pc.cast(table.column(name), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(f"sample column {name!r} has values that are not numbers") from None
    array = values.to_numpy(zero_copy_only=False)
    if np.isnan(array).any():
        raise InputError(f"sample column {name!r} has empty values")
    return np.asarray(array)


def _vocabulary_codes(column: pa.ChunkedArray, aliases: list[frozenset[str]]) -> np.ndarray:
    """Each row's index into our vocabulary, whose word i the labels ``aliases[i]`` name
    (-1: another label; the sample's own labels do not leave this module)."""
    codes, labels = _labels(column)
    by_label = np.full(labels.shape[0], -1, dtype=np.int64)
    for index, names in enumerate(aliases):
        by_label[np.isin(labels, list(names))] = index
    return np.asarray(by_label[codes])


def _channels(table: pa.Table) -> np.ndarray:
    aliases = {"in_store": IN_STORE_ALIASES, "online": ONLINE_ALIASES}
    return _vocabulary_codes(table.column("channel"), [aliases[c] for c in CHANNELS])


def _fraud(table: pa.Table) -> np.ndarray:
    codes, labels = _labels(table.column("is_fraud"))
    if not np.isin(labels, list(TRUE_LABELS | FALSE_LABELS)).all():
        raise InputError("sample column 'is_fraud' has values that are not true or false")
    return np.asarray(np.isin(labels, list(TRUE_LABELS))[codes])


def _coded(table: pa.Table, name: str) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """An optional label column as codes into its lower-cased labels (None if absent)."""
    if name not in table.column_names:
        return None, ()
    codes, labels = _labels(table.column(name))
    return codes, tuple(str(x) for x in labels)


def _signups(table: pa.Table, customer: np.ndarray, customers: int, day: np.ndarray) -> np.ndarray:
    """Each customer's signup day (the earliest given), checked against the purchases: no
    empty value, and no customer signing up after a purchase of theirs."""
    column = table.column("signup_date")
    if column.null_count:
        raise InputError("sample column 'signup_date' has empty values")
    days, _ = _times(column, "signup_date")
    signup = np.full(customers, np.iinfo(np.int64).max)
    np.minimum.at(signup, customer, days)
    first = np.full(customers, np.iinfo(np.int64).max)
    np.minimum.at(first, customer, day)
    late = int(np.count_nonzero(signup > first))
    if late:
        raise InputError(
            f"sample column 'signup_date' is after the first purchase for {late:,} customers"
        )
    return signup


def _first_rows(customer: np.ndarray) -> np.ndarray:
    """The row index of each customer code's first row."""
    _, first = np.unique(customer, return_index=True)
    return np.asarray(first)


def _ages(table: pa.Table, first: np.ndarray) -> np.ndarray:
    """Each customer's age on its first row (NaN where the sample leaves it empty)."""
    try:
        values = pc.cast(table.column("age"), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError("sample column 'age' has values that are not numbers") from None
    ages = np.asarray(values, dtype=np.float64)[first]
    if (ages[~np.isnan(ages)] < 0).any():
        raise InputError("sample column 'age' has negative values")
    return np.asarray(ages)


def _genders(table: pa.Table, first: np.ndarray) -> np.ndarray:
    """Each customer's gender on its first row as an index into GENDERS (-1: another or
    no label)."""
    codes = _vocabulary_codes(table.column("gender"), [GENDER_ALIASES[g] for g in GENDERS])
    return np.asarray(codes[first])


def read_sample(path: str, mapping: dict[str, str], min_customers: int) -> Sample:
    """Read and check a sample: exit-2 errors name the column and the problem."""
    table = renamed(read_table(path), mapping, path)
    if table.num_rows == 0:
        raise InputError(f"sample {path!r} is empty")
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise InputError(
            f"sample {path!r} has no column {missing[0]!r} (map yours with --map"
            f" {missing[0]}=YOURS)"
        )
    if table.column("customer_id").null_count or table.column("ts").null_count:
        raise InputError("sample columns 'customer_id' and 'ts' must have no empty values")
    customer, _ = _dense(pc.cast(table.column("customer_id"), pa.string()))
    customers = int(customer.max()) + 1
    if customers < 2:
        raise InputError("sample has a single customer: nothing about customers can be learned")
    if customers < min_customers:
        raise InputError(
            f"sample has {customers} customers, fewer than --min-customers {min_customers}"
        )
    day, hour = _times(table.column("ts"))
    amount = _numbers(table, "amount")
    items = _numbers(table, "items") if "items" in table.column_names else None
    if items is not None and (items < 0).any():
        raise InputError("sample column 'items' has negative counts")
    payment, payment_labels = _coded(table, "payment_method")
    category, category_labels = _coded(table, "category")
    fraud_type, fraud_type_labels = _coded(table, "fraud_type")
    first = _first_rows(customer)  # a customer's age and gender: its first row's
    return Sample(
        customer=customer.astype(np.int64),
        day=day,
        hour=hour,
        amount=amount,
        items=items,
        channel=_channels(table) if "channel" in table.column_names else None,
        payment=payment,
        payment_labels=payment_labels,
        fraud=_fraud(table) if "is_fraud" in table.column_names else None,
        customers=customers,
        category=category,
        category_labels=category_labels,
        signup=_signups(table, customer, customers, day)
        if "signup_date" in table.column_names
        else None,
        fraud_type=fraud_type,
        fraud_type_labels=fraud_type_labels,
        age=_ages(table, first) if "age" in table.column_names else None,
        gender=_genders(table, first) if "gender" in table.column_names else None,
    )
