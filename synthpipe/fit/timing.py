"""Estimators of when purchases happen: the calendar, the weekday and hour profiles, and
the monthly profile's pieces (the lifecycle fit from signup reads the months with them)."""

from __future__ import annotations

import numpy as np
from scipy import optimize

from synthpipe.clock import (
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    HOURS_PER_DAY,
    NIGHT_END_HOUR,
    weekday_of,
)
from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import Values, row_weights, spec_profile
from synthpipe.model.seasonality import date_range, day_factors, yearly_factor
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import CHANNELS, ONLINE

MONTHS = 12


def calendar_range(sample: Sample, _weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """calendar.start and calendar.end: the sample's first and last days."""
    first = np.datetime64(int(sample.day.min()), "D")
    last = np.datetime64(int(sample.day.max()), "D")
    return {"calendar.start": str(first), "calendar.end": str(last)}


def weekday_profile(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """sales.weekday: each day's purchases over the centred 7-day mean around it (which
    holds every weekday once, so trend, seasons and a growing customer base divide out),
    averaged per weekday and scaled to mean 1."""
    first = int(sample.day.min())
    counts = np.bincount(
        sample.day - first, weights=row_weights(sample, weights) * (sample.amount >= 0)
    )
    return weekday_from_daily(counts, first)


def weekday_from_daily(counts: np.ndarray, first: int) -> Values:
    """``weekday_profile`` from purchases per day (day 0 is ``first``, days since 1970)."""
    if counts.shape[0] < 2 * DAYS_PER_WEEK:
        return {}
    counts = np.maximum(counts, 0.0)
    window = np.convolve(counts, np.ones(DAYS_PER_WEEK) / DAYS_PER_WEEK, mode="valid")
    inner = counts[DAYS_PER_WEEK // 2 : DAYS_PER_WEEK // 2 + window.shape[0]]
    ratio = inner / np.maximum(window, 1e-300)
    days = np.arange(window.shape[0]) + first + DAYS_PER_WEEK // 2
    weekday = weekday_of(days)
    used = window > 0
    mean = np.bincount(weekday[used], weights=ratio[used], minlength=DAYS_PER_WEEK) / np.maximum(
        np.bincount(weekday[used], minlength=DAYS_PER_WEEK), 1
    )
    return {"sales.weekday": spec_profile(mean)}


def hour_profiles(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """sales.channels.<channel>.hours: purchases per hour of each channel (both channels
    alike when the sample has no channel), when the channel has min_customers customers.
    Online, the night shopping the spec adds on top (a share ``habits.night_online`` of
    online sales, uniform over hours 0 to NIGHT_END_HOUR) is taken out first."""
    assert sample.hour is not None
    row = row_weights(sample, weights)
    values: Values = {}
    for c, name in enumerate(CHANNELS):
        mask = np.ones(sample.rows, dtype=bool) if sample.channel is None else sample.channel == c
        if np.unique(sample.customer[mask]).shape[0] < min_customers:
            continue
        counts = np.bincount(sample.hour[mask], weights=row[mask], minlength=HOURS_PER_DAY)
        if c == ONLINE and sample.channel is not None:
            counts = without_night_shopping(counts, spec.sales.habits.night_online)
        values[f"sales.channels.{name}.hours"] = spec_profile(counts)
    return values


def without_night_shopping(counts: np.ndarray, night: float) -> np.ndarray:
    """Online purchases per hour less the night shopping: the observed shares are
    (1 - night) x the profile + night x uniform over the first NIGHT_END_HOUR hours."""
    shares = counts / max(float(counts.sum()), 1e-300)
    shares[:NIGHT_END_HOUR] -= night / NIGHT_END_HOUR
    return np.asarray(np.maximum(shares, 0.0) / max(1.0 - night, 1e-12))


def month_start(day: int) -> str:
    """The first day of the month of ``day`` (days since 1970), ISO."""
    return str(np.datetime64(day, "D").astype("datetime64[M]").astype("datetime64[D]"))


def month_end(day: int, cap: int) -> str:
    """The last day of the month of ``day``, at most ``cap`` (days since 1970), ISO."""
    following = (np.datetime64(day, "D").astype("datetime64[M]") + 1).astype("datetime64[D]")
    return str(min(following - 1, np.datetime64(cap, "D")))


def flat_month_factors(spec: Spec) -> np.ndarray:
    """The spec's day factors over its calendar with a flat monthly profile: what the
    monthly profile multiplies."""
    flat = spec.model_copy(
        update={"sales": spec.sales.model_copy(update={"monthly": [1.0] * MONTHS})}
    )
    return day_factors(flat, flat.calendar.start, flat.calendar.end).overall


def month_basis(spec: Spec) -> np.ndarray:
    """(days, 12): the yearly profile's interpolation weights, so that the yearly factor of
    a profile v (mean 1) on each calendar day is ``month_basis @ v``."""
    dates = date_range(spec.calendar.start, spec.calendar.end)
    return np.stack([yearly_factor(row, dates) for row in np.eye(MONTHS)], axis=1) / MONTHS


def buying_customers(
    signup: tuple[int, int, float], dropout: tuple[float, float], days: np.ndarray
) -> np.ndarray:
    """Relative number of customers still buying on each of ``days`` (consecutive, days
    since 1970): signups with density e^(rho a) on days first..last (``signup``: first,
    last, rho), each buying until its dropout, (beta / (beta + t))^s of them after t =
    (days since signup + 1) / 365.25 years (``dropout``: s, beta)."""
    first, last, rho = signup
    s, beta = dropout
    density = np.exp(rho * np.arange(last - first + 1, dtype=np.float64))
    lags = np.arange(int(days[-1]) - first + 1, dtype=np.float64)
    staying = (beta / (beta + (lags + 1.0) / DAYS_PER_YEAR)) ** s
    return np.asarray(np.convolve(density, staying)[days - first])


def monthly_from_daily(sales: np.ndarray, expected: np.ndarray, basis: np.ndarray) -> Values:
    """sales.monthly: the profile v (mean 1) for which expected x (basis @ v) fits the sales
    per day best (non-negative least squares)."""
    profile, _ = optimize.nnls(basis * expected[:, None], sales)
    if not profile.any():
        return {}
    return {"sales.monthly": spec_profile(profile)}
