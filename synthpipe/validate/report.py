"""The fidelity report document: verdicts, a summary, and the series the HTML plots, built
once as the typed models of ``synthpipe.validate.results``."""

from __future__ import annotations

import datetime as dt

import numpy as np

import synthpipe
from synthpipe.clock import weekday_of
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import ordinary_daily
from synthpipe.validate.checks.fraud import fraud_summary
from synthpipe.validate.checks.volume import expected_sales, online_shares
from synthpipe.validate.context import (
    INCOME_BANDS,
    LOYALTY_STATES,
    MAX_AGE,
    ValidationContext,
)
from synthpipe.validate.dimensions import LOG_INCOME_EDGES
from synthpipe.validate.gates import Check, normalise
from synthpipe.validate.listing import Listing
from synthpipe.validate.merge import Stats
from synthpipe.validate.results import (
    AgePyramid,
    AmountHistograms,
    CategoryShares,
    DailySeries,
    FidelityReport,
    FraudCounts,
    FraudRates,
    GroupCount,
    IncomeHistogram,
    ObservedExpected,
    OnlineShareByAge,
    PurchasesByClass,
    Series,
    Summary,
    Verdict,
    WeekdayShares,
    leakage_section,
)
from synthpipe.validate.sales import LOG_AMOUNT_EDGES
from synthpipe.vocabulary import CHANNELS, FRAUD_TYPES, GENDERS

REPORT_FORMAT = 1
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _rounded(values: np.ndarray, digits: int = 6) -> tuple[float, ...]:
    """The values as Python floats rounded to ``digits``: the report's numbers."""
    return tuple(round(float(v), digits) for v in np.asarray(values, dtype=np.float64).ravel())


def _counts(values: np.ndarray) -> tuple[int, ...]:
    """The values as Python ints."""
    return tuple(int(v) for v in values)


def _purchases_by_class(ctx: ValidationContext, stats: Stats) -> PurchasesByClass:
    """Legitimate sales per customer by income band, observed and expected, in one panel
    per segment x loyalty: the purchase rate's income elasticity and uplifts, drawn."""
    classes = ctx.intensity_classes()
    shape = (len(ctx.segments), len(LOYALTY_STATES), INCOME_BANDS)
    customers = np.asarray(stats.get(st.CUSTOMERS_CLASS_COUNTS, np.zeros(classes)), float)
    observed = np.asarray(stats.get(st.TRANSACTIONS_SALES_BY_CLASS, np.zeros(classes)), float)
    expected = np.asarray(stats.get(st.CUSTOMERS_CLASS_EXPECTED, np.zeros(classes)), float)
    per_customer = np.maximum(customers, 1.0)
    observed, expected = (observed / per_customer).reshape(shape), (expected / per_customer)
    expected = expected.reshape(shape)
    return PurchasesByClass(
        income_bands=tuple(ctx.income_band_labels()),
        panels={
            f"{segment}, {loyalty}": ObservedExpected(
                observed=_rounded(observed[s, k], 3), expected=_rounded(expected[s, k], 3)
            )
            for s, segment in enumerate(ctx.segments)
            for k, loyalty in enumerate(LOYALTY_STATES)
        },
    )


def _online_share_by_age(ctx: ValidationContext, stats: Stats) -> OnlineShareByAge:
    """Online share of legitimate sales per age band, observed and expected."""
    shares = online_shares(ctx, stats)
    return OnlineShareByAge(
        bands=tuple(b.label for b in ctx.spec.customers.age_pyramid),
        observed=_rounded(shares.observed),
        expected=_rounded(shares.expected),
    )


