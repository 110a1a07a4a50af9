"""A real transaction sample, read once and reduced to numeric columns for the estimators.

Required: a customer id, a time or a date, an amount. Optional: items, channel, payment
method, fraud label and type, category, and the customer's signup date (which lets the
lifecycle be fitted from signup, not from the first purchase seen), age and gender.
Identifiers become dense codes at once and the sample's text never leaves this module:
estimators see numbers and our own vocabulary only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_HOUR
from synthpipe.errors import InputError
from synthpipe.samples import PARQUET_SUFFIXES, read_user_table
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
# A CSV is parsed in blocks of this many bytes (pyarrow's default), in parallel; a row
# longer than a block (one 10 MB cell, even in a column the fit does not use) "straddles"
# blocks, and the file is read again with blocks CSV_BLOCK_GROWTH times larger, up to
# MAX_CSV_BLOCK_BYTES (no row of transactions is that long).
CSV_BLOCK_BYTES = 2**20
CSV_BLOCK_GROWTH = 16
MAX_CSV_BLOCK_BYTES = 2**30
STRADDLING = "straddling object"  # pyarrow's words for a row longer than its block
# Time columns read from a CSV as text, so their UTC offsets are seen (pyarrow's own
# reading turns a column with offsets into UTC instants, and the offsets are gone).
TIME_COLUMNS = ("ts", "signup_date")
# A time's wall-clock part and its UTC offset ("Z", "+05:00", "-0330", "+05").
ZONED_TIME = (
    r"^(?P<wall>.*\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)$"
)
UTC_OFFSET = "+00:00"
# An identifier column: text or numbers (made text), or bytes (UUIDs kept as they are)
ID_CASTS = (
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_string_view,
    pa.types.is_integer,
    pa.types.is_floating,
)
ID_BYTES = (
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_fixed_size_binary,
    pa.types.is_binary_view,
)
ID_TYPES = "text, a number or bytes (string, integer, floating point or binary)"


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
    notes: tuple[str, ...] = ()  # how the sample was read where it could surprise (offsets)

    @property
    def rows(self) -> int:
        """Number of transactions."""
        return int(self.day.shape[0])


def read_table(path: str, mapping: dict[str, str] | None = None) -> pa.Table:
    """The sample as an Arrow table, or a one-line InputError. A CSV's time columns (named
    through ``mapping``) stay text, their offsets for ``_times`` to see; a row longer than
    pyarrow's block is read with larger blocks."""
    file = Path(path)
    if not file.is_file() or file.suffix.lower() in PARQUET_SUFFIXES:
        return read_user_table(path, "sample")
    names = [(mapping or {}).get(name, name) for name in TIME_COLUMNS]
    convert = pv.ConvertOptions(column_types={name: pa.string() for name in names})
    block = CSV_BLOCK_BYTES
    while True:
        try:
            table = pv.read_csv(
                file, read_options=pv.ReadOptions(block_size=block), convert_options=convert
            )
            break
        except pa.ArrowInvalid as exc:
            if STRADDLING in str(exc) and block < min(MAX_CSV_BLOCK_BYTES, file.stat().st_size):
                block = min(block * CSV_BLOCK_GROWTH, MAX_CSV_BLOCK_BYTES)
                continue
            if STRADDLING in str(exc):
                raise InputError(
                    f"sample {path!r} cannot be read: a row is longer than"
                    f" {MAX_CSV_BLOCK_BYTES // 2**20:,} MiB"
                ) from None
            raise InputError(f"sample {path!r} cannot be read: {_first_line(exc)}") from None
        except OSError as exc:
            raise InputError(f"sample {path!r} cannot be read: {_first_line(exc)}") from None
    return _empty_as_null(table, names, convert.null_values)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _empty_as_null(table: pa.Table, names: list[str], null_values: list[str]) -> pa.Table:
    """The text time columns with the CSV reader's null spellings ("", "NA", ...) made
    null, as they are when pyarrow reads the column as times itself."""
    for name in names:
        if name in table.column_names:
            column = table.column(name)
            missing = pc.is_in(column, value_set=pa.array(null_values, pa.string()))
            index = table.column_names.index(name)
            table = table.set_column(index, name, pc.if_else(missing, None, column))
    return table


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


