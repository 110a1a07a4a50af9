"""Statistics of the dimension tables: customers (per block file), products and stores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import UNIX_EPOCH
from synthpipe.model.customers import base_rates, block_range, online_probability
from synthpipe.model.money import decimal_to_cents
from synthpipe.model.schema import CUSTOMERS_SCHEMA, PRODUCTS_SCHEMA, STORES_SCHEMA
from synthpipe.validate import statistics as st
from synthpipe.validate.context import MAX_AGE, ValidationContext
from synthpipe.validate.merge import Stats, issue
from synthpipe.validate.reading import FileRead, column_codes
from synthpipe.vocabulary import GENDERS

EMAIL_DOMAINS = ("@example.com", "@example.org", "@example.net")
# Residual of log income around its model median, in units of sigma: fine fixed bins.
Z_EDGES = np.linspace(-6.0, 6.0, 481)
# Log10 of income: fixed bins from 10 to 10 million.
LOG_INCOME_EDGES = np.linspace(1.0, 7.0, 601)
# Log10 of price in cents: fixed bins from 1 cent to 1 million dollars.
LOG_PRICE_EDGES = np.linspace(0.0, 8.0, 801)
PRICE_BINS = LOG_PRICE_EDGES.shape[0] + 1  # below the first edge, between edges, past the last
TRAFFIC_SCALE = 1_000_000  # traffic weights are kept as integers in the id lookup

CUSTOMER_COLUMNS = CUSTOMERS_SCHEMA.names
PRODUCT_COLUMNS = PRODUCTS_SCHEMA.names
STORE_COLUMNS = STORES_SCHEMA.names


def numpy_column(table: pa.Table, name: str, dtype: type | str = np.int64) -> np.ndarray:
    """A column as numpy (nulls become 0), whatever its chunking."""
    column = table.column(name)
    if pa.types.is_decimal(column.type):
        return decimal_to_cents(column)
    if column.null_count:  # fill_null copies even a column without nulls
        column = column.fill_null(0)
    if pa.types.is_date32(column.type):
        return np.asarray(column.cast(pa.int32()), dtype=np.int64)
    if pa.types.is_timestamp(column.type):
        return np.asarray(column.cast(pa.int64()), dtype=np.int64)
    return np.asarray(column, dtype=dtype)


def bool_column(table: pa.Table, name: str) -> np.ndarray:
    """A boolean column as numpy (nulls become False)."""
    return np.asarray(table.column(name).fill_null(False), dtype=bool)


def count_nulls(stats: Stats, table_name: str, read: FileRead, schema: pa.Schema) -> None:
    """Nulls in columns the schema declares non-nullable."""
    for field in schema:
        if not field.nullable and field.name in read.table.column_names:
            stats[st.null_count(table_name, field.name)] = int(
                read.table.column(field.name).null_count
            )


def file_record(read: FileRead, table_name: str, schema: pa.Schema) -> dict[str, object]:
    """What integrity needs to know of one file: size, checksum, schema, label."""
    expected = {f.name: f.type for f in schema}
    actual = {f.name: f.type for f in read.schema}
    return {
        "path": read.path,
        "table": table_name,
        "rows": int(read.table.num_rows),
        "bytes": read.size,
        "sha256": read.sha256,
        "schema_ok": expected == actual,
        "schema_problem": _schema_problem(expected, actual),
        "synthetic_label": read.metadata.get("synthpipe.synthetic") == "true",
    }


def _schema_problem(expected: dict[str, pa.DataType], actual: dict[str, pa.DataType]) -> str:
    missing = [n for n in expected if n not in actual]
    extra = [n for n in actual if n not in expected]
    wrong = [
        f"{n}: {actual[n]} (want {t})"
        for n, t in expected.items()
        if n in actual and actual[n] != t
    ]
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if extra:
        parts.append(f"unexpected {', '.join(extra)}")
    if wrong:
        parts.append("; ".join(wrong))
    return "; ".join(parts)


def duplicate_count(ids: np.ndarray) -> int:
    """How many values repeat another (0 without a sort when the ids strictly increase)."""
    if ids.shape[0] < 2 or bool(np.all(np.diff(ids) > 0)):
        return 0
    return int(np.count_nonzero(np.diff(np.sort(ids)) == 0))


def ages_on(start: np.datetime64, birth_days: np.ndarray) -> np.ndarray:
    """``ages_from_birth``, computed once per distinct day of the birth days' range when
    that range is shorter than the data (a table lookup instead of calendar arithmetic
    per person)."""
    if birth_days.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    low, high = int(birth_days.min()), int(birth_days.max())
    if high - low + 1 >= birth_days.shape[0]:
        return ages_from_birth(start, birth_days)
    table = ages_from_birth(start, np.arange(low, high + 1, dtype=np.int64))
    return np.asarray(table[birth_days - low])


def ages_from_birth(start: np.datetime64, birth_days: np.ndarray) -> np.ndarray:
    """Exact age in whole years on ``start`` of people born on ``birth_days``."""
    birth = UNIX_EPOCH + birth_days

    def month_day(days: np.ndarray) -> np.ndarray:
        month = days.astype("datetime64[M]")
        within_year = (month - days.astype("datetime64[Y]").astype("datetime64[M]")).astype(
            np.int64
        )
        within_month = (days - month.astype("datetime64[D]")).astype(np.int64)
        return np.asarray(within_year * 100 + within_month)

    start_arr = np.asarray([start])
    years = start_arr.astype("datetime64[Y]").astype(np.int64) - birth.astype(
        "datetime64[Y]"
    ).astype(np.int64)
    return np.asarray(years - (month_day(start_arr) < month_day(birth)))


@dataclass(frozen=True)
class Catalogue:
    """Products and stores as read from disk, for foreign keys and lookups."""

    product_category: np.ndarray  # category code per product id - 1 (-1 unknown)
    product_price: np.ndarray  # list price cents per product id - 1
    store_region: np.ndarray  # region code per store id - 1
    store_open: np.ndarray  # open day (days since 1970) per store id - 1
    store_traffic: np.ndarray  # traffic of the store's format per store id - 1
    # per product id - 1: its (category, log list price bin) cell of the unit price
    # histogram, category * PRICE_BINS + bin; one past the last cell when the category is
    # unknown (sales statistics place each unit's lines per product, then by this cell)
    product_price_cell: np.ndarray
    product_brand: np.ndarray  # brand code per product id - 1 (-1 unknown)

    @property
    def products(self) -> int:
        """Highest product id the catalogue can resolve."""
        return int(self.product_category.shape[0])

    @property
    def stores(self) -> int:
        """Highest store id the catalogue can resolve."""
        return int(self.store_region.shape[0])


def _dense_lookup(ids: np.ndarray, values: np.ndarray, fill: int) -> np.ndarray:
    size = int(ids.max()) if ids.size else 0
    table = np.full(max(size, 0), fill, dtype=np.int64)
    valid = ids >= 1
    table[ids[valid] - 1] = values[valid]
    return table


def catalogue_from(ctx: ValidationContext, products: FileRead, stores: FileRead) -> Catalogue:
    """Lookups by id from the products and stores tables."""
    product_ids = numpy_column(products.table, "product_id")
    category, _ = column_codes(products.table, "category", ctx.categories)
    price = numpy_column(products.table, "list_price")
    store_ids = numpy_column(stores.table, "store_id")
    region, _ = column_codes(stores.table, "region", ctx.regions)
    opened = numpy_column(stores.table, "open_date")
    formats = ctx.spec.stores.formats
    fmt, _ = column_codes(stores.table, "format", list(formats))
    traffic = np.asarray([f.traffic for f in formats.values()] + [0.0])[fmt]
    product_category = _dense_lookup(product_ids, category, -1)
    product_price = _dense_lookup(product_ids, price, 0)
    return Catalogue(
        product_category=product_category,
        product_price=product_price,
        store_region=_dense_lookup(store_ids, region, -1),
        store_open=_dense_lookup(store_ids, opened, np.iinfo(np.int64).max),
        store_traffic=_dense_lookup(
            store_ids, np.round(traffic * TRAFFIC_SCALE).astype(np.int64), 0
        )
        / TRAFFIC_SCALE,
        product_price_cell=price_cells(product_category, product_price, len(ctx.categories)),
        product_brand=_dense_lookup(
            product_ids, column_codes(products.table, "brand", ctx.brands)[0], -1
        ),
    )


def price_cells(category: np.ndarray, price: np.ndarray, categories: int) -> np.ndarray:
    """Cell of each product in a (category, log10 list price) histogram; ``categories *
    PRICE_BINS`` (one past the last cell) where the category is unknown."""
    price_bin = uniform_bins(LOG_PRICE_EDGES, np.log10(np.maximum(price, 1)))
    return np.asarray(
        np.where(category >= 0, category * PRICE_BINS + price_bin, categories * PRICE_BINS)
    )


def customer_stats(
    ctx: ValidationContext,
    read: FileRead,
    block: int,
    catalogue: Catalogue,
    at_signup: tuple[np.ndarray, np.ndarray] | None = None,
) -> Stats:
    """Statistics of one customers file (one block). ``at_signup``: each customer's income
    and loyalty membership at signup (from the history), which the income and loyalty
    distributions and the purchase rates are judged by; the snapshot's otherwise."""
    spec = ctx.spec
    table = read.table
    stats: Stats = {st.FILES: [file_record(read, "customers", CUSTOMERS_SCHEMA)]}
    count_nulls(stats, "customers", read, CUSTOMERS_SCHEMA)
    ids = numpy_column(table, "customer_id")
    first, size = block_range(spec, block)
    n = int(ids.shape[0])
    stats[st.CUSTOMERS_ROWS] = n
    stats[st.CUSTOMERS_ID_DUPLICATES] = duplicate_count(ids)
    outside = int(np.count_nonzero((ids < first) | (ids >= first + size)))
    stats[st.CUSTOMERS_ID_OUTSIDE_BLOCK] = outside
    if outside:
        issue(stats, f"{read.path}: {outside} customer ids outside block {block}'s range")
    stats[st.CUSTOMERS_ID_MIN] = int(ids.min()) if n else 0
    stats[st.CUSTOMERS_ID_MAX] = int(ids.max()) if n else 0
    age = numpy_column(table, "age")
    stats[st.CUSTOMERS_AGE_COUNTS] = np.bincount(np.clip(age, 0, MAX_AGE), minlength=MAX_AGE + 1)
    pyramid = spec.customers.age_pyramid
    stats[st.CUSTOMERS_AGE_OUTSIDE_PYRAMID] = int(
        np.count_nonzero((age < pyramid[0].min) | (age > pyramid[-1].max))
    )
    birth = numpy_column(table, "birth_date")
    stats[st.CUSTOMERS_AGE_BIRTH_MISMATCH] = int(
        np.count_nonzero(ages_on(np.datetime64(spec.calendar.start, "D"), birth) != age)
    )
    gender, unknown_gender = column_codes(table, "gender", GENDERS)
    segment, unknown_segment = column_codes(table, "segment", ctx.segments)
    region, unknown_region = column_codes(table, "region", ctx.regions)
    stats[st.CUSTOMERS_UNKNOWN_LABELS] = unknown_gender + unknown_segment + unknown_region
    stats[st.CUSTOMERS_GENDER_COUNTS] = np.bincount(gender[gender >= 0], minlength=len(GENDERS))
    known = gender >= 0
    cell = np.clip(age[known], 0, MAX_AGE) * len(GENDERS) + gender[known]
    stats[st.CUSTOMERS_AGE_GENDER_COUNTS] = np.bincount(
        cell, minlength=(MAX_AGE + 1) * len(GENDERS)
    ).reshape(MAX_AGE + 1, len(GENDERS))
    stats[st.CUSTOMERS_SEGMENT_COUNTS] = np.bincount(
        segment[segment >= 0], minlength=len(ctx.segments)
    )
    stats[st.CUSTOMERS_REGION_COUNTS] = np.bincount(region[region >= 0], minlength=len(ctx.regions))
    income = numpy_column(table, "income").astype(np.float64)
    if at_signup is not None:
        income = at_signup[0].astype(np.float64)
    stats[st.CUSTOMERS_INCOME_BELOW_ONE] = int(np.count_nonzero(income < 1))
    factors = np.asarray([s.income_factor for s in spec.customers.segments.values()])
    valid = (segment >= 0) & (income >= 1)
    model_median = ctx.median_income(age[valid]) * factors[segment[valid]]
    z = (np.log(income[valid]) - np.log(model_median)) / spec.customers.income.sigma
    stats[st.CUSTOMERS_INCOME_Z_HIST] = _histogram(z, Z_EDGES)
    income_bin = uniform_bins(LOG_INCOME_EDGES, np.log10(np.maximum(income, 1.0)))
    bins = LOG_INCOME_EDGES.shape[0] + 1
    stats[st.CUSTOMERS_LOG_INCOME_HIST] = np.bincount(
        ctx.band(age) * bins + income_bin, minlength=len(pyramid) * bins
    ).reshape(len(pyramid), bins)
    signup = numpy_column(table, "signup_date")
    signup_start, signup_end = spec.customers.signup_window()
    window_start = int((np.datetime64(signup_start, "D") - UNIX_EPOCH).astype(np.int64))
    span = (signup_end - signup_start).days + 1
    offset = signup - window_start
    inside = (offset >= 0) & (offset < span)
    stats[st.CUSTOMERS_SIGNUP_OUTSIDE_WINDOW] = int(np.count_nonzero(~inside))
    stats[st.CUSTOMERS_SIGNUP_HIST] = np.bincount(offset[inside], minlength=span)
    loyal = bool_column(table, "is_loyalty_member") if at_signup is None else at_signup[1]
    stats[st.CUSTOMERS_LOYAL_BY_SEGMENT] = np.bincount(
        segment[(segment >= 0) & loyal], minlength=len(ctx.segments)
    )
    rates = _expected_rates(ctx, age, segment, income, loyal, signup)
    stats[st.CUSTOMERS_RATE_BY_SIGNUP] = rates.by_signup_day(ctx.exposure_from_signup.shape[0])
    stats[st.CUSTOMERS_BY_SIGNUP] = np.bincount(
        rates.day, minlength=ctx.exposure_from_signup.shape[0]
    )
    stats[st.CUSTOMERS_SAMPLE] = [_followed_customers(ctx, ids, signup, rates)]
    _expected_purchases(ctx, stats, rates, ctx.intensity_class(segment, loyal, income), age)
    emails = table.column("email").fill_null("")
    reserved = np.zeros(n, dtype=bool)
    for domain in EMAIL_DOMAINS:
        reserved |= np.asarray(pc.ends_with(emails, domain))
    stats[st.CUSTOMERS_EMAIL_UNRESERVED] = int(np.count_nonzero(~reserved))
    stats[st.CUSTOMERS_EMAIL_DUPLICATES] = n - len(pc.unique(emails))
    home = numpy_column(table, "home_store_id")
    resolvable = (home >= 1) & (home <= catalogue.stores)
    stats[st.CUSTOMERS_HOME_STORE_MISSING] = int(np.count_nonzero(~resolvable))
    same_region = catalogue.store_region[home[resolvable] - 1] == region[resolvable]
    stats[st.CUSTOMERS_HOME_STORE_IN_REGION] = int(np.count_nonzero(same_region))
    stats[st.CUSTOMERS_HOME_STORE_CHECKED] = int(np.count_nonzero(resolvable))
    return stats


