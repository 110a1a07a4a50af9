"""Acquisition and purchase frequency from a sample without signup dates, calibrated on
simulated worlds: what the world's customers must be for the sample's share of one-time
buyers, its tail of frequent ones, its months and its first purchases to come out.

The Pareto/NBD from the first purchase (``synthpipe.fit.lifecycle.lifecycle``) is the
starting point; it reads each customer as born at its first purchase, which a world of
customers who sign up and then buy is not. Here the world is simulated as ``synthpipe run``
makes it (``synthpipe.fit.judge.world_sample``, fixed seeds: the same draws at every
step), and four numbers are moved until it looks like the sample: visits_per_year,
activity_shape, dropout_per_year and how long before the sample signups began (0: a
cohort acquired in the sample; years: a steady base of older customers). The Pareto/NBD's
own values stand (with the signup window that suits them best) unless the calibrated ones
bring the world clearly closer: on a sample that the Pareto/NBD describes, they recover
the truth and have intervals, where the calibration has none. Signups end with the month
by which half, three quarters, 90% or 99% of the first purchases were made (whichever
suits the Pareto/NBD's values best: a single acquisition cohort ends early); signups that
run to the sample's end grow as its later first purchases do (0 for a cohort, whose growth
first purchases do not show); customers.count is the sample's buyers over the world's
share of customers who buy.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from synthpipe.clock import DAYS_PER_YEAR, UNIX_EPOCH_DATE
from synthpipe.fit.judge import (
    monthly_counts,
    per_customer_counts,
    sales_mask,
    tvd,
    world_sample,
)
from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import OPEN_BOUND_MARGIN, Values
from synthpipe.fit.timing import month_end
from synthpipe.spec.base import field_bounds
from synthpipe.spec.models import Customers, Lifetime, Sales, Spec


@dataclass(frozen=True)
class Search:
    """The calibration's own numbers (none of them a bound of the spec)."""

    customers: int = 3_000  # customers of each simulated world
    steps: int = 40  # Nelder-Mead evaluations at most
    # the grid the search starts from: visits_per_year times the Pareto/NBD's,
    # activity_shape, dropout_per_year and the years signups began before the sample
    visits: tuple[float, ...] = (0.5, 1.0, 2.0)
    activity: tuple[float, ...] = (0.3, 1.2)
    dropout: tuple[float, ...] = (0.5, 2.0, 6.0)
    lead: tuple[float, ...] = (0.0, 2.0)
    # the first purchases' months weigh less: a world's customers buy some time after
    # signing up, never at once, so a cohort's spike of first purchases is out of reach
    firsts_weight: float = 0.25
    # the Pareto/NBD's values stand unless the calibrated ones bring the world this much
    # closer (the sum of the distances; the simulation's own noise is about 0.02)
    keep_margin: float = 0.05
    kept_leads: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0)  # tried with the Pareto/NBD's
    min_dropout: float = 0.05  # a dropout rate below this starts the search from this
    max_lead: float = 5.0  # signups begin at most this many years before the sample
    # signups end with the month by which one of these shares of first purchases were made
    end_shares: tuple[float, ...] = (0.5, 0.75, 0.9, 0.99)
    # a Pareto/NBD dropout shape below this reads the survivors, not a spread
    min_dropout_shape: float = 0.3


SEARCH = Search()
CALIBRATION_CUSTOMERS = SEARCH.customers
VISITS = field_bounds(Sales, "visits_per_year")
ACTIVITY_SHAPE = field_bounds(Customers, "activity_shape")
DROPOUT_PER_YEAR = field_bounds(Lifetime, "dropout_per_year")
DROPOUT_SHAPE = field_bounds(Lifetime, "dropout_shape")
SIGNUP_GROWTH = field_bounds(Customers, "signup_growth")


def first_purchase_months(sample: Sample, first: int, last: int) -> np.ndarray:
    """Customers by the calendar month of their first sale, from ``first``'s month to
    ``last``'s (days since 1970)."""
    keep = sales_mask(sample)
    start = np.full(sample.customers, np.iinfo(np.int64).max)
    np.minimum.at(start, sample.customer[keep], sample.day[keep])
    seen = start[start < np.iinfo(np.int64).max]
    months = seen.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    lo = int(np.datetime64(first, "D").astype("datetime64[M]").astype(np.int64))
    hi = int(np.datetime64(last, "D").astype("datetime64[M]").astype(np.int64))
    inside = (months >= lo) & (months <= hi)
    return np.bincount(months[inside] - lo, minlength=hi - lo + 1).astype(np.float64)


