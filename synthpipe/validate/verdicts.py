"""Named tests of a dataset against its spec, from merged statistics.

Every check names its statistic, value, threshold, verdict and a one-line explanation;
thresholds come from the sample size (``synthpipe.validate.checks``) plus a small stated
slack for the parts of the expectation that are approximations.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthpipe.fraud import TYPOLOGIES
from synthpipe.model.customers import median_income
from synthpipe.model.expectation import age_distribution
from synthpipe.model.fraud import event_size_moments
from synthpipe.model.geography import region_shares
from synthpipe.model.products import (
    charm_support,
    charm_upper_bound,
    product_world,
    products_per_category,
)
from synthpipe.model.seasonality import black_friday, day_factors, holiday_names
from synthpipe.validate import statistics as st
from synthpipe.validate.checks import (
    CI_CONFIDENCE,
    GATE_SIGMAS,
    Check,
    at_least,
    at_most,
    binomial_interval,
    binomial_p_value,
    chi_square_p,
    chi_square_sum_p,
    ks_distance,
    ks_p_value,
    ks_threshold,
    normal_cdf,
    normalise,
    poisson_ratio_threshold,
    tvd,
    tvd_threshold,
    two_sided_normal_p,
    zero,
)
from synthpipe.validate.context import MAX_AGE, ValidationContext
from synthpipe.validate.dimensions import LOG_INCOME_EDGES, LOG_PRICE_EDGES, Z_EDGES
from synthpipe.validate.merge import Stats
from synthpipe.validate.sales import LOG_AMOUNT_EDGES
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, GENDERS

# Slack added to sampling tolerances, for parts of an expectation that are approximate.
PROFILE_SLACK = 0.004  # weekday / month / hour shapes: expectation exact up to activity noise
DAILY_SLACK = 0.01  # 366 daily cells: activity noise of customers signing up mid-year
MIX_SLACK = 0.002  # categorical mixes with exact expectations
MIN_COUNT_TOLERANCE = 1.0  # a gate on a count of lines is never tighter than one line
KS_SLACK = 0.002
MEDIAN_SLACK = 0.01  # relative: the median is read from a histogram of 0.01 log10 bins
VOLUME_SLACK = 0.01  # relative error of total volume: rounding of the calendar's parts
# Latent purchase activity is Gamma(k, 1/k): the expected volume given the customers we
# can see varies with relative variance 1 / (k x active customers).
MIN_SIGNATURE_EVENTS = 10  # fewer transactions than this: the signature is not judged


def evaluate(ctx: ValidationContext, stats: Stats, manifest: dict[str, Any]) -> list[Check]:
    """All checks of a dataset."""
    checks: list[Check] = []
    checks += integrity_checks(ctx, stats, manifest)
    checks += customer_checks(ctx, stats)
    checks += catalogue_checks(ctx, stats)
    checks += volume_and_profile_checks(ctx, stats)
    checks += basket_checks(ctx, stats)
    checks += fraud_checks(ctx, stats)
    checks += signature_checks(ctx, stats)
    return checks


def _get(stats: Stats, key: st.StatKey, default: Any = 0) -> Any:
    return stats.get(key, default)


# --- integrity -------------------------------------------------------------------------


def integrity_checks(ctx: ValidationContext, stats: Stats, manifest: dict[str, Any]) -> list[Check]:
    """Schema, labels, checksums, counts, nulls, keys, foreign keys, ranges, arithmetic."""
    spec = ctx.spec
    files = {f["path"]: f for f in stats.get(st.FILES, [])}
    # keyed by where each file was read: its staged path during a refresh, else its own
    listed = {info.get("staged", p): info for p, info in manifest.get("files", {}).items()}
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
            sum(1 for p, f in files.items() if p in listed and listed[p]["sha256"] != f["sha256"]),
            "every file's SHA-256 matches the manifest",
        ),
        zero(
            "files.row_count",
            sum(1 for p, f in files.items() if p in listed and listed[p]["rows"] != f["rows"]),
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
                _get(stats, st.UNKNOWN_LABELS[t])
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
        rows = _get(stats, st.ROWS[table])
        unique_dense = (
            _get(stats, st.ID_DUPLICATES[table]) == 0
            and _get(stats, st.ID_MIN[table]) == 1
            and _get(stats, st.ID_MAX[table]) == rows
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
                0 if unique_dense else max(1, _get(stats, st.ID_DUPLICATES[table])),
                f"{table} ids are unique and run 1..rows",
            )
        )
    checks += [
        zero(
            "customers.key_in_block",
            _get(stats, st.CUSTOMERS_ID_OUTSIDE_BLOCK),
            "each customer file holds its block's ids",
        ),
        zero(
            "transactions.key_unique",
            _get(stats, st.TRANSACTIONS_ID_DUPLICATES)
            + _get(stats, st.TRANSACTIONS_ID_PARTITION_MISMATCH),
            "transaction ids are unique per file and carry their partition's day and block,"
            " so they are unique overall",
        ),
        zero(
            "line_items.key_unique",
            _get(stats, st.LINE_ITEMS_KEY_DUPLICATES),
            "(transaction_id, line_number) is unique",
        ),
        zero(
            "transactions.customer_fk",
            _get(stats, st.TRANSACTIONS_CUSTOMER_FK_MISSING),
            "every customer_id resolves",
        ),
        zero(
            "transactions.store_fk",
            _get(stats, st.TRANSACTIONS_STORE_FK_MISSING),
            "every store_id resolves",
        ),
        zero(
            "line_items.transaction_fk",
            _get(stats, st.LINE_ITEMS_TRANSACTION_FK_MISSING),
            "every line's transaction exists (in its partition)",
        ),
        zero(
            "line_items.product_fk",
            _get(stats, st.LINE_ITEMS_PRODUCT_FK_MISSING),
            "every product_id resolves",
        ),
        zero(
            "customers.home_store_fk",
            _get(stats, st.CUSTOMERS_HOME_STORE_MISSING),
            "every home_store_id resolves",
        ),
        zero(
            "transactions.in_partition",
            _get(stats, st.TRANSACTIONS_CUSTOMER_OUTSIDE_BLOCK)
            + _get(stats, st.TRANSACTIONS_TS_OUTSIDE_PARTITION),
            "each transaction sits in its customer block's and month's partition",
        ),
        zero(
            "transactions.ts_in_calendar",
            _get(stats, st.TRANSACTIONS_TS_OUTSIDE_CALENDAR),
            "every timestamp is inside calendar.start..calendar.end",
        ),
        zero(
            "transactions.after_signup",
            _get(stats, st.TRANSACTIONS_BEFORE_SIGNUP),
            "no customer buys before signup",
        ),
        zero(
            "transactions.after_store_open",
            _get(stats, st.TRANSACTIONS_BEFORE_STORE_OPEN),
            "no store sells before its open date",
        ),
        zero(
            "transactions.nullability",
            _get(stats, st.TRANSACTIONS_STORE_NULL_MISMATCH)
            + _get(stats, st.TRANSACTIONS_SHIP_NULL_MISMATCH)
            + _get(stats, st.TRANSACTIONS_FRAUD_LABEL_MISMATCH),
            "store_id null exactly online, ship_region null exactly in store,"
            " fraud_type null exactly when not fraud",
        ),
        zero(
            "transactions.amount_is_sum",
            _get(stats, st.TRANSACTIONS_AMOUNT_MISMATCH)
            + _get(stats, st.TRANSACTIONS_ITEMS_MISMATCH)
            + _get(stats, st.LINE_ITEMS_LINE_NUMBER_GAPS),
            "amount = sum of line net amounts, items = number of lines numbered 1..items",
        ),
        zero(
            st.TRANSACTIONS_AMOUNT_SIGN,
            _get(stats, st.TRANSACTIONS_AMOUNT_SIGN),
            "sales are non-negative, refunds non-positive",
        ),
        zero(
            "line_items.net_amount",
            _get(stats, st.LINE_ITEMS_NET_MISMATCH),
            "net_amount = quantity x unit_price - discount, to the cent",
        ),
        zero(
            "line_items.unit_price",
            _get(stats, st.LINE_ITEMS_PRICE_MISMATCH),
            "unit_price is the product's list price",
        ),
        zero(
            "line_items.ranges",
            _get(stats, st.LINE_ITEMS_QUANTITY_OUT_OF_RANGE)
            + _get(stats, st.LINE_ITEMS_DISCOUNT_OUT_OF_RANGE),
            "quantities non-zero, signed by type, under 1,000; discounts within the line",
        ),
        zero(
            "customers.ranges",
            _get(stats, st.CUSTOMERS_AGE_OUTSIDE_PYRAMID)
            + _get(stats, st.CUSTOMERS_INCOME_BELOW_ONE)
            + _get(stats, st.CUSTOMERS_SIGNUP_OUTSIDE_WINDOW)
            + _get(stats, st.CUSTOMERS_AGE_BIRTH_MISMATCH),
            "ages inside the pyramid and match birth dates, incomes >= 1, signups in the window",
        ),
        zero(
            "customers.reserved_emails",
            _get(stats, st.CUSTOMERS_EMAIL_UNRESERVED) + _get(stats, st.CUSTOMERS_EMAIL_DUPLICATES),
            "every e-mail is unique and uses an RFC 2606 reserved domain",
        ),
        zero(
            "products.ranges",
            _get(stats, st.PRODUCTS_PRICE_NOT_POSITIVE) + _get(stats, st.PRODUCTS_COST_ABOVE_PRICE),
            "list prices positive, unit cost between 0 and the list price",
        ),
        zero(
            "stores.ranges",
            _get(stats, st.STORES_OPEN_AFTER_HORIZON),
            "stores open no later than the world's horizon",
        ),
    ]
    return checks


# --- customers ---------------------------------------------------------------------------


def customer_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Demographics, income, signup and loyalty against the spec."""
    spec = ctx.spec
    checks: list[Check] = []
    ages = np.asarray(_get(stats, st.CUSTOMERS_AGE_COUNTS, np.zeros(MAX_AGE + 1)))
    age_values, age_probability, _ = age_distribution(spec)
    expected_ages = np.zeros(MAX_AGE + 1)
    expected_ages[age_values] = age_probability
    n = float(ages.sum())
    checks.append(
        _tvd_check(
            "customers.age_pyramid",
            ages,
            expected_ages,
            n,
            MIX_SLACK,
            "share of customers at each age vs the population pyramid",
        )
    )
    distance = float(np.max(np.abs(np.cumsum(normalise(ages)) - np.cumsum(expected_ages))))
    checks.append(
        at_most(
            "customers.age_ks",
            "fidelity",
            "KS D",
            distance,
            ks_threshold(n, KS_SLACK),
            "distribution of ages vs the pyramid (Kolmogorov-Smirnov)",
            ks_p_value(distance, n),
        )
    )
    gender = np.asarray(_get(stats, st.CUSTOMERS_GENDER_COUNTS, np.zeros(len(GENDERS))))
    expected_gender = np.asarray([spec.customers.gender.get(g, 0.0) for g in GENDERS])  # type: ignore[call-overload]
    checks.append(
        _tvd_check(
            "customers.gender_mix",
            gender,
            expected_gender,
            n,
            MIX_SLACK,
            "gender shares vs the spec",
        )
    )
    segments = np.asarray(_get(stats, st.CUSTOMERS_SEGMENT_COUNTS, np.zeros(len(ctx.segments))))
    expected_segments = np.asarray([s.share for s in spec.customers.segments.values()])
    checks.append(
        _tvd_check(
            "customers.segment_mix",
            segments,
            expected_segments,
            n,
            MIX_SLACK,
            "segment shares vs the spec",
        )
    )
    regions = np.asarray(_get(stats, st.CUSTOMERS_REGION_COUNTS, np.zeros(len(ctx.regions))))
    checks.append(
        _tvd_check(
            "customers.region_mix",
            regions,
            region_shares(spec.calendar.country),
            n,
            MIX_SLACK,
            "home regions vs population weights",
        )
    )
    z_hist = np.asarray(_get(stats, st.CUSTOMERS_INCOME_Z_HIST, np.zeros(Z_EDGES.shape[0] + 1)))
    z_n = float(z_hist.sum())
    d_z = ks_distance(z_hist, normal_cdf(Z_EDGES))
    checks.append(
        at_most(
            "customers.income_lognormal",
            "fidelity",
            "KS D",
            d_z,
            ks_threshold(z_n, KS_SLACK),
            "log income around its age and segment median is normal with the spec's sigma",
            ks_p_value(d_z, z_n),
        )
    )
    income_hist = np.asarray(
        _get(
            stats,
            st.CUSTOMERS_LOG_INCOME_HIST,
            np.zeros((len(spec.customers.age_pyramid), LOG_INCOME_EDGES.shape[0] + 1)),
        )
    )
    checks.append(_income_marginal(ctx, income_hist))
    checks.append(_income_medians(ctx, income_hist))
    signup = np.asarray(_get(stats, st.CUSTOMERS_SIGNUP_HIST, np.zeros(1)))
    checks.append(_signup_check(ctx, signup))
    loyal = np.asarray(
        _get(stats, st.CUSTOMERS_LOYAL_BY_SEGMENT, np.zeros(len(ctx.segments))), dtype=np.float64
    )
    rates = np.asarray([s.loyalty_rate for s in spec.customers.segments.values()])
    members = np.maximum(segments, 1)
    tolerance = GATE_SIGMAS * np.sqrt(rates * (1 - rates) / members) + MIX_SLACK
    excess = np.where(segments > 0, np.abs(loyal / members - rates) / tolerance, 0.0)
    checks.append(
        at_most(
            "customers.loyalty_by_segment",
            "fidelity",
            "error / tolerance (worst)",
            float(excess.max()) if excess.size else 0.0,
            1.0,
            "loyalty-programme share of each segment vs the spec's loyalty_rate",
        )
    )
    return checks