def _followed_customers(
    ctx: ValidationContext, ids: np.ndarray, signup: np.ndarray, rates: ExpectedRates
) -> np.ndarray:
    """The customers followed across months (id a multiple of the sample modulus): id,
    signup day and the expected daily rate per channel of their visible attributes (NaN
    when those are unknown), as float64 rows (ids and days are exact below 2^53)."""
    rows = np.flatnonzero(ids % ctx.sample_modulus == 0)
    rate = np.full((ids.shape[0], 2), np.nan)
    rate[rates.customers] = rates.rate
    return np.column_stack([ids[rows], signup[rows], rate[rows]]).astype(np.float64)


@dataclass(frozen=True)
class ExpectedRates:
    """Expected daily purchase rates (activity 1) of the customers whose attributes are
    known and who sign up before the calendar ends."""

    customers: np.ndarray  # their rows in the file
    day: np.ndarray  # signup day, as an index into the signup window (see the context)
    rate: np.ndarray  # (customers, channels) expected legitimate sales per day

    def by_signup_day(self, days: int) -> np.ndarray:
        """(window days, channels) summed rate of the customers who sign up on each day: its
        convolution with the survival is the expected base of customers buying each day,
        which conditions the daily, weekday and month expectations on this customer base."""
        return np.stack(
            [np.bincount(self.day, weights=self.rate[:, c], minlength=days) for c in (0, 1)],
            axis=1,
        )

    def expected_purchases(self, exposure_from_signup: np.ndarray) -> np.ndarray:
        """(customers, channels) each customer's expected legitimate (first) sales over the
        calendar, dropout included."""
        return np.asarray(self.rate * exposure_from_signup[self.day])


