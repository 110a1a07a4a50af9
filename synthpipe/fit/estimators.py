"""The estimators of ``synthpipe fit``: each one declared once, here, with the spec fields it
sets and the sample columns it reads.

Every estimator takes the sample, one weight per customer (1 for the estimate, Poisson(1)
draws for a bootstrap replicate) and the spec it starts from, and returns values by
dotted spec path. Weights make the bootstrap over customers a re-weighting, not a copy.
The estimators themselves live by family: ``synthpipe.fit.timing`` (calendar, weekday,
hours, months), ``synthpipe.fit.baskets`` (channels, payments, baskets, returns, prices),
``synthpipe.fit.customers`` (gender, ages), ``synthpipe.fit.fraud`` (rate, mix) and
``synthpipe.fit.lifecycle`` (frequency, activity, dropout, signups); their names are
importable from here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synthpipe.fit.baskets import (
    PRICE_QUANTILES,
    basket_from,
    basket_size,
    category_prices,
    online_share,
    online_share_from,
    payment_mixes,
    population_line_values,
    price_scale,
    return_rate,
)
from synthpipe.fit.calibrate import calibrated_lifecycle
from synthpipe.fit.customers import age_pyramid, gender_mix
from synthpipe.fit.fraud import fraud_mix, fraud_rate
from synthpipe.fit.lifecycle import (
    DAYS_PER_FULL_YEAR,
    LOG_BOUNDS,
    START,
    Watched,
    customer_histories,
    day_moments,
    distinct_days,
    first_purchase_days,
    fit_pareto_nbd,
    lifecycle,
    lifecycle_from_signup,
    lifecycle_values,
    mean_multiplier,
    multiplier_cv2,
    observed_day_factor,
    pareto_nbd_log_likelihood,
    signup_growth,
    undo_day_merging,
    watched_histories,
)
from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import PROFILE_FLOOR, Values, row_weights, spec_profile
from synthpipe.fit.timing import (
    MONTHS,
    buying_customers,
    calendar_range,
    flat_month_factors,
    hour_profiles,
    month_basis,
    month_end,
    month_start,
    monthly_from_daily,
    weekday_from_daily,
    weekday_profile,
    without_night_shopping,
)
from synthpipe.spec.models import Spec

__all__ = [
    "DAYS_PER_FULL_YEAR",
    "ESTIMATORS",
    "LIFECYCLE_REPLICATES",
    "LOG_BOUNDS",
    "MONTHS",
    "NOT_ESTIMATED",
    "PRICE_QUANTILES",
    "PROFILE_FLOOR",
    "START",
    "Estimator",
    "Values",
    "Watched",
    "age_pyramid",
    "basket_from",
    "basket_size",
    "buying_customers",
    "calendar_range",
    "calibrated_lifecycle",
    "category_prices",
    "customer_histories",
    "day_moments",
    "distinct_days",
    "first_purchase_days",
    "fit_pareto_nbd",
    "flat_month_factors",
    "fraud_mix",
    "fraud_rate",
    "gender_mix",
    "hour_profiles",
    "lifecycle",
    "lifecycle_from_signup",
    "lifecycle_values",
    "mean_multiplier",
    "month_basis",
    "month_end",
    "month_start",
    "monthly_from_daily",
    "multiplier_cv2",
    "observed_day_factor",
    "online_share",
    "online_share_from",
    "pareto_nbd_log_likelihood",
    "payment_mixes",
    "population_line_values",
    "price_scale",
    "return_rate",
    "row_weights",
    "signup_growth",
    "spec_profile",
    "undo_day_merging",
    "watched_histories",
    "weekday_from_daily",
    "weekday_profile",
    "without_night_shopping",
]

LIFECYCLE_REPLICATES = 10  # a Pareto/NBD fit costs seconds at 10^5 customers
AMOUNT_REPLICATES = 40


@dataclass(frozen=True)
class Estimator:
    """One estimator: a name, the spec fields it sets, the columns it needs and its function."""

    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]
    estimate: Callable[[Sample, np.ndarray, Spec, int], Values]
    replicates: int = 40  # bootstrap replicates over customers for its interval (0: none)
    # 0: from the spec the user starts from; 1, 2, 3: after the earlier stages, on the
    # spec they fitted (the lifecycle's calibration, the basket size, then the sale
    # amounts, each simulate it)
    stage: int = 0

    def applies(self, sample: Sample) -> bool:
        """Whether the sample has the columns this estimator reads."""
        have = {"customer_id", "ts", "amount"}
        have |= {
            name
            for name, value in (
                ("items", sample.items),
                ("channel", sample.channel),
                ("payment_method", sample.payment),
                ("is_fraud", sample.fraud),
                ("category", sample.category),
                ("hour", sample.hour),
                ("signup_date", sample.signup),
                ("fraud_type", sample.fraud_type),
                ("age", sample.age),
                ("gender", sample.gender),
            )
            if value is not None
        }
        return set(self.columns) <= have


# what the lifecycle estimators set: purchase frequency, heterogeneity, dropout and signups
LIFECYCLE_FIELDS = (
    "sales.visits_per_year",
    "customers.activity_shape",
    "customers.lifetime.dropout_shape",
    "customers.lifetime.dropout_per_year",
    "customers.signup_start",
    "customers.signup_end",
    "customers.signup_growth",
    "customers.count",
)

ESTIMATORS: tuple[Estimator, ...] = (
    Estimator("calendar", ("calendar.start", "calendar.end"), ("ts",), calendar_range, 0),
    Estimator("weekday profile", ("sales.weekday",), ("ts",), weekday_profile),
    Estimator(
        "hour profiles",
        ("sales.channels.in_store.hours", "sales.channels.online.hours"),
        ("hour",),
        hour_profiles,
    ),
    Estimator("online share", ("sales.channels.online_share",), ("channel",), online_share),
    Estimator(
        "payment mixes",
        ("sales.channels.in_store.payment", "sales.channels.online.payment"),
        ("payment_method",),
        payment_mixes,
    ),
    Estimator(
        "basket size (corrected on a simulated world of the fitted spec)",
        ("sales.basket_mean_items",),
        ("items",),
        basket_size,
        stage=2,
    ),
    Estimator("fraud rate", ("fraud.rate",), ("is_fraud",), fraud_rate),
    Estimator("return rate", ("sales.return_rate",), ("amount",), return_rate),
    Estimator("fraud mix", ("fraud.types.*.share",), ("is_fraud", "fraud_type"), fraud_mix),
    Estimator("gender mix", ("customers.gender.*",), ("gender",), gender_mix),
    Estimator("age pyramid", ("customers.age_pyramid.*.weight",), ("age",), age_pyramid),
    Estimator(
        "sale amounts (quantiles matched on a simulated world of the fitted spec)",
        ("products.categories.*.price.median", "products.categories.*.price.sigma"),
        ("amount",),
        price_scale,
        AMOUNT_REPLICATES,
        stage=3,
    ),
    Estimator(
        "price per category",
        ("products.categories.*.price.median",),
        ("amount", "items", "category"),
        category_prices,
    ),
    Estimator(
        "purchase frequency and lifecycle (Pareto/NBD from the first purchase; survivors'"
        " dropout without signup dates)",
        (
            "sales.visits_per_year",
            "customers.activity_shape",
            "customers.lifetime.dropout_shape",
            "customers.lifetime.dropout_per_year",
        ),
        ("customer_id", "ts"),
        lifecycle,
        LIFECYCLE_REPLICATES,
    ),
    Estimator(
        "purchase frequency, lifecycle and signups (seasonal Pareto/NBD from signup)",
        (*LIFECYCLE_FIELDS, "sales.monthly"),
        ("customer_id", "ts", "signup_date"),
        lifecycle_from_signup,
        LIFECYCLE_REPLICATES,
    ),
    Estimator(
        "acquisition and purchase frequency (calibrated on simulated worlds: purchases per"
        " customer, months and first purchases; no interval)",
        LIFECYCLE_FIELDS,
        ("customer_id", "ts"),
        calibrated_lifecycle,
        0,
        stage=1,
    ),
)


# Fields this version of `synthpipe fit` never estimates, and why (listed in the report).
NOT_ESTIMATED = {
    "sales.trend": "default: not estimated (needs several years to part from the months)",
    "sales.habits": "default: not estimated",
    "sales.replenishment": "share 0, not the default: a transaction sample does not tell a"
    " staple's reorders from other sales, so every sale follows the fitted frequency (a"
    " world of rare buyers would otherwise be mostly one-line reorders); --set it to keep"
    " staples",
    "products.complements": "default: line items are not in a transaction sample",
    "products.substitutes": "default: line items are not in a transaction sample",
    "products.brand_loyalty": "default: line items are not in a transaction sample",
    "customers.changes": "default: a transaction sample has no customer history",
    "customers.lifetime.reactivation": "default (nobody comes back): the lifecycle fitted is"
    " the Pareto/NBD, whose dropout is for good",
}