def _tvd_check(
    name: str,
    observed: np.ndarray,
    expected: np.ndarray,
    n: float,
    slack: float,
    explanation: str,
    group: str = "fidelity",
) -> Check:
    value = tvd(observed, expected)
    return at_most(
        name,
        group,
        "TVD",
        value,
        tvd_threshold(n, expected, slack),
        explanation,
        chi_square_p(observed, expected),
    )


def _income_mixture_cdf(
    ctx: ValidationContext, log10_values: np.ndarray, band: int | None = None
) -> np.ndarray:
    """CDF of income under the spec: ages x segments x log-normal, optionally in one band."""
    spec = ctx.spec
    ages, probability, band_index = age_distribution(spec)
    if band is not None:
        inside = band_index == band  # other ages weigh nothing: leave them out
        ages, probability = ages[inside], probability[inside]
    probability = probability / probability.sum()
    sigma = spec.customers.income.sigma
    segments = list(spec.customers.segments.values())
    shares = normalise(np.asarray([s.share for s in segments]))
    ln_x = log10_values * math.log(10.0)
    cdf = np.zeros_like(ln_x, dtype=np.float64)
    medians = np.log(median_income(spec, ages))
    for share, segment in zip(shares, segments, strict=True):
        centre = medians + math.log(segment.income_factor)
        z = (ln_x[:, None] - centre[None, :]) / sigma
        cdf += share * (normal_cdf(z) * probability[None, :]).sum(axis=1)
    return cdf


