"""What the validator derives from the spec once per process: calendar, labels, and the
expected per-line category probabilities (the spec's formula, evaluated day by day)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthpipe.clock import DAYS_PER_YEAR, UNIX_EPOCH
from synthpipe.data.geography import load_geography
from synthpipe.model.associations import associations
from synthpipe.model.baskets import category_weights, complement_attach
from synthpipe.model.blockmonth import payment_methods
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.customers import median_income, reference_income
from synthpipe.model.lifecycle import (
    active_after_active,
    active_probability,
    active_terms,
    dropout_nodes,
    reactivates,
    return_rate,
    survival,
)
from synthpipe.model.products import FIRST_PRODUCT_ID, brand_names, brand_shares, product_world
from synthpipe.model.sampling import cumulative
from synthpipe.model.seasonality import date_range, day_factors
from synthpipe.plan import month_ranges
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import GENDERS

MAX_AGE = 120  # ages are looked up in tables over 0..MAX_AGE (clipped there)
# Purchase-rate classes of customers: segment x loyalty x income band, the attributes the
# spec's purchase rate depends on. Income bands are ln(income / reference income) cut at
# these edges (the reference is where the rate's income term is 1): six bands.
INTENSITY_INCOME_EDGES = np.asarray([-1.0, -0.5, 0.0, 0.5, 1.0])
INCOME_BANDS = int(INTENSITY_INCOME_EDGES.shape[0]) + 1
LOYALTY_STATES = ("not loyal", "loyal")


@dataclass(frozen=True)
class ValidationContext:
    """Spec-derived lookups shared by every file's statistics."""

    spec: Spec
    dates: np.ndarray  # every calendar day
    start_day: int  # calendar.start as days since 1970-01-01
    month_of_day: np.ndarray  # month index (0..months-1) of each calendar day
    months: tuple[str, ...]  # YYYY-MM labels
    regions: tuple[str, ...]
    brands: tuple[str, ...]  # brand labels, category x brands_per_category + k
    brand_shares: np.ndarray  # (categories, brands_per_category) shares of popularity
    payments: tuple[str, ...]
    segments: tuple[str, ...]
    categories: tuple[str, ...]
    bands_low: np.ndarray  # lowest age of each pyramid band
    category_probability: np.ndarray  # (days x groups, categories), rows sum to 1
    discount_in_force: np.ndarray  # (days, categories): promotion discount fraction, 0 if none
    band_by_age: np.ndarray  # pyramid band of each age 0..MAX_AGE
    median_income_by_age: np.ndarray  # the spec's median income curve at each age 0..MAX_AGE
    income_reference: float  # income at which the purchase rate's income term is 1
    first_signup_day: int  # days since 1970 of the signup window's first day (or earlier)
    daily_factors: np.ndarray  # (days, channels): F(d) x G_channel(d)
    survival_by_lag: np.ndarray  # P(in the first life) each day after signup, 0..window + days
    active_by_lag: np.ndarray  # P(buying) each day after signup, returns included
    exposure_from_signup: np.ndarray  # (window days, channels): E[buying days x factors]
    exposure_ratio_from_signup: np.ndarray  # (window days,): E[T^2] / E[T]^2 (see _exposures)
    pairs: PlantedPairs  # the planted complement and substitute pairs, by product id
    sample_modulus: int  # customers whose id is a multiple of this are followed over months

    @property
    def days(self) -> int:
        """Days in the calendar."""
        return int(self.dates.shape[0])

    def band(self, age: np.ndarray) -> np.ndarray:
        """Pyramid band of each age (ages below the first band in band 0), by table."""
        return np.asarray(self.band_by_age[np.clip(age, 0, MAX_AGE)])

    def median_income(self, age: np.ndarray) -> np.ndarray:
        """The spec's median income at each (whole-year) age, by table."""
        return np.asarray(self.median_income_by_age[np.clip(age, 0, MAX_AGE)])

    def group_count(self) -> int:
        """Audience groups (age band x gender)."""
        return int(self.bands_low.shape[0]) * len(GENDERS)

    def intensity_classes(self) -> int:
        """Purchase-rate classes (segment x loyalty x income band)."""
        return len(self.segments) * len(LOYALTY_STATES) * INCOME_BANDS

    def intensity_class(
        self, segment: np.ndarray, loyal: np.ndarray, income: np.ndarray
    ) -> np.ndarray:
        """Purchase-rate class of each customer (-1 where the segment is unknown)."""
        code = (segment * len(LOYALTY_STATES) + loyal) * INCOME_BANDS
        # the income band, counted as the thresholds reached (quicker than a log and a
        # search with this few edges)
        for threshold in self.income_reference * np.exp(INTENSITY_INCOME_EDGES):
            code += income >= threshold
        return np.asarray(np.where(segment >= 0, code, -1))

    def class_segment(self, codes: np.ndarray) -> np.ndarray:
        """The segment of each purchase-rate class code (-1 stays -1)."""
        return np.asarray(np.where(codes >= 0, codes // (len(LOYALTY_STATES) * INCOME_BANDS), -1))

    def income_band_labels(self) -> list[str]:
        """The income bands of the purchase-rate classes, in thousands of currency units."""
        cuts = [f"{self.income_reference * np.exp(e) / 1000:.0f}k" for e in INTENSITY_INCOME_EDGES]
        inner = [f"{low}-{high}" for low, high in itertools.pairwise(cuts)]
        return [f"<{cuts[0]}", *inner, f"{cuts[-1]}+"]

    def intensity_label(self, code: int) -> str:
        """A purchase-rate class in words."""
        rest, band = divmod(code, INCOME_BANDS)
        segment, loyal = divmod(rest, len(LOYALTY_STATES))
        edges = [-np.inf, *INTENSITY_INCOME_EDGES.tolist(), np.inf]
        low, high = edges[band], edges[band + 1]
        return (
            f"{self.segments[segment]}, {LOYALTY_STATES[loyal]},"
            f" ln(income / {self.income_reference:,.0f}) in [{low:g}, {high:g})"
        )


SAMPLED_CUSTOMERS = 20_000  # about this many customers are followed across months


@dataclass(frozen=True)
class PlantedPairs:
    """The planted basket associations as lookups by product id (index 0 and ids past the
    catalogue: in no pair)."""

    partner_by_id: np.ndarray  # an anchor's partner's id, else 0
    anchor_pair: np.ndarray  # complement pair index of an anchor, else -1
    partner_pair: np.ndarray  # complement pair index of a partner, else -1
    substitute_pair: np.ndarray  # substitute pair index, else -1
    substitute_first: np.ndarray  # bool: the pair's first (more popular) member
    first_share: np.ndarray  # per substitute pair: q, the first member's popularity share
    attach: np.ndarray  # per complement pair: the probability an anchor brings its partner
    complements: int
    substitutes: int

    def lookup(self, table: np.ndarray, product_id: np.ndarray, missing: int) -> np.ndarray:
        """``table`` at each product id, ``missing`` for ids outside the catalogue."""
        inside = (product_id >= 0) & (product_id < table.shape[0])
        return np.where(inside, table.take(np.where(inside, product_id, 0)), missing)


def planted_pairs(spec: Spec) -> PlantedPairs:
    """The spec's planted pairs (``synthpipe.model.associations``) by product id."""
    planted = associations(spec)
    size = product_world(spec).count + FIRST_PRODUCT_ID
    partner_by_id = np.zeros(size, dtype=np.int64)
    partner_by_id[planted.anchor + FIRST_PRODUCT_ID] = planted.partner + FIRST_PRODUCT_ID
    anchor_pair = np.full(size, -1, dtype=np.int64)
    anchor_pair[planted.anchor + FIRST_PRODUCT_ID] = np.arange(planted.anchor.shape[0])
    partner_pair = np.full(size, -1, dtype=np.int64)
    partner_pair[planted.partner + FIRST_PRODUCT_ID] = np.arange(planted.partner.shape[0])
    substitute_pair = np.full(size, -1, dtype=np.int64)
    substitute_pair[FIRST_PRODUCT_ID:] = planted.substitute_pair
    substitute_first = np.zeros(size, dtype=bool)
    substitute_first[planted.first + FIRST_PRODUCT_ID] = True
    return PlantedPairs(
        partner_by_id=partner_by_id,
        anchor_pair=anchor_pair,
        partner_pair=partner_pair,
        substitute_pair=substitute_pair,
        substitute_first=substitute_first,
        first_share=planted.first_share,
        attach=complement_attach(spec),
        complements=int(planted.anchor.shape[0]),
        substitutes=planted.substitutes,
    )


def _build(spec: Spec) -> ValidationContext:
    dates = date_range(spec.calendar.start, spec.calendar.end)
    month_labels = tuple(f"{first:%Y-%m}" for first, _ in month_ranges(spec))
    month_of_day = (
        np.searchsorted(
            np.asarray([np.datetime64(f"{m}-01", "D") for m in month_labels]), dates, side="right"
        )
        - 1
    )
    factors = day_factors(spec, spec.calendar.start, spec.calendar.end)
    weights = category_weights(spec, factors)
    probability = np.diff(cumulative(weights), axis=1, prepend=0.0)
    bands_low = np.asarray([b.min for b in spec.customers.age_pyramid])
    daily = factors.overall[:, None] * factors.channel
    ages = np.arange(MAX_AGE + 1)
    return ValidationContext(
        spec=spec,
        dates=dates,
        start_day=int((dates[0] - UNIX_EPOCH).astype(np.int64)),
        month_of_day=month_of_day.astype(np.int64),
        months=month_labels,
        regions=load_geography(spec.calendar.country).regions,
        brands=tuple(brand_names(spec)),
        brand_shares=brand_shares(product_world(spec), spec),
        payments=tuple(payment_methods(spec)),
        segments=tuple(spec.customers.segments),
        categories=tuple(c.name for c in spec.products.categories),
        bands_low=bands_low,
        category_probability=probability,
        discount_in_force=factors.discount,
        band_by_age=np.maximum(np.searchsorted(bands_low, ages, side="right") - 1, 0),
        median_income_by_age=median_income(spec, ages),
        income_reference=reference_income(spec),
        pairs=planted_pairs(spec),
        sample_modulus=max(1, spec.customers.count // SAMPLED_CUSTOMERS),
        **_exposures(spec, dates, daily),
    )


def per_signup_day(values: np.ndarray, alive: np.ndarray, window: int) -> np.ndarray:
    """For each signup day u of the window: sum over calendar days j of values[j] x
    alive[lag], lag = window - days + j - u the days from signup (0 before signup). One
    correlation: no (window x days) matrix, whatever the calendar's length."""
    return np.asarray(np.correlate(alive, values, mode="full")[:window][::-1])


def buying_base(rates: np.ndarray, alive: np.ndarray, days: int) -> np.ndarray:
    """For each calendar day: sum over signup days u of rates[u] x alive[lag] (the expected
    rate of the customers still buying), one convolution."""
    window = rates.shape[0]
    return np.asarray(np.convolve(rates, alive)[window - days : window])


def _exposures(spec: Spec, dates: np.ndarray, daily: np.ndarray) -> dict[str, Any]:
    """For a customer signing up on each day u of the window (from the earlier of
    signup_start and calendar.start to calendar.end): T_ch = the channel's day factors
    summed over the calendar days it still buys, E[T_ch] = sum_d f_ch(d) S(d - u), and the
    ratio E[T^2] / E[T]^2 of the overall factor F (1 without dropout), where
    E[T^2] = sum_d F(d) S(d - u) (2 (G(d) - G(u - 1)) - F(d)), G the running sum of F
    from u: two days' purchases both happen while the later one does."""
    first = min(spec.customers.signup_window()[0], spec.calendar.start)
    first_day = int((np.datetime64(first, "D") - UNIX_EPOCH).astype(np.int64))
    start = int((dates[0] - UNIX_EPOCH).astype(np.int64))
    days = dates.shape[0]
    window = start - first_day + days
    alive = active_probability(spec, np.arange(window + days))
    exposure = np.stack(
        [per_signup_day(daily[:, c], alive, window) for c in range(daily.shape[1])], axis=1
    )
    overall = daily.sum(axis=1)
    running = np.cumsum(overall)
    first_buying_day = np.maximum(np.arange(window) - (start - first_day), 0)  # calendar index
    before = np.where(first_buying_day > 0, running[np.maximum(first_buying_day - 1, 0)], 0.0)
    mean = per_signup_day(overall, alive, window)
    second = (
        2.0 * per_signup_day(overall * running, alive, window)
        - 2.0 * before * mean
        - per_signup_day(overall * overall, alive, window)
    )
    if reactivates(spec):
        second = returning_second_moment(spec, overall, window)
    ratio = np.divide(second, mean * mean, out=np.ones(window), where=mean > 0)
    return {
        "first_signup_day": first_day,
        "daily_factors": daily,
        "survival_by_lag": survival(spec, np.arange(window + days)),
        "active_by_lag": alive,
        "exposure_from_signup": exposure,
        "exposure_ratio_from_signup": ratio,
    }


def returning_second_moment(spec: Spec, overall: np.ndarray, window: int) -> np.ndarray:
    """E[T^2] of ``_exposures`` for customers who may come back: given mu, days d < d' are
    both bought on with chance P_A(d - u + 1) P_A(d' - d) (the chain restarts active on d),
    so E[T^2] = sum_d P_A(d - u + 1) (F(d)^2 + 2 F(d) H(d)), H(d) = sum_{d' > d} F(d')
    P_A(d' - d); P_A is a sum of two exponentials, so H is two backward recursions. The
    mixture over mu is the quadrature of ``dropout_nodes``."""
    from scipy.signal import lfilter  # here: scipy.signal loads scipy.stats (a worker's second)

    lifetime = spec.customers.lifetime
    p, rho = lifetime.reactivation.probability, return_rate(spec)
    days = overall.shape[0]
    lags = (np.arange(window + days, dtype=np.float64) + 1.0) / DAYS_PER_YEAR
    total = np.zeros(window)
    nodes, weights = dropout_nodes(lifetime.dropout_shape, lifetime.dropout_per_year)
    for mu, weight in zip(nodes, weights, strict=True):
        c1, l1, l2 = (float(x) for x in active_terms(np.asarray(mu), p, rho))
        ahead = np.zeros(days)
        for c, root in ((c1, l1), (1.0 - c1, l2)):
            z = math.exp(root / DAYS_PER_YEAR)
            running = lfilter([1.0], [1.0, -z], overall[::-1])[::-1]  # sum_{d' >= d} z^(d'-d) F
            ahead += c * (running - overall)
        values = overall * overall + 2.0 * overall * ahead
        alive = active_after_active(np.asarray(mu), lags, p, rho)
        total += weight * per_signup_day(values, alive, window)
    return total


def validation_context(spec: Spec) -> ValidationContext:
    """The context of ``spec`` (built once per process)."""
    return cached_per_spec("validation_context", spec, _build)
