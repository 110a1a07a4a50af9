"""Checks of the catalogue family."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.model.products import (
    charm_support,
    charm_upper_bound,
    products_per_category,
)
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    KS_SLACK,
    MIX_SLACK,
    CheckFamily,
    CheckInfo,
    fidelity,
    stat,
    tvd_check,
)
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import (
    Check,
    at_most,
    chi_square_p,
    ks_p_value,
    ks_threshold,
    normal_cdf,
    tvd,
    tvd_threshold,
)
from synthpipe.validate.merge import Stats

# --- products and stores -------------------------------------------------------------------


def catalogue_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Catalogue mix and list-price distributions; store formats."""
    spec = ctx.spec
    checks: list[Check] = []
    counts = np.asarray(stat(stats, st.PRODUCTS_CATEGORY_COUNTS, np.zeros(len(ctx.categories))))
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
    category = np.asarray(stat(stats, st.PRODUCTS_CATEGORY_FIRST, np.zeros(0)), dtype=np.int64)
    price = np.asarray(stat(stats, st.PRODUCTS_PRICE_FIRST, np.zeros(0)), dtype=np.int64)
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
    formats = np.asarray(stat(stats, st.STORES_FORMAT_COUNTS, np.zeros(len(spec.stores.formats))))
    expected_formats = np.asarray([f.share for f in spec.stores.formats.values()])
    checks.append(
        tvd_check(
            "stores.format_mix",
            formats,
            expected_formats,
            float(formats.sum()),
            MIX_SLACK,
            "store formats vs the spec's shares",
        )
    )
    return checks


CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "products.category_mix",
        "products per category follow catalog_share exactly (largest remainder)",
        st.PRODUCTS_CATEGORY_COUNTS,
    ),
    fidelity(
        "products.list_prices",
        "list prices per category vs log-normal with charm endings",
        st.PRODUCTS_CATEGORY_FIRST,
        st.PRODUCTS_PRICE_FIRST,
    ),
    fidelity("stores.format_mix", "store formats vs the spec's shares", st.STORES_FORMAT_COUNTS),
)

FAMILY = CheckFamily(
    order=30,
    judge=lambda ctx, stats, _listing: catalogue_checks(ctx, stats),
    checks=CHECKS,
)