def _income_marginal(ctx: ValidationContext, income_hist: np.ndarray) -> Check:
    total = income_hist.sum(axis=0)
    n = float(total.sum())
    expected = _income_mixture_cdf(ctx, LOG_INCOME_EDGES)
    distance = ks_distance(total, expected)
    return at_most(
        "customers.income_marginal",
        "fidelity",
        "KS D",
        distance,
        ks_threshold(n, KS_SLACK),
        "income distribution vs the spec's mixture over ages and segments",
        ks_p_value(distance, n),
    )


def _histogram_median(hist: np.ndarray, edges: np.ndarray) -> float:
    """Median of a binned sample, interpolated within its bin (under/overflow cells ends)."""
    cumulative = np.cumsum(hist)
    half = cumulative[-1] / 2.0
    cell = int(np.searchsorted(cumulative, half, side="left"))
    if cell == 0 or cell >= edges.shape[0]:
        return float(edges[min(max(cell - 1, 0), edges.shape[0] - 1)])
    below = cumulative[cell - 1]
    fraction = (half - below) / max(hist[cell], 1)
    return float(edges[cell - 1] + fraction * (edges[cell] - edges[cell - 1]))


def _income_medians(ctx: ValidationContext, income_hist: np.ndarray) -> Check:
    """Median income of each age band vs the spec's mixture median for that band."""
    bands = ctx.spec.customers.age_pyramid
    grid = np.linspace(LOG_INCOME_EDGES[0], LOG_INCOME_EDGES[-1], 6001)
    worst, detail = 0.0, ""
    for b, band in enumerate(bands):
        n = float(income_hist[b].sum())
        if n < 100:
            continue
        observed = 10 ** _histogram_median(income_hist[b], LOG_INCOME_EDGES)
        expected = 10 ** float(np.interp(0.5, _income_mixture_cdf(ctx, grid, b), grid))
        # The sample median's relative standard error for a log-normal-like law is about
        # 1.25 x (spread in log units) / sqrt(n); the spread is at most sigma + segment mix.
        spread = ctx.spec.customers.income.sigma + 0.5
        tolerance = GATE_SIGMAS * 1.2533 * spread / math.sqrt(n) + MEDIAN_SLACK
        excess = abs(observed / expected - 1.0) / tolerance
        if excess > worst:
            worst, detail = excess, f"{band.label}: {observed:,.0f} vs {expected:,.0f}"
    return at_most(
        "customers.income_median_by_age",
        "fidelity",
        "error / tolerance",
        worst,
        1.0,
        f"median income of each age band vs the spec (worst {detail or 'n/a'})",
    )


def _signup_check(ctx: ValidationContext, signup: np.ndarray) -> Check:
    spec = ctx.spec
    span = signup.shape[0]
    n = float(signup.sum())
    g = math.log1p(spec.customers.signup_growth) / 365.25
    days = np.arange(1, span + 1, dtype=np.float64)
    expected = days / span if abs(g * span) < 1e-9 else np.expm1(g * days) / math.expm1(g * span)
    observed = np.cumsum(signup) / max(n, 1.0)
    distance = float(np.max(np.abs(observed - expected)))
    return at_most(
        "customers.signup_dates",
        "fidelity",
        "KS D",
        distance,
        ks_threshold(n, KS_SLACK),
        "signup dates vs the growing signup density of the spec",
        ks_p_value(distance, n),
    )


# --- products and stores -------------------------------------------------------------------