def first_purchase_growth(sample: Sample, origin: int, end: int) -> float:
    """The yearly growth of first purchases over the second half of the sample (the
    first half holds the older customers' first purchases seen), from a log-linear fit
    of first purchases per month; 0 when too few months."""
    months = first_purchase_months(sample, origin, end)
    half = months[months.shape[0] // 2 :]
    if half.shape[0] < 4 or (half <= 0).any():
        return 0.0
    slope = float(np.polyfit(np.arange(half.shape[0]), np.log(half), 1)[0])
    return float(SIGNUP_GROWTH.clip(math.expm1(12 * slope), OPEN_BOUND_MARGIN))


def _date(day: int) -> dt.date:
    return UNIX_EPOCH_DATE + dt.timedelta(days=day)


def _world(spec: Spec, point: np.ndarray, signup_end: dt.date, growth: float) -> Spec:
    """``spec`` with the calibrated numbers (log visits, log activity, log dropout, lead
    in years) and the signup window they imply."""
    visits, shape, dropout = (float(math.exp(v)) for v in point[:3])
    lead = float(np.clip(point[3], 0.0, SEARCH.max_lead))
    signup_start = spec.calendar.start - dt.timedelta(days=round(lead * DAYS_PER_YEAR))
    lifetime = spec.customers.lifetime.model_copy(
        update={"dropout_per_year": float(DROPOUT_PER_YEAR.clip(dropout))}
    )
    customers = spec.customers.model_copy(
        update={
            "activity_shape": float(ACTIVITY_SHAPE.clip(shape, OPEN_BOUND_MARGIN)),
            "lifetime": lifetime,
            "signup_start": signup_start,
            "signup_end": max(signup_end, signup_start),
            "signup_growth": growth,
        }
    )
    sales = spec.sales.model_copy(
        update={"visits_per_year": float(VISITS.clip(visits, OPEN_BOUND_MARGIN))}
    )
    return spec.model_copy(update={"customers": customers, "sales": sales})


def calibrated_lifecycle(sample: Sample, weights: np.ndarray, spec: Spec, _min: int) -> Values:
    """The lifecycle and acquisition fields (module docstring), for samples without
    signup dates; the spec given is the one fitted so far (its Pareto/NBD values start
    the search)."""
    if sample.signup is not None:
        return {}
    origin, end = int(sample.day.min()), int(sample.day.max())
    months = monthly_counts(sample, origin, end)
    per_customer = per_customer_counts(sample)
    firsts = first_purchase_months(sample, origin, end)
    # signups end with the month by which a share of the first purchases were made: a
    # cohort's end is early, a steady base's the sample's (the share is chosen below)
    reached = np.cumsum(firsts) / max(float(firsts.sum()), 1.0)
    first_month = np.datetime64(origin, "D").astype("datetime64[M]")
    ends = []
    for share in SEARCH.end_shares:
        month = first_month + int(np.searchsorted(reached, share))
        day = int(month.astype("datetime64[D]").astype(np.int64))
        ends.append(_date(int(np.datetime64(month_end(day, end), "D").astype(np.int64))))
    growth = first_purchase_growth(sample, origin, end)
    last_month = _date(end).replace(day=1)  # signups to here run to the sample's end
    shape = max(spec.customers.lifetime.dropout_shape, SEARCH.min_dropout_shape)
    lifetime = spec.customers.lifetime.model_copy(
        update={"dropout_shape": float(DROPOUT_SHAPE.clip(shape, OPEN_BOUND_MARGIN))}
    )
    as_fitted = spec.model_copy(
        update={"customers": spec.customers.model_copy(update={"count": CALIBRATION_CUSTOMERS})}
    )
    base = as_fitted.model_copy(
        update={"customers": as_fitted.customers.model_copy(update={"lifetime": lifetime})}
    )

    def distance(point: np.ndarray, start: Spec = base, until: dt.date | None = None) -> float:
        until = until or signup_end
        trial = _world(start, point, until, growth if until >= last_month else 0.0)
        world = world_sample(trial, CALIBRATION_CUSTOMERS)
        if world.rows == 0:
            return 3.0
        return (
            tvd(per_customer, per_customer_counts(world))
            + tvd(months, monthly_counts(world, origin, end))
            + SEARCH.firsts_weight * tvd(firsts, first_purchase_months(world, origin, end))
        )

    # the Pareto/NBD's own values, with the signup window that suits them best
    fitted_point = [
        math.log(spec.sales.visits_per_year),
        math.log(spec.customers.activity_shape),
        math.log(max(spec.customers.lifetime.dropout_per_year, SEARCH.min_dropout)),
    ]
    kept_distance, kept, signup_end = min(
        (
            (distance(np.asarray([*fitted_point, lead]), as_fitted, until), lead, until)
            for lead in SEARCH.kept_leads
            for until in sorted(set(ends))
        ),
        key=lambda found: found[0],
    )
    kept_point = np.asarray([*fitted_point, kept])
    # a coarse grid around them (the distance is a step function of fixed draws, with
    # shallow valleys a simplex alone wanders off), then Nelder-Mead
    grid = itertools.product(
        [fitted_point[0] + math.log(f) for f in SEARCH.visits],
        [math.log(k) for k in SEARCH.activity],
        [math.log(d) for d in SEARCH.dropout],
        SEARCH.lead,
    )
    start = min((np.asarray(p) for p in grid), key=distance)
    found = optimize.minimize(
        distance,
        start,
        method="Nelder-Mead",
        options={
            "maxfev": SEARCH.steps,
            "initial_simplex": start + np.vstack([np.zeros(4), np.diag([0.3, 0.4, 0.4, 0.7])]),
        },
    )
    calibrated = float(found.fun) < kept_distance - SEARCH.keep_margin
    growth = growth if signup_end >= last_month else 0.0
    fitted = (
        _world(base, found.x, signup_end, growth)
        if calibrated
        else _world(as_fitted, kept_point, signup_end, growth)
    )
    world = world_sample(fitted, CALIBRATION_CUSTOMERS)
    buyers = max(int((np.bincount(world.customer, minlength=world.customers) > 0).sum()), 1)
    count = round(sample.customers * CALIBRATION_CUSTOMERS / buyers)
    c = fitted.customers
    values: Values = {
        "customers.signup_start": str(c.signup_start),
        "customers.signup_end": str(c.signup_end),
        "customers.signup_growth": round(c.signup_growth, 4),
        "customers.count": max(count, 1),
    }
    if calibrated:  # else the Pareto/NBD's values stand, with their intervals
        values.update(
            {
                "sales.visits_per_year": round(fitted.sales.visits_per_year, 4),
                "customers.activity_shape": round(c.activity_shape, 4),
                "customers.lifetime.dropout_shape": round(c.lifetime.dropout_shape, 4),
                "customers.lifetime.dropout_per_year": round(c.lifetime.dropout_per_year, 4),
            }
        )
    return values
