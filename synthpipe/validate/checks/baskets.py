"""Checks of the baskets family."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.model.products import (
    product_world,
)
from synthpipe.model.sales import repeat_factor, splurge_lines_mean
from synthpipe.spec.models import Spec
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    KS_SLACK,
    MIN_COUNT_TOLERANCE,
    MIX_SLACK,
    CheckFamily,
    CheckInfo,
    fidelity,
    stat,
    tvd_check,
)
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import LOG_PRICE_EDGES
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    Check,
    at_most,
    chi_square_sum_p,
    ks_distance,
    ks_p_value,
    ks_threshold,
    poisson_ratio_threshold,
    tvd,
    tvd_threshold,
    two_sided_normal_p,
)
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import CHANNELS, GENDERS

# --- baskets ---------------------------------------------------------------------------------


def basket_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Basket size, category mix (overall and per month), quantities, unit prices."""
    spec = ctx.spec
    checks: list[Check] = []
    checks += _basket_size_checks(ctx, stats)
    observed = np.asarray(
        stat(stats, st.CATEGORIES_OBSERVED, np.zeros((len(ctx.months), len(ctx.categories))))
    )
    expected = np.asarray(
        stat(stats, st.CATEGORIES_EXPECTED, np.zeros_like(observed, dtype=np.float64))
    )
    n = float(observed.sum())
    checks.append(
        tvd_check(
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
        stat(stats, st.CATEGORIES_LINES, np.zeros(len(ctx.categories))), dtype=np.float64
    )
    total_q = np.asarray(stat(stats, st.CATEGORIES_QUANTITY_SUM, np.zeros(len(ctx.categories))))
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
    checks.append(brand_repeat_check(ctx, stats))
    return checks


def brand_repeat_share(loyalty: float, shares: np.ndarray) -> np.ndarray:
    """Per category, the chance two lines of one customer there share a brand: the
    favourite f is drawn by share m, each line is f with probability rho, else any brand
    by share, so P = rho^2 + (1 - rho^2) x sum m^2."""
    return np.asarray(loyalty**2 + (1.0 - loyalty**2) * (shares * shares).sum(axis=1))


def brand_repeat_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Brand loyalty: the share of same-brand pairs among a customer's lines of a category
    (within a block-month) against its expectation. Pairs of one customer share the
    favourite, so the spread is counted per customer-category, not per pair."""
    categories = len(ctx.categories)
    pairs = np.asarray(stat(stats, st.BASKETS_BRAND_PAIRS, np.zeros(categories)), float)
    same = np.asarray(stat(stats, st.BASKETS_BRAND_SAME, np.zeros(categories)), float)
    groups = float(np.sum(stat(stats, st.BASKETS_BRAND_GROUPS, np.zeros(categories))))
    total = float(pairs.sum())
    expected_share = brand_repeat_share(ctx.spec.products.brand_loyalty, ctx.brand_shares)
    expected = float((pairs * expected_share).sum()) / max(total, 1.0)
    observed = float(same.sum()) / max(total, 1.0)
    spread = math.sqrt(expected * (1.0 - expected) / max(groups, 1.0))
    return at_most(
        "line_items.brand_repeat_share",
        "fidelity",
        "|observed - expected| share",
        abs(observed - expected),
        GATE_SIGMAS * spread + MIX_SLACK,
        f"a customer's line pairs in one category sharing a brand: {observed:.4f} observed vs"
        f" {expected:.4f} expected ({total:,.0f} pairs, {groups:,.0f} customer-categories)",
    )


def splurge_cv2(spec: Spec, sales: float, expected: float) -> float:
    """Relative variance the splurges add to a cell's extra lines beyond the Poisson one:
    each sale adds B x P, B Bernoulli(splurge) and P Poisson(L), of variance
    s (L + L^2) - (s L)^2."""
    habits = spec.sales.habits
    s, extra = habits.splurge, habits.splurge_extra_lines
    variance = s * (extra + extra * extra) - (s * extra) ** 2 - s * extra
    return sales * max(variance, 0.0) / max(expected, 1e-12) ** 2


def _basket_size_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Lines beyond the first per legitimate sale (Poisson: basket_mean_items - 1 scaled by
    the segment's and the channel's basket factors, plus splurge x splurge_extra_lines),
    in all and per (segment, channel)."""
    spec = ctx.spec
    shape = (len(ctx.segments), len(CHANNELS))
    sales = np.asarray(stat(stats, st.BASKETS_SALES_BY_CELL, np.zeros(shape)), float)
    observed = np.asarray(stat(stats, st.BASKETS_EXTRA_LINES_BY_CELL, np.zeros(shape)), float)
    sales, observed = sales.reshape(shape), observed.reshape(shape)
    segment_factor = np.asarray([s.basket for s in spec.customers.segments.values()])
    channel_factor = np.asarray([c.basket_factor for c in spec.sales.channels.sections()])
    expected = sales * (
        (spec.sales.basket_mean_items - 1.0) * np.outer(segment_factor, channel_factor)
        + splurge_lines_mean(spec)
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
                poisson_ratio_threshold(
                    total_expected, splurge_cv2(spec, float(sales.sum()), total_expected), MIX_SLACK
                ),
                "lines beyond the first per sale vs basket_mean_items x segment x channel factors",
                two_sided_normal_p((total_observed - total_expected) / math.sqrt(total_expected)),
            )
        )
    judged = expected > 0
    excess = np.zeros(shape)
    for s, c in zip(*np.nonzero(judged), strict=True):
        error = abs(observed[s, c] / expected[s, c] - 1.0)
        cv2 = splurge_cv2(spec, float(sales[s, c]), float(expected[s, c]))
        excess[s, c] = error / poisson_ratio_threshold(float(expected[s, c]), cv2, MIX_SLACK)
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
    observed = np.asarray(stat(stats, st.CATEGORIES_OBSERVED_BY_GROUP, np.zeros(shape)))
    expected = np.asarray(stat(stats, st.CATEGORIES_EXPECTED_BY_GROUP, np.zeros(shape)))
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
    observed = float(stat(stats, st.DISCOUNTS_LINES_OBSERVED))
    expected = float(stat(stats, st.DISCOUNTS_LINES_EXPECTED, 0.0))
    variance = float(stat(stats, st.DISCOUNTS_VARIANCE, 0.0))
    lines = float(np.sum(stat(stats, st.CATEGORIES_LINES, np.zeros(len(ctx.categories)))))
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