def _times(
    column: pa.ChunkedArray, name: str = "ts", notes: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Days since 1970 and hours (None for dates only) of a time or date column. Text
    with UTC offsets is read as each row's wall-clock time (a note in ``notes`` names the
    column and the offsets when any is not +00:00)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        try:
            column = pc.cast(column, pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            column = _parsed_text_times(column, name, notes)
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


def _parsed_text_times(
    column: pa.ChunkedArray, name: str, notes: list[str] | None
) -> pa.ChunkedArray:
    """Times given as text, offsets dropped (wall-clock time), or dates; else InputError.

    synthpipe's ``ts`` is the local wall-clock time of the sale (docs/output.md), so a
    time written ``18:00+05:00`` is 18:00: converting it to UTC would move the hours of a
    sample whose offsets vary (daylight saving time, stores in several zones) and smear
    the hourly profile the fit estimates."""
    parts = pc.extract_regex(column, ZONED_TIME)
    offsets = pc.unique(pc.struct_field(parts, "offset")).drop_null().to_pylist()
    seen = sorted({_offset(text) for text in offsets})
    if offsets and seen != [UTC_OFFSET] and notes is not None:
        notes.append(
            f"sample column {name!r} has times at UTC offsets {', '.join(seen)}: each is read"
            " as its local wall-clock time (the offset dropped), as synthpipe's ts is"
        )
    wall = pc.coalesce(pc.struct_field(parts, "wall"), column)
    try:
        return pc.cast(wall, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        return pc.cast(pc.strptime(wall, "%Y-%m-%d", "s"), pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(f"sample column {name!r} has values that are not dates or times") from None


def _offset(text: str) -> str:
    """A UTC offset as ``+HH:MM`` ("Z", "+05", "+0530" and "+05:30" alike)."""
    if text in ("Z", "z"):
        return UTC_OFFSET
    digits = text[1:].replace(":", "")
    return f"{text[0]}{digits[:2]}:{digits[2:4] or '00'}"


def _identifiers(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """An identifier column as text (bytes as they are); any other type (a struct, a list,
    a boolean) is an InputError naming the column, its type and the types accepted."""
    kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if any(check(kind) for check in ID_BYTES):
        return column
    if not any(check(kind) for check in ID_CASTS):
        raise InputError(f"sample column {name!r} is {column.type}; an id must be {ID_TYPES}")
    return pc.cast(column, pa.string())


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


def _normalised(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    """A label column as trimmed lower-case text (an empty value reads "none"); a column
    that cannot be text (a struct, a list) is an InputError naming it and its type."""
    try:
        text = pc.cast(column, pa.string()).fill_null("none")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(
            f"sample column {name!r} is {column.type}; labels must be text, numbers or booleans"
        ) from None
    return pc.utf8_lower(pc.utf8_trim_whitespace(text))


def _labels(column: pa.ChunkedArray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct labels of a label column; codes leave this module, text does not."""
    return _dense(_normalised(column, name))


def _numbers(table: pa.Table, name: str) -> np.ndarray:
    try:
        values = pc.cast(table.column(name), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise InputError(f"sample column {name!r} has values that are not numbers") from None
    array = values.to_numpy(zero_copy_only=False)
    if np.isnan(array).any():
        raise InputError(f"sample column {name!r} has empty values")
    return np.asarray(array)


def _vocabulary_codes(
    column: pa.ChunkedArray, name: str, aliases: list[frozenset[str]]
) -> np.ndarray:
    """Each row's index into our vocabulary, whose word i the labels ``aliases[i]`` name
    (-1: another label; the sample's own labels do not leave this module)."""
    codes, labels = _labels(column, name)
    by_label = np.full(labels.shape[0], -1, dtype=np.int64)
    for index, names in enumerate(aliases):
        by_label[np.isin(labels, list(names))] = index
    return np.asarray(by_label[codes])


def _channels(table: pa.Table) -> np.ndarray:
    aliases = {"in_store": IN_STORE_ALIASES, "online": ONLINE_ALIASES}
    return _vocabulary_codes(table.column("channel"), "channel", [aliases[c] for c in CHANNELS])


def _fraud(table: pa.Table) -> np.ndarray:
    codes, labels = _labels(table.column("is_fraud"), "is_fraud")
    if not np.isin(labels, list(TRUE_LABELS | FALSE_LABELS)).all():
        raise InputError("sample column 'is_fraud' has values that are not true or false")
    return np.asarray(np.isin(labels, list(TRUE_LABELS))[codes])


def _coded(table: pa.Table, name: str) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """An optional label column as codes into its lower-cased labels (None if absent)."""
    if name not in table.column_names:
        return None, ()
    codes, labels = _labels(table.column(name), name)
    return codes, tuple(str(x) for x in labels)


def _signups(
    table: pa.Table, customer: np.ndarray, customers: int, day: np.ndarray, notes: list[str]
) -> np.ndarray:
    """Each customer's signup day (the earliest given), checked against the purchases: no
    empty value, and no customer signing up after a purchase of theirs."""
    column = table.column("signup_date")
    if column.null_count:
        raise InputError("sample column 'signup_date' has empty values")
    days, _ = _times(column, "signup_date", notes)
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
    codes = _vocabulary_codes(
        table.column("gender"), "gender", [GENDER_ALIASES[g] for g in GENDERS]
    )
    return np.asarray(codes[first])


def read_sample(path: str, mapping: dict[str, str], min_customers: int) -> Sample:
    """Read and check a sample: exit-2 errors name the column and the problem."""
    table = renamed(read_table(path, mapping), mapping, path)
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
    customer, _ = _dense(_identifiers(table.column("customer_id"), "customer_id"))
    customers = int(customer.max()) + 1
    if customers < 2:
        raise InputError("sample has a single customer: nothing about customers can be learned")
    if customers < min_customers:
        raise InputError(
            f"sample has {customers} customers, fewer than --min-customers {min_customers}"
        )
    notes: list[str] = []
    day, hour = _times(table.column("ts"), "ts", notes)
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
        signup=_signups(table, customer, customers, day, notes)
        if "signup_date" in table.column_names
        else None,
        fraud_type=fraud_type,
        fraud_type_labels=fraud_type_labels,
        age=_ages(table, first) if "age" in table.column_names else None,
        gender=_genders(table, first) if "gender" in table.column_names else None,
        notes=tuple(notes),
    )