def series(ctx: ValidationContext, stats: Stats) -> Series:
    """Everything the HTML report draws."""
    daily = np.asarray(stats.get(st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    observed = ordinary_daily(ctx, stats)[:, :, 0].sum(axis=1)
    expected = expected_sales(ctx, stats).sum(axis=1)
    weekday = weekday_of(ctx.dates.astype(np.int64))
    hours = np.asarray(stats.get(st.TRANSACTIONS_HOURS, np.zeros((2, 24))))
    channels = ctx.spec.sales.channels
    age_gender = np.asarray(
        stats.get(st.CUSTOMERS_AGE_GENDER_COUNTS, np.zeros((MAX_AGE + 1, len(GENDERS))))
    )
    bands = ctx.spec.customers.age_pyramid
    pyramid = AgePyramid(
        bands=tuple(b.label for b in bands),
        observed={
            g: tuple(int(age_gender[b.min : b.max + 1, i].sum()) for b in bands)
            for i, g in enumerate(GENDERS)
        },
        expected_share=_rounded(normalise(np.asarray([b.weight for b in bands]))),
    )
    amount_hist = np.asarray(
        stats.get(
            st.CATEGORIES_NET_AMOUNT_HIST,
            np.zeros((len(ctx.categories), LOG_AMOUNT_EDGES.shape[0] + 1)),
        )
    )
    daily_fraud = np.asarray(
        stats.get(st.TRANSACTIONS_DAILY_FRAUD, np.zeros((ctx.days, len(FRAUD_TYPES))))
    )
    months = len(ctx.months)
    monthly_total = np.bincount(
        ctx.month_of_day, daily.sum(axis=(1, 2)) + daily_fraud.sum(axis=1), months
    )
    fraud_rate = {
        name: _rounded(
            np.bincount(ctx.month_of_day, daily_fraud[:, t], months) / np.maximum(monthly_total, 1)
        )
        for t, name in enumerate(FRAUD_TYPES)
    }
    categories_observed = np.asarray(
        stats.get(st.CATEGORIES_OBSERVED, np.zeros((months, len(ctx.categories))))
    )
    categories_expected = np.asarray(
        stats.get(st.CATEGORIES_EXPECTED, np.zeros((months, len(ctx.categories))))
    )
    income = np.asarray(
        stats.get(
            st.CUSTOMERS_LOG_INCOME_HIST, np.zeros((len(bands), LOG_INCOME_EDGES.shape[0] + 1))
        )
    )
    return Series(
        daily=DailySeries(
            dates=tuple(str(d) for d in ctx.dates),
            observed=_counts(observed),
            expected=_rounded(expected, 2),
        ),
        weekday=WeekdayShares(
            labels=WEEKDAYS,
            observed=_rounded(normalise(np.bincount(weekday, observed, 7))),
            expected=_rounded(normalise(np.bincount(weekday, expected, 7))),
        ),
        hours={
            name: ObservedExpected(
                observed=_rounded(normalise(hours[i])),
                expected=_rounded(normalise(np.asarray(channels.of(i).hours))),
            )
            for i, name in enumerate(CHANNELS)
        },
        age_pyramid=pyramid,
        amount_histograms=AmountHistograms(
            log10_cent_edges=_rounded(LOG_AMOUNT_EDGES, 3),
            by_category={c: _counts(amount_hist[k]) for k, c in enumerate(ctx.categories)},
        ),
        income_histogram=IncomeHistogram(
            log10_edges=_rounded(LOG_INCOME_EDGES, 3), counts=_counts(income.sum(axis=0))
        ),
        fraud_rate_by_month=FraudRates(
            months=tuple(ctx.months), target=ctx.spec.fraud.rate, by_type=fraud_rate
        ),
        purchases_by_class=_purchases_by_class(ctx, stats),
        online_share_by_age=_online_share_by_age(ctx, stats),
        category_share_by_month=CategoryShares(
            months=tuple(ctx.months),
            categories=tuple(ctx.categories),
            observed=tuple(_rounded(normalise(row)) for row in categories_observed),
            expected=tuple(_rounded(normalise(row)) for row in categories_expected),
        ),
    )


def summarise(checks: list[Check], listing: Listing) -> Summary:
    """The verdicts counted overall and per group (groups in order of first appearance),
    and the rows of each table."""
    failed = [c for c in checks if not c.passed]
    groups: dict[str, GroupCount] = {}
    for check in checks:
        group = groups.get(check.group, GroupCount(tests=0, failed=0))
        groups[check.group] = GroupCount(
            tests=group.tests + 1, failed=group.failed + int(not check.passed)
        )
    return Summary(
        tests=len(checks),
        failed=len(failed),
        failed_tests=tuple(c.name for c in failed),
        groups=groups,
        rows=dict(listing.table_rows),
    )


def build_report(
    ctx: ValidationContext,
    stats: Stats,
    checks: list[Check],
    listing: Listing,
    dataset: str,
) -> FidelityReport:
    """The report document (written as _fidelity/report.json); the engine adds the
    reference and learnability sections with ``model_copy``."""
    summary = summarise(checks, listing)
    return FidelityReport(
        format=REPORT_FORMAT,
        generator=synthpipe.GENERATOR_NAME,
        version=synthpipe.__version__,
        dataset=dataset,
        spec_sha256=listing.spec_sha256,
        seed=ctx.spec.seed,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        passed=not summary.failed,
        summary=summary,
        fraud_counts=FraudCounts.model_validate(fraud_summary(ctx, stats)),
        issues=tuple(stats.get(st.ISSUES, [])),
        leakage=leakage_section(stats.get(st.LEAKAGE_AUDIT, {})),
        busy_seconds=round(float(stats.get(st.BUSY_SECONDS, 0.0)), 3),
        tests=tuple(Verdict.of(c) for c in checks),
        series=series(ctx, stats),
    )