def brand_price_spread(
    log_price: np.ndarray, popularity: np.ndarray, brand: np.ndarray, brands: int
) -> tuple[np.ndarray, np.ndarray]:
    """For one category's products: F(x), the popularity-weighted share of its products
    priced below each of LOG_PRICE_EDGES (a drawn line's price CDF), and V(x) = sum over
    its brands f of m_f (F_f(x) - F(x))^2, the spread of the brands' own CDFs F_f (by
    popularity within the brand), m_f a brand's share of the category's popularity."""
    cell = np.searchsorted(LOG_PRICE_EDGES, log_price, side="right")
    cells = LOG_PRICE_EDGES.shape[0]
    mass = np.bincount(
        brand * (cells + 1) + cell, weights=popularity, minlength=brands * (cells + 1)
    )
    by_brand = np.cumsum(mass.reshape(brands, cells + 1), axis=1)[:, :cells]
    brand_mass = by_brand[:, -1:] + mass.reshape(brands, cells + 1)[:, -1:]
    total = float(brand_mass.sum())
    if total <= 0:
        return np.zeros(cells), np.zeros(cells)
    share = brand_mass[:, 0] / total
    cdf = by_brand.sum(axis=0) / total
    own = np.divide(by_brand, brand_mass, out=np.zeros_like(by_brand), where=brand_mass > 0)
    return cdf, np.asarray(share @ (own - cdf) ** 2)


def price_design_effect(cdf: np.ndarray, spread: np.ndarray, loyalty: float, pairs: float) -> float:
    """How many times fewer independent lines a category's price sample is worth: with
    Var(F_n(x)) = (F (1 - F) + rho^2 V(x) P) / n (``_unit_price_check``), the bridge of the
    same largest variance has n / max_x 4 (F (1 - F) + rho^2 V(x) P) draws (at least 1:
    never more than the lines)."""
    return max(1.0, float(np.max(4.0 * (cdf * (1.0 - cdf) + loyalty**2 * spread * pairs))))