def catalogue_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Catalogue mix and list-price distributions; store formats."""
    spec = ctx.spec
    checks: list[Check] = []
    counts = np.asarray(_get(stats, st.PRODUCTS_CATEGORY_COUNTS, np.zeros(len(ctx.categories))))
    planned = products_per_category(spec)
    checks.append(
        at_most(
            "products.category_mix",
            "fidelity",
            "products off plan",
            float(np.abs(counts - planned).sum()),
            0,
            "products per category follow catalog_share exactly (largest remainder)",
        )
    )
    category = np.asarray(_get(stats, st.PRODUCTS_CATEGORY_FIRST, np.zeros(0)), dtype=np.int64)
    price = np.asarray(_get(stats, st.PRODUCTS_PRICE_FIRST, np.zeros(0)), dtype=np.int64)
    worst_value, worst_threshold, worst_name, worst_p = 0.0, 0.0, "n/a", None
    for k, cat in enumerate(spec.products.categories):
        values = price[category == k]
        if values.size == 0:
            continue
        if cat.price.values:
            points = np.round(np.asarray(cat.price.values) * 100).astype(np.int64)
            observed = np.asarray(
                [np.count_nonzero(values == p) for p in points]
                + [np.count_nonzero(~np.isin(values, points))]
            )
            value = tvd(observed, np.append(np.ones(points.shape[0]), 0.0))
            threshold = tvd_threshold(values.size, np.ones(points.shape[0]), MIX_SLACK)
            p_value = chi_square_p(observed, np.append(np.ones(points.shape[0]), 0.0))
        else:
            support = np.union1d(charm_support(int(values.max())), np.unique(values))
            observed_cdf = np.searchsorted(np.sort(values), support, side="right") / values.size
            bound = charm_upper_bound(support)
            with np.errstate(divide="ignore"):
                z = (np.log(np.maximum(bound, 1e-300)) - math.log(cat.price.median)) / max(
                    cat.price.sigma, 1e-12
                )
            expected_cdf = np.where(bound > 0, normal_cdf(z), 0.0)
            value = float(np.max(np.abs(observed_cdf - expected_cdf)))
            threshold = ks_threshold(values.size, KS_SLACK)
            p_value = ks_p_value(value, values.size)
        if value / threshold > (worst_value / worst_threshold if worst_threshold else -1):
            worst_value, worst_threshold, worst_name, worst_p = value, threshold, cat.name, p_value
    checks.append(
        at_most(
            "products.list_prices",
            "fidelity",
            "KS D (worst category)",
            worst_value,
            worst_threshold,
            f"list prices per category vs log-normal with charm endings (worst: {worst_name})",
            worst_p,
        )
    )
    formats = np.asarray(_get(stats, st.STORES_FORMAT_COUNTS, np.zeros(len(spec.stores.formats))))
    expected_formats = np.asarray([f.share for f in spec.stores.formats.values()])
    checks.append(
        _tvd_check(
            "stores.format_mix",
            formats,
            expected_formats,
            float(formats.sum()),
            MIX_SLACK,
            "store formats vs the spec's shares",
        )
    )
    return checks


# --- volume and profiles ---------------------------------------------------------------------


def expected_sales(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(days, channels) expected legitimate sales given the customers on disk:
    F(d) x G_channel(d) x (sum of visible-attribute rates of customers signed up by d)."""
    rate = np.asarray(_get(stats, st.CUSTOMERS_RATE_BY_SIGNUP, np.zeros((ctx.days, 2))))
    base = np.cumsum(rate, axis=0)
    factors = day_factors(ctx.spec, ctx.spec.calendar.start, ctx.spec.calendar.end)
    return np.asarray(factors.overall[:, None] * factors.channel * base)