def _expected_purchases(
    ctx: ValidationContext, stats: Stats, rates: ExpectedRates, klass: np.ndarray, age: np.ndarray
) -> None:
    """Expected purchases over the calendar per (age band, channel) and per purchase-rate
    class (with their sum of squares: the spread the customers' activity adds)."""
    by_channel = rates.expected_purchases(ctx.exposure_from_signup)
    band = ctx.band(age[rates.customers])
    stats[st.CUSTOMERS_BAND_CHANNEL_EXPECTED] = np.stack(
        [
            np.bincount(band, weights=by_channel[:, c], minlength=ctx.bands_low.shape[0])
            for c in range(by_channel.shape[1])
        ],
        axis=1,
    )
    purchases = by_channel[:, 0] + by_channel[:, 1]  # quicker than a sum over a short axis
    known = klass[rates.customers]
    classes = ctx.intensity_classes()
    stats[st.CUSTOMERS_CLASS_COUNTS] = np.bincount(known, minlength=classes)
    stats[st.CUSTOMERS_CLASS_EXPECTED] = np.bincount(known, weights=purchases, minlength=classes)
    # a customer's purchases N given its activity A and buying days T are Poisson(m A T /
    # E[T]); Var(N) = m + m^2 ((1 + 1/k) q - 1), q = E[T^2] / E[T]^2 (the context's ratio)
    k = ctx.spec.customers.activity_shape
    ratio = ctx.exposure_ratio_from_signup[rates.day]
    stats[st.CUSTOMERS_CLASS_EXTRA_VARIANCE] = np.bincount(
        known, weights=purchases * purchases * ((1.0 + 1.0 / k) * ratio - 1.0), minlength=classes
    )