def line_pairs_per_line(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """Per category, P = sum over customers of m (m - 1) / sum of m, m a customer's lines
    of legitimate sales there over the whole calendar: how many other lines of its own
    customer a line has on average. Estimated from the followed customers' first sales
    N (S1 = sum N, S2 = sum N (N - 1)) and y, the category's lines per first sale:
    P = y h (S2 / S1 + c), h = E[y_g^2] / E[y_g]^2 over the audience groups' expected mixes
    (customers of one group share it), c = E[Z (Z - 1)] / E[Z]^2 for Z the lines of a
    first sale and its same-day repeat (the pairs within one visit)."""
    categories = len(ctx.categories)
    sample = [p for p in stat(stats, st.TRANSACTIONS_SAMPLE, []) if p.shape[0]]
    counts = (
        np.unique(np.concatenate(sample)[:, 0], return_counts=True)[1].astype(np.float64)
        if sample
        else np.zeros(0)
    )
    first_sales = float(
        np.asarray(stat(stats, st.HABITS_SALES_BY_KIND, np.zeros((2, 2))))[:, 0].sum()
    )
    lines = np.asarray(
        stat(
            stats,
            st.CATEGORIES_UNIT_PRICE_HIST,
            np.zeros((categories, LOG_PRICE_EDGES.shape[0] + 1)),
        )
    ).sum(axis=1)
    if counts.sum() <= 0 or first_sales <= 0:
        return np.zeros(categories)
    repeats = float((counts * (counts - 1.0)).sum() / counts.sum())
    by_group = np.asarray(
        stat(
            stats,
            st.CATEGORIES_EXPECTED_BY_GROUP,
            np.zeros((ctx.group_count(), categories)),
        ),
        dtype=np.float64,
    )
    group_lines = by_group.sum(axis=1, keepdims=True)
    mix = np.divide(by_group, group_lines, out=np.zeros_like(by_group), where=group_lines > 0)
    overall = by_group.sum(axis=0) / max(float(group_lines.sum()), 1e-300)
    spread = (group_lines * mix * mix).sum(axis=0) / max(float(group_lines.sum()), 1e-300)
    heterogeneity = np.divide(spread, overall**2, out=np.ones(categories), where=overall > 0)
    return np.asarray(lines / first_sales * heterogeneity * (repeats + _visit_pairs(ctx, stats)))


def _visit_pairs(ctx: ValidationContext, stats: Stats) -> float:
    """E[Z (Z - 1)] / E[Z]^2 for Z the lines of a first sale (L = 1 + Poisson(mu) +
    B Poisson(e), B a splurge) plus those of its same-day repeat, with probability r."""
    spec = ctx.spec
    shape = (len(ctx.segments), len(CHANNELS))
    sales = np.asarray(stat(stats, st.BASKETS_SALES_BY_CELL, np.zeros(shape)), float).ravel()
    if sales.sum() <= 0:
        return 0.0
    segment_factor = np.asarray([s.basket for s in spec.customers.segments.values()])
    channel_factor = np.asarray([c.basket_factor for c in spec.sales.channels.sections()])
    mu = ((spec.sales.basket_mean_items - 1.0) * np.outer(segment_factor, channel_factor)).ravel()
    s, e = spec.sales.habits.splurge, spec.sales.habits.splurge_extra_lines
    extra_mean = mu + s * e
    # E[X^2] of the extra lines X = Poisson(mu) + B Poisson(e), per (segment, channel)
    extra_square = mu + mu * mu + 2.0 * mu * s * e + s * (e + e * e)
    mean = 1.0 + float(sales @ extra_mean) / float(sales.sum())
    pairs = float(sales @ (extra_mean + extra_square)) / float(sales.sum())  # E[L (L - 1)]
    r = repeat_factor(spec) - 1.0
    return (pairs * (1.0 + r) + 2.0 * r * mean * mean) / ((1.0 + r) * mean) ** 2


def _unit_price_check(ctx: ValidationContext, stats: Stats) -> Check:
    """Unit prices sold per category vs the catalogue weighted by Zipf popularity. A
    customer's lines of a category share its favourite brand (products.brand_loyalty rho):
    two of them are both of it with probability rho^2, so Var(F_n(x)) is F(1 - F) / n x
    (1 + rho^2 V(x) / (F (1 - F)) x P), V the brands' spread (``brand_price_spread``) and P
    a line's other lines of its customer (``line_pairs_per_line``): a few customers buying
    for decades make P thousands. The KS gate takes the sample size whose bridge has the
    same largest variance: n / max_x 4 (F (1 - F) + rho^2 V(x) P)."""
    hist = np.asarray(
        stat(
            stats,
            st.CATEGORIES_UNIT_PRICE_HIST,
            np.zeros((len(ctx.categories), LOG_PRICE_EDGES.shape[0] + 1)),
        )
    )
    category = np.asarray(stat(stats, st.PRODUCTS_CATEGORY_FIRST, np.zeros(0)), dtype=np.int64)
    price = np.asarray(stat(stats, st.PRODUCTS_PRICE_FIRST, np.zeros(0)), dtype=np.int64)
    world = product_world(ctx.spec)
    popularity = world.popularity
    per = ctx.spec.products.brands_per_category
    loyalty = ctx.spec.products.brand_loyalty
    pairs = line_pairs_per_line(ctx, stats)
    worst_excess, worst_name, worst_value, worst_p, worst_design = 0.0, "n/a", 0.0, None, 1.0
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
            cdf, spread = brand_price_spread(
                log_price[rows], popularity[rows], world.brand[rows] % per, per
            )
            design = price_design_effect(cdf, spread, loyalty, float(pairs[k]))
            excess = distance / ks_threshold(n / design, KS_SLACK)
            if excess > worst_excess:
                worst_excess, worst_name, worst_value, worst_p, worst_design = (
                    excess,
                    name,
                    distance,
                    ks_p_value(distance, n / design),
                    design,
                )
    return at_most(
        "line_items.unit_price_by_category",
        "fidelity",
        "KS D / tolerance (worst)",
        worst_excess,
        1.0,
        f"prices sold per category vs the catalogue weighted by popularity (worst {worst_name}:"
        f" D={worst_value:.4f}, design effect {worst_design:.2f} of brand loyalty)",
        worst_p,
    )


_CELLS = (st.BASKETS_EXTRA_LINES_BY_CELL, st.BASKETS_SALES_BY_CELL)
CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "line_items.basket_size",
        "lines beyond the first per sale vs basket_mean_items x segment x channel factors",
        *_CELLS,
    ),
    fidelity(
        "line_items.basket_size_by_segment_channel",
        "lines beyond the first per sale in each segment x channel vs the spec's factors",
        *_CELLS,
    ),
    fidelity(
        "line_items.category_mix",
        "category of each line vs demand x age/gender affinity x seasonality x promotions",
        st.CATEGORIES_EXPECTED,
        st.CATEGORIES_OBSERVED,
    ),
    fidelity(
        "line_items.category_by_month",
        "category mix of each month (toys in December, garden in spring)",
        st.CATEGORIES_EXPECTED,
        st.CATEGORIES_OBSERVED,
    ),
    fidelity(
        "line_items.category_by_audience",
        "category mix of each age band x gender vs the spec's affinities",
        st.CATEGORIES_EXPECTED_BY_GROUP,
        st.CATEGORIES_OBSERVED_BY_GROUP,
    ),
    fidelity(
        "line_items.quantity_by_category",
        "mean units per line of each category vs 1 + quantity_mean",
        st.CATEGORIES_LINES,
        st.CATEGORIES_QUANTITY_SUM,
    ),
    fidelity(
        "line_items.discount_share",
        "lines discounted: all lines of a category on promotion, else the markdown rate",
        st.CATEGORIES_LINES,
        st.DISCOUNTS_LINES_EXPECTED,
        st.DISCOUNTS_LINES_OBSERVED,
        st.DISCOUNTS_VARIANCE,
    ),
    fidelity(
        "line_items.unit_price_by_category",
        "prices sold per category vs the catalogue weighted by popularity",
        st.CATEGORIES_UNIT_PRICE_HIST,
        st.PRODUCTS_CATEGORY_FIRST,
        st.PRODUCTS_PRICE_FIRST,
        st.TRANSACTIONS_SAMPLE,
        st.HABITS_SALES_BY_KIND,
        st.CATEGORIES_EXPECTED_BY_GROUP,
        st.BASKETS_SALES_BY_CELL,
    ),
    fidelity(
        "line_items.brand_repeat_share",
        "pairs of a customer's lines in one category that share a brand vs"
        " loyalty^2 + (1 - loyalty^2) x sum of squared brand shares",
        st.BASKETS_BRAND_PAIRS,
        st.BASKETS_BRAND_SAME,
        st.BASKETS_BRAND_GROUPS,
    ),
)

FAMILY = CheckFamily(
    order=50,
    judge=lambda ctx, stats, _listing: basket_checks(ctx, stats),
    checks=CHECKS,
)