def volume_and_profile_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Total volume, and daily, weekday, month, holiday, hour, channel and payment profiles."""
    spec = ctx.spec
    checks: list[Check] = []
    daily = np.asarray(_get(stats, st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    sales = daily[:, :, 0]
    refunds = daily[:, :, 1]
    expected = expected_sales(ctx, stats)
    observed_total, expected_total = float(sales.sum()), float(expected.sum())
    active = max(float(_get(stats, st.CUSTOMERS_ROWS)), 1.0)
    extra_cv2 = 1.0 / (spec.customers.activity_shape * active)
    ratio_error = abs(observed_total / expected_total - 1.0) if expected_total > 0 else math.inf
    z = (observed_total - expected_total) / math.sqrt(max(expected_total, 1.0))
    checks.append(
        at_most(
            "transactions.volume",
            "fidelity",
            "|observed / expected - 1|",
            ratio_error,
            poisson_ratio_threshold(expected_total, extra_cv2, VOLUME_SLACK),
            f"legitimate sales {observed_total:,.0f} vs {expected_total:,.0f} expected from"
            " the spec"
            " and the customers on disk",
            two_sided_normal_p(z),
        )
    )
    checks.append(_intensity_check(ctx, stats))
    checks.append(_online_by_age_check(ctx, stats))
    total_daily = sales.sum(axis=1)
    expected_daily = expected.sum(axis=1)
    n = float(total_daily.sum())
    checks.append(
        _tvd_check(
            "transactions.daily_profile",
            total_daily,
            expected_daily,
            n,
            DAILY_SLACK,
            "share of sales on each calendar day vs base x trend x weekday x yearly x holidays",
        )
    )
    weekday = (ctx.dates.astype(np.int64) + 3) % 7
    checks.append(
        _tvd_check(
            "transactions.weekday_profile",
            np.bincount(weekday, total_daily, 7),
            np.bincount(weekday, expected_daily, 7),
            n,
            PROFILE_SLACK,
            "share of sales per weekday (Monday..Sunday) vs the expected curve",
        )
    )
    months = len(ctx.months)
    checks.append(
        _tvd_check(
            "transactions.month_profile",
            np.bincount(ctx.month_of_day, total_daily, months),
            np.bincount(ctx.month_of_day, expected_daily, months),
            n,
            PROFILE_SLACK,
            "share of sales per month vs the expected curve",
        )
    )
    checks += _holiday_checks(ctx, total_daily, expected_daily, extra_cv2)
    hours = np.asarray(_get(stats, st.TRANSACTIONS_HOURS, np.zeros((2, 24))))
    for ch, (name, channel) in enumerate(
        (("in_store", spec.sales.channels.in_store), ("online", spec.sales.channels.online))
    ):
        checks.append(
            _tvd_check(
                f"transactions.hour_profile_{name}",
                hours[ch],
                np.asarray(channel.hours),
                float(hours[ch].sum()),
                PROFILE_SLACK,
                f"share of {name} sales per hour vs the spec",
            )
        )
    online_share = float(sales[:, 1].sum()) / max(n, 1.0)
    expected_online = float(expected[:, 1].sum()) / max(expected_total, 1e-12)
    tolerance = (
        GATE_SIGMAS * math.sqrt(expected_online * (1 - expected_online) / max(n, 1.0) + extra_cv2)
        + MIX_SLACK
    )
    checks.append(
        at_most(
            "transactions.channel_mix",
            "fidelity",
            "|online share - expected|",
            abs(online_share - expected_online),
            tolerance,
            f"online share of sales {online_share:.4f} vs {expected_online:.4f} expected",
        )
    )
    payments = np.asarray(_get(stats, st.TRANSACTIONS_PAYMENTS, np.zeros((2, len(ctx.payments)))))
    for ch, (name, channel) in enumerate(
        (("in_store", spec.sales.channels.in_store), ("online", spec.sales.channels.online))
    ):
        weights = np.asarray([channel.payment.get(p, 0.0) for p in ctx.payments])
        checks.append(
            _tvd_check(
                f"transactions.payment_mix_{name}",
                payments[ch],
                weights,
                float(payments[ch].sum()),
                MIX_SLACK,
                f"payment methods of {name} sales vs the spec",
            )
        )
    refund_total = float(refunds.sum())
    expected_refunds = spec.sales.return_rate * expected_total
    refund_error = (
        abs(refund_total / expected_refunds - 1.0)
        if expected_refunds > 0
        else float(refund_total > 0)
    )
    checks.append(
        at_most(
            "transactions.refund_rate",
            "fidelity",
            "|observed / expected - 1|",
            refund_error,
            poisson_ratio_threshold(expected_refunds, extra_cv2, VOLUME_SLACK)
            if expected_refunds > 0
            else 0,
            f"ordinary refunds {refund_total:,.0f} vs {expected_refunds:,.0f}"
            " (return_rate x expected sales)",
        )
    )
    observed_home = float(_get(stats, st.STORE_CHOICE_HOME_REGION_OBSERVED))
    expected_home = float(_get(stats, st.STORE_CHOICE_HOME_REGION_EXPECTED))
    in_store = float(_get(stats, st.STORE_CHOICE_IN_STORE_SALES))
    if in_store > 0:
        p = expected_home / in_store
        checks.append(
            at_most(
                "transactions.home_region_share",
                "fidelity",
                "|observed - expected| share",
                abs(observed_home - expected_home) / in_store,
                GATE_SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / in_store) + MIX_SLACK,
                f"in-store sales in the home region: {observed_home / in_store:.4f}"
                f" vs {p:.4f} expected",
            )
        )
    return checks


def _intensity_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Legitimate sales per purchase-rate class of customer (segment x loyalty x income
    band) against the purchases the spec's rate formula expects of the customers on disk:
    it tests frequency by segment, the loyalty uplift and the income elasticity, which the
    total volume alone cannot tell apart. A class's count varies with the Poisson draws
    and with its customers' gamma activity: variance sum(m) + sum(m^2) / activity_shape
    over its customers' expected purchases m."""
    classes = ctx.intensity_classes()
    observed = np.asarray(_get(stats, st.TRANSACTIONS_SALES_BY_CLASS, np.zeros(classes)), float)
    expected = np.asarray(_get(stats, st.CUSTOMERS_CLASS_EXPECTED, np.zeros(classes)), float)
    squares = np.asarray(_get(stats, st.CUSTOMERS_CLASS_EXPECTED_SQ, np.zeros(classes)), float)
    variance = expected + squares / ctx.spec.customers.activity_shape
    judged = expected > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        relative_error = np.abs(observed / expected - 1.0)
        tolerance = GATE_SIGMAS * np.sqrt(variance) / expected + VOLUME_SLACK
        excess = np.where(judged, relative_error / tolerance, np.where(observed > 0, np.inf, 0.0))
        z = np.where(judged, (observed - expected) / np.sqrt(variance), 0.0)
    worst = int(np.argmax(excess)) if classes else 0
    ratio = observed[worst] / expected[worst] if classes and judged[worst] else math.nan
    return at_most(
        "transactions.intensity_by_class",
        "fidelity",
        "error / tolerance (worst class)",
        float(excess[worst]) if classes else 0.0,
        1.0,
        "legitimate sales per customer class (segment x loyalty x income band) vs the spec's"
        f" purchase rate of the customers on disk; worst: {ctx.intensity_label(worst)},"
        f" {ratio:.3f} of expected",
        chi_square_sum_p(float((z * z).sum()), int(judged.sum())),
    )


@dataclass(frozen=True)
class OnlineShares:
    """Per age band: observed and expected online share, sales, and whether judged."""

    observed: np.ndarray
    expected: np.ndarray
    sales: np.ndarray
    judged: np.ndarray