def _expected_rates(
    ctx: ValidationContext,
    age: np.ndarray,
    segment: np.ndarray,
    income: np.ndarray,
    loyal: np.ndarray,
    signup: np.ndarray,
) -> ExpectedRates:
    """The spec's purchase rates given the customers' visible attributes."""
    spec = ctx.spec
    day = signup - ctx.first_signup_day
    window = ctx.exposure_from_signup.shape[0]
    customers = np.flatnonzero((segment >= 0) & (income >= 1) & (day < window))
    rate = base_rates(
        spec, np.ones(customers.shape[0]), segment[customers], income[customers], loyal[customers]
    )
    p_online = online_probability(spec, ctx.band(age[customers]))
    return ExpectedRates(
        customers,
        np.maximum(day[customers], 0),
        np.stack([rate * (1.0 - p_online), rate * p_online], axis=1),
    )


def uniform_bins(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``searchsorted(edges, values, side="right")`` for evenly spaced edges, by arithmetic:
    0 below the first edge, len(edges) from the last one on."""
    width = (edges[-1] - edges[0]) / (edges.shape[0] - 1)
    position = np.floor((values - edges[0]) / width) + 1
    index = np.clip(np.nan_to_num(position, nan=0.0), 0, edges.shape[0]).astype(np.int64)
    # floating rounding can put a value one bin off next to an edge: settle on the edges
    index -= (index > 0) & (values < edges[np.maximum(index - 1, 0)])
    index += (index < edges.shape[0]) & (values >= edges[np.minimum(index, edges.shape[0] - 1)])
    return np.asarray(index)


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin, with an underflow bin first and an overflow bin last."""
    return np.bincount(uniform_bins(edges, values), minlength=edges.shape[0] + 1)


def product_stats(ctx: ValidationContext, read: FileRead) -> Stats:
    """Statistics of the products file."""
    table = read.table
    stats: Stats = {st.FILES: [file_record(read, "products", PRODUCTS_SCHEMA)]}
    count_nulls(stats, "products", read, PRODUCTS_SCHEMA)
    ids = numpy_column(table, "product_id")
    n = int(ids.shape[0])
    stats[st.PRODUCTS_ROWS] = n
    stats[st.PRODUCTS_ID_DUPLICATES] = duplicate_count(ids)
    stats[st.PRODUCTS_ID_MIN] = int(ids.min()) if n else 0
    stats[st.PRODUCTS_ID_MAX] = int(ids.max()) if n else 0
    category, unknown = column_codes(table, "category", ctx.categories)
    stats[st.PRODUCTS_UNKNOWN_LABELS] = unknown
    stats[st.PRODUCTS_CATEGORY_COUNTS] = np.bincount(
        category[category >= 0], minlength=len(ctx.categories)
    )
    price = numpy_column(table, "list_price")
    cost = numpy_column(table, "unit_cost")
    stats[st.PRODUCTS_PRICE_NOT_POSITIVE] = int(np.count_nonzero(price <= 0))
    stats[st.PRODUCTS_COST_ABOVE_PRICE] = int(np.count_nonzero((cost > price) | (cost < 0)))
    # The catalogue itself (small): price tests run on exact values.
    order = np.argsort(ids, kind="stable")
    stats[st.PRODUCTS_CATEGORY_FIRST] = category[order]
    stats[st.PRODUCTS_PRICE_FIRST] = price[order]
    return stats


def store_stats(ctx: ValidationContext, read: FileRead) -> Stats:
    """Statistics of the stores file."""
    spec = ctx.spec
    table = read.table
    stats: Stats = {st.FILES: [file_record(read, "stores", STORES_SCHEMA)]}
    count_nulls(stats, "stores", read, STORES_SCHEMA)
    ids = numpy_column(table, "store_id")
    n = int(ids.shape[0])
    stats[st.STORES_ROWS] = n
    stats[st.STORES_ID_DUPLICATES] = duplicate_count(ids)
    stats[st.STORES_ID_MIN] = int(ids.min()) if n else 0
    stats[st.STORES_ID_MAX] = int(ids.max()) if n else 0
    fmt, unknown_format = column_codes(table, "format", list(spec.stores.formats))
    region, unknown_region = column_codes(table, "region", ctx.regions)
    stats[st.STORES_UNKNOWN_LABELS] = unknown_format + unknown_region
    stats[st.STORES_FORMAT_COUNTS] = np.bincount(fmt[fmt >= 0], minlength=len(spec.stores.formats))
    stats[st.STORES_REGION_COUNTS] = np.bincount(region[region >= 0], minlength=len(ctx.regions))
    opened = numpy_column(table, "open_date")
    horizon = max(spec.calendar.end, spec.customers.signup_window()[1])
    end = int((np.datetime64(horizon, "D") - UNIX_EPOCH).astype(np.int64))
    stats[st.STORES_OPEN_AFTER_HORIZON] = int(np.count_nonzero(opened > end))
    return stats