def online_shares(ctx: ValidationContext, stats: Stats) -> OnlineShares:
    """Online share of legitimate sales per age band, observed and expected (the spec's
    online share x age factor, weighted by the band's expected purchases)."""
    shape = (len(ctx.spec.customers.age_pyramid), len(CHANNELS))
    observed = np.asarray(_get(stats, st.TRANSACTIONS_SALES_BY_BAND_CHANNEL, np.zeros(shape)))
    expected = np.asarray(_get(stats, st.CUSTOMERS_BAND_CHANNEL_EXPECTED, np.zeros(shape)))
    online = CHANNELS.index("online")
    sales = observed.sum(axis=1).astype(np.float64)
    expected_total = expected.sum(axis=1)
    judged = (sales > 0) & (expected_total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(judged, expected[:, online] / expected_total, 0.0)
        observed_share = np.where(judged, observed[:, online] / sales, 0.0)
    return OnlineShares(observed_share, share, sales, judged)


def _online_by_age_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Online share of legitimate sales in each age band vs the spec. Given a band's
    sales, its online count is binomial (both channels of a customer share the same
    activity)."""
    bands = ctx.spec.customers.age_pyramid
    shares = online_shares(ctx, stats)
    share, judged = shares.expected, shares.judged
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(judged, np.sqrt(share * (1.0 - share) / shares.sales), 0.0)
        error = np.abs(shares.observed - share)
        excess = np.where(judged, error / (GATE_SIGMAS * spread + MIX_SLACK), 0.0)
        z = np.where(spread > 0, (shares.observed - share) / spread, 0.0)
    worst = int(np.argmax(excess)) if excess.size else 0
    return at_most(
        "transactions.online_share_by_age",
        "fidelity",
        "error / tolerance (worst band)",
        float(excess[worst]) if excess.size else 0.0,
        1.0,
        f"online share of sales in each age band vs the spec (worst {bands[worst].label}:"
        f" {shares.observed[worst]:.4f} observed, {share[worst]:.4f} expected)",
        chi_square_sum_p(float((z * z).sum()), int(judged.sum())),
    )


def _holiday_checks(
    ctx: ValidationContext, observed: np.ndarray, expected: np.ndarray, extra_cv2: float
) -> list[Check]:
    spec = ctx.spec
    names = holiday_names(spec, ctx.dates)
    holiday = np.asarray(
        [
            n is not None and not all(p.strip().endswith("(observed)") for p in n.split(";"))
            for n in names
        ]
    )
    years = sorted({d.year for d in ctx.dates.astype(dt.date).tolist()})
    fridays = [np.datetime64(black_friday(y), "D") for y in years]
    friday = np.isin(ctx.dates, fridays)
    checks = []
    for name, mask, what in (
        ("transactions.holiday_lift", holiday, "public holidays"),
        ("transactions.black_friday_lift", friday, "Black Friday"),
    ):
        exp = float(expected[mask].sum())
        if exp <= 0:
            continue
        obs = float(observed[mask].sum())
        # Compare the lift over the ordinary days of the same weeks: observed vs expected.
        error = abs(obs / exp - 1.0)
        checks.append(
            at_most(
                name,
                "fidelity",
                "|observed / expected - 1|",
                error,
                poisson_ratio_threshold(exp, extra_cv2, PROFILE_SLACK),
                f"sales on {what}: {obs:,.0f} vs {exp:,.0f} expected with the spec's multipliers",
                two_sided_normal_p((obs - exp) / math.sqrt(exp)),
            )
        )
    return checks


# --- baskets ---------------------------------------------------------------------------------


def basket_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Basket size, category mix (overall and per month), quantities, unit prices."""
    spec = ctx.spec
    checks: list[Check] = []
    checks += _basket_size_checks(ctx, stats)
    observed = np.asarray(
        _get(stats, st.CATEGORIES_OBSERVED, np.zeros((len(ctx.months), len(ctx.categories))))
    )
    expected = np.asarray(
        _get(stats, st.CATEGORIES_EXPECTED, np.zeros_like(observed, dtype=np.float64))
    )
    n = float(observed.sum())
    checks.append(
        _tvd_check(
            "line_items.category_mix",
            observed.sum(axis=0),
            expected.sum(axis=0),
            n,
            MIX_SLACK,
            "category of each line vs demand x age/gender affinity x seasonality x promotions",
        )
    )
    worst, worst_month = 0.0, "n/a"
    for m, label in enumerate(ctx.months):
        month_lines = float(observed[m].sum())
        if month_lines < 1:
            continue
        excess = tvd(observed[m], expected[m]) / tvd_threshold(month_lines, expected[m], MIX_SLACK)
        if excess > worst:
            worst, worst_month = excess, label
    checks.append(
        at_most(
            "line_items.category_by_month",
            "fidelity",
            "TVD / tolerance (worst month)",
            worst,
            1.0,
            f"category mix of each month (toys in December, garden in spring; worst {worst_month})",
        )
    )
    checks.append(_category_by_group_check(ctx, stats))
    lines = np.asarray(
        _get(stats, st.CATEGORIES_LINES, np.zeros(len(ctx.categories))), dtype=np.float64
    )
    total_q = np.asarray(_get(stats, st.CATEGORIES_QUANTITY_SUM, np.zeros(len(ctx.categories))))
    means = np.asarray([1.0 + c.quantity_mean for c in spec.products.categories])
    variance = np.asarray([c.quantity_mean for c in spec.products.categories])
    with np.errstate(divide="ignore", invalid="ignore"):
        observed_mean = np.where(lines > 0, total_q / np.maximum(lines, 1), means)
        tolerance = (
            GATE_SIGMAS * np.sqrt(np.maximum(variance, 1e-12) / np.maximum(lines, 1))
            + MIX_SLACK * means
        )
    excess = float(np.max(np.abs(observed_mean - means) / tolerance)) if lines.size else 0.0
    checks.append(
        at_most(
            "line_items.quantity_by_category",
            "fidelity",
            "error / tolerance (worst)",
            excess,
            1.0,
            "mean units per line of each category vs 1 + quantity_mean",
        )
    )
    checks.append(_discount_check(ctx, stats))
    checks.append(_unit_price_check(ctx, stats))
    return checks


def _basket_size_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Lines beyond the first per legitimate sale (Poisson: basket_mean_items - 1 scaled by
    the segment's and the channel's basket factors), in all and per (segment, channel)."""
    spec = ctx.spec
    shape = (len(ctx.segments), len(CHANNELS))
    sales = np.asarray(_get(stats, st.BASKETS_SALES_BY_CELL, np.zeros(shape)), float)
    observed = np.asarray(_get(stats, st.BASKETS_EXTRA_LINES_BY_CELL, np.zeros(shape)), float)
    sales, observed = sales.reshape(shape), observed.reshape(shape)
    segment_factor = np.asarray([s.basket for s in spec.customers.segments.values()])
    channel_factor = np.asarray(
        [getattr(spec.sales.channels, name).basket_factor for name in CHANNELS]
    )
    expected = (
        sales * (spec.sales.basket_mean_items - 1.0) * np.outer(segment_factor, channel_factor)
    )
    checks: list[Check] = []
    total_observed, total_expected = float(observed.sum()), float(expected.sum())
    if total_expected > 0:
        checks.append(
            at_most(
                "line_items.basket_size",
                "fidelity",
                "|observed / expected - 1|",
                abs(total_observed / total_expected - 1.0),
                poisson_ratio_threshold(total_expected, 0.0, MIX_SLACK),
                "lines beyond the first per sale vs basket_mean_items x segment x channel factors",
                two_sided_normal_p((total_observed - total_expected) / math.sqrt(total_expected)),
            )
        )
    judged = expected > 0
    excess = np.zeros(shape)
    for s, c in zip(*np.nonzero(judged), strict=True):
        error = abs(observed[s, c] / expected[s, c] - 1.0)
        excess[s, c] = error / poisson_ratio_threshold(float(expected[s, c]), 0.0, MIX_SLACK)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(judged, (observed - expected) / np.sqrt(expected), 0.0)
    s, c = np.unravel_index(int(np.argmax(excess)), shape)
    checks.append(
        at_most(
            "line_items.basket_size_by_segment_channel",
            "fidelity",
            "error / tolerance (worst cell)",
            float(excess[s, c]),
            1.0,
            "lines beyond the first per sale in each segment x channel vs the spec's factors"
            f" (worst {ctx.segments[s]}, {CHANNELS[c]}:"
            f" {observed[s, c]:,.0f} observed, {expected[s, c]:,.0f} expected)",
            chi_square_sum_p(float((z * z).sum()), int(judged.sum())),
        )
    )
    return checks


def _category_by_group_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Category mix of each audience group (age band x gender) vs the spec's age and gender
    affinities: the worst group's TVD against its tolerance."""
    shape = (ctx.group_count(), len(ctx.categories))
    observed = np.asarray(_get(stats, st.CATEGORIES_OBSERVED_BY_GROUP, np.zeros(shape)))
    expected = np.asarray(_get(stats, st.CATEGORIES_EXPECTED_BY_GROUP, np.zeros(shape)))
    bands = ctx.spec.customers.age_pyramid
    worst, worst_group = 0.0, "n/a"
    for g in range(shape[0]):
        group_lines = float(observed[g].sum())
        if group_lines < 1:
            continue
        excess = tvd(observed[g], expected[g]) / tvd_threshold(group_lines, expected[g], MIX_SLACK)
        if excess > worst:
            band, gender = divmod(g, len(GENDERS))
            worst = excess
            worst_group = f"ages {bands[band].min}-{bands[band].max}, {GENDERS[gender]}"
    return at_most(
        "line_items.category_by_audience",
        "fidelity",
        "TVD / tolerance (worst group)",
        worst,
        1.0,
        f"category mix of each age band x gender vs the spec's affinities (worst {worst_group})",
    )


def _discount_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Discounted lines of legitimate sales vs the spec: every line of a category on
    promotion that day, and the markdown rate of the others."""
    observed = float(_get(stats, st.DISCOUNTS_LINES_OBSERVED))
    expected = float(_get(stats, st.DISCOUNTS_LINES_EXPECTED, 0.0))
    variance = float(_get(stats, st.DISCOUNTS_VARIANCE, 0.0))
    lines = float(np.sum(_get(stats, st.CATEGORIES_LINES, np.zeros(len(ctx.categories)))))
    tolerance = max(GATE_SIGMAS * math.sqrt(variance) + MIX_SLACK * lines, MIN_COUNT_TOLERANCE)
    share = lines if lines > 0 else 1.0
    return at_most(
        "line_items.discount_share",
        "fidelity",
        "|observed - expected| / tolerance",
        abs(observed - expected) / tolerance,
        1.0,
        f"lines discounted: {observed / share:.4f} observed, {expected / share:.4f} expected"
        f" (all lines on promotion, else markdown rate {ctx.spec.sales.markdown.rate:.2f})",
        two_sided_normal_p((observed - expected) / math.sqrt(variance)) if variance > 0 else None,
    )


def _unit_price_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Unit prices sold per category vs the catalogue weighted by Zipf popularity."""
    hist = np.asarray(
        _get(
            stats,
            st.CATEGORIES_UNIT_PRICE_HIST,
            np.zeros((len(ctx.categories), LOG_PRICE_EDGES.shape[0] + 1)),
        )
    )
    category = np.asarray(_get(stats, st.PRODUCTS_CATEGORY_FIRST, np.zeros(0)), dtype=np.int64)
    price = np.asarray(_get(stats, st.PRODUCTS_PRICE_FIRST, np.zeros(0)), dtype=np.int64)
    popularity = product_world(ctx.spec).popularity
    worst_excess, worst_name, worst_value, worst_p = 0.0, "n/a", 0.0, None
    if category.shape[0] == popularity.shape[0]:
        log_price = np.log10(np.maximum(price, 1))
        for k, name in enumerate(ctx.categories):
            n = float(hist[k].sum())
            rows = category == k
            if n < 1 or not rows.any():
                continue
            order = np.argsort(log_price[rows])
            cumulative = np.cumsum(popularity[rows][order]) / popularity[rows].sum()
            position = np.searchsorted(log_price[rows][order], LOG_PRICE_EDGES, side="left")
            expected_cdf = np.where(position > 0, cumulative[np.maximum(position - 1, 0)], 0.0)
            distance = ks_distance(hist[k], expected_cdf)
            excess = distance / ks_threshold(n, KS_SLACK)
            if excess > worst_excess:
                worst_excess, worst_name, worst_value, worst_p = (
                    excess,
                    name,
                    distance,
                    ks_p_value(distance, n),
                )
    return at_most(
        "line_items.unit_price_by_category",
        "fidelity",
        "KS D / tolerance (worst)",
        worst_excess,
        1.0,
        f"prices sold per category vs the catalogue weighted by popularity (worst {worst_name}:"
        f" D={worst_value:.4f})",
        worst_p,
    )


# --- fraud -----------------------------------------------------------------------------------


def design_effect(spec_shares: dict[str, float], moments: dict[str, tuple[float, float]]) -> float:
    """Variance inflation of a count of transactions that come in events: a type whose
    event sizes have mean m and variance v has mean + variance / mean; a mix averages by
    share. (Event counts vary at most like Poisson counts: systematic rounding.)"""
    total = sum(spec_shares.values())
    if total <= 0:
        return 1.0
    return (
        sum(share * (m + v / m) for name, share in spec_shares.items() for m, v in [moments[name]])
        / total
    )


def fraud_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Fraud rate overall, per type and per month, each with an exact binomial interval on
    the effective sample size (events make transactions cluster; see design_effect)."""
    fraud = ctx.spec.fraud
    checks: list[Check] = []
    daily_fraud = np.asarray(
        _get(stats, st.TRANSACTIONS_DAILY_FRAUD, np.zeros((ctx.days, len(FRAUD_TYPES))))
    )
    daily = np.asarray(_get(stats, st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    legit = float(daily.sum())
    total_fraud = float(daily_fraud.sum())
    total = legit + total_fraud
    shares = fraud.shares()
    moments = {name: event_size_moments(ctx.spec, name) for name in FRAUD_TYPES}
    overall_effect = design_effect(shares, moments)
    checks.append(
        _rate_check(
            "fraud.rate", total_fraud, total, fraud.rate, "overall fraud rate", overall_effect
        )
    )
    for t, name in enumerate(FRAUD_TYPES):
        effect = design_effect({name: 1.0}, moments)
        checks.append(
            _rate_check(f"fraud.rate_{name}", float(daily_fraud[:, t].sum()), total,
                        fraud.rate * shares[name], f"rate of {name}", effect)
        )  # fmt: skip
    monthly_fraud = np.bincount(ctx.month_of_day, daily_fraud.sum(axis=1), len(ctx.months))
    monthly_total = (
        np.bincount(ctx.month_of_day, daily.sum(axis=(1, 2)), len(ctx.months)) + monthly_fraud
    )
    failing = [
        check
        for m, label in enumerate(ctx.months)
        for check in [
            _rate_check(f"fraud.rate_{label}", float(monthly_fraud[m]), float(monthly_total[m]),
                        fraud.rate, f"fraud rate in {label}", overall_effect)
        ]
        if not check.passed
    ]  # fmt: skip
    checks.append(
        at_most(
            "fraud.rate_by_month",
            "fraud",
            "months outside their interval",
            len(failing),
            0,
            f"every month's fraud rate has the target inside its exact {100 * CI_CONFIDENCE:.4f}%"
            " interval" + (f" (first failing: {failing[0].explanation})" if failing else ""),
        )
    )
    return checks


def _rate_check(
    name: str, successes: float, trials: float, target: float, what: str, effect: float
) -> Check:
    """The target inside the exact interval of the observed rate at the effective size."""
    effective_successes = round(successes / effect)
    effective_trials = max(round(trials / effect), effective_successes)
    low, high = binomial_interval(effective_successes, effective_trials)
    observed = successes / trials if trials else 0.0
    outside = 0.0 if low <= target <= high else min(abs(target - low), abs(target - high))
    return at_most(
        name,
        "fraud",
        "distance of target from interval",
        outside,
        0.0,
        f"{what}: {observed:.5f} observed ({successes:,.0f} of {trials:,.0f}),"
        f" interval [{low:.5f}, {high:.5f}] (design effect {effect:.2f}), target {target:.5f}",
        binomial_p_value(effective_successes, effective_trials, target),
    )


def share_gate(target: float, n: float) -> float:
    """A share gate at the sample's size: ``target`` less GATE_SIGMAS binomial errors."""
    return max(0.0, target - GATE_SIGMAS * math.sqrt(target * (1.0 - target) / max(n, 1.0)))


def signature_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Each enabled fraud type shows its signature next to legitimate traffic.

    Share gates are the documented signature share less the sampling tolerance of the
    observed count; amount ratios compare means. A type with fewer than
    MIN_SIGNATURE_EVENTS transactions is not judged (stated in the report by its absence).
    """
    fraud = ctx.spec.fraud
    shares = fraud.shares()
    multi_region = len(ctx.regions) > 1

    def get(group: str, feature: str) -> float:
        return float(_get(stats, st.signature(group, feature)))

    def share(group: str, feature: str) -> float:
        return get(group, feature) / max(get(group, "n"), 1.0)

    def median_amount(group: str) -> float:
        hist = np.asarray(
            _get(stats, st.signature(group, "amount_hist"), np.zeros(LOG_AMOUNT_EDGES.shape[0] + 1))
        )
        if hist.sum() <= 0:
            return 0.0
        return float(10 ** _histogram_median(hist, LOG_AMOUNT_EDGES))

    judged = {
        name: fraud.rate > 0 and shares[name] > 0 and get(name, "n") >= MIN_SIGNATURE_EVENTS
        for name in TYPOLOGIES
    }
    checks: list[Check] = []
    for kind, typology in TYPOLOGIES.items():
        params = getattr(fraud.types, kind)
        for signature in typology.share_signatures:
            if not judged[kind] or not signature.applies(params):
                continue
            if signature.needs_regions and not multi_region:
                continue
            feature, target, legit = signature.feature, signature.target, signature.baseline
            checks.append(
                at_least(
                    f"signature.{signature.name}",
                    "signature",
                    "share",
                    share(kind, feature),
                    share_gate(target, get(kind, "n")),
                    f"{kind}: {signature.what} (target {target:.2f};"
                    f" legitimate: {share(legit, feature):.3f})",
                )
            )
    for kind, typology in TYPOLOGIES.items():
        for amount in typology.amount_signatures:
            if not judged[kind]:
                continue
            legit = amount.baseline
            checks.append(
                at_least(
                    f"signature.{amount.name}",
                    "signature",
                    "median amount ratio",
                    median_amount(kind) / max(median_amount(legit), 1.0),
                    amount.ratio,
                    f"median {amount.what} vs median legitimate ({median_amount(legit) / 100:.2f})",
                )
            )
    return checks


def fraud_summary(ctx: ValidationContext, stats: Stats) -> dict[str, Any]:
    """Realised fraud counts per type and month, for the report."""
    daily_fraud = np.asarray(
        _get(stats, st.TRANSACTIONS_DAILY_FRAUD, np.zeros((ctx.days, len(FRAUD_TYPES))))
    )
    monthly = np.stack(
        [
            np.bincount(ctx.month_of_day, daily_fraud[:, t], len(ctx.months))
            for t in range(len(FRAUD_TYPES))
        ],
        1,
    )
    return {
        "by_type": {name: int(daily_fraud[:, t].sum()) for t, name in enumerate(FRAUD_TYPES)},
        "by_month": {
            m: {name: int(monthly[i, t]) for t, name in enumerate(FRAUD_TYPES)}
            for i, m in enumerate(ctx.months)
        },
    }
