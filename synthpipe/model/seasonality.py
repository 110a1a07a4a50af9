"""Expected volume per day: trend x weekday x yearly x holidays/events x promotions.

Everything here is a pure function of the spec and a date range; a day's factors never
depend on which range it is computed in (only the trend is anchored, at calendar.start).
These factors are the documented generating process (docs/process.md, "The generating process").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays as holiday_calendars
import numpy as np

from synthpipe.clock import DAYS_PER_YEAR, weekday_of
from synthpipe.spec.models import Promotion, Spec
from synthpipe.vocabulary import CHANNELS, IN_STORE, ONLINE

HOLIDAY_LANGUAGE = "en_US"  # holiday names are matched in English whatever the country
OBSERVED_SUFFIX = " (observed)"
THANKSGIVING_MONTH = 11
THANKSGIVING_THURSDAY = 4  # Black Friday is the day after the 4th Thursday of November
THURSDAY = 3
CYBER_MONDAY_OFFSET = 3  # days after Black Friday
CHRISTMAS_EVE = (12, 24)


@dataclass(frozen=True)
class DayFactors:
    """Day-level multipliers of the expected volume over a date range (inclusive)."""

    dates: np.ndarray  # datetime64[D], one per day
    overall: np.ndarray  # (days,) trend x weekday x yearly x holiday x events
    channel: np.ndarray  # (days, channels) channel-only factors (store closures, Cyber Monday)
    category: np.ndarray  # (days, categories) category seasonality x promotion uplift
    discount: np.ndarray  # (days, categories) promotion discount fraction in force

    @property
    def days(self) -> int:
        """Number of days in the range."""
        return int(self.dates.shape[0])


def date_range(first: dt.date, last: dt.date) -> np.ndarray:
    """All days from ``first`` to ``last`` inclusive, as datetime64[D]."""
    return np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)


def weekday_factor(spec: Spec, dates: np.ndarray) -> np.ndarray:
    """Weekday multiplier per day (Monday..Sunday profile normalised to mean 1)."""
    profile = np.asarray(spec.sales.weekday, dtype=np.float64)
    profile = profile / profile.mean()
    monday_based = weekday_of(dates.astype(np.int64))
    return np.asarray(profile[monday_based])


def yearly_factor(monthly: list[float] | np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Smooth yearly profile: periodic linear interpolation between mid-month values.

    ``monthly`` has 12 values (January..December) normalised to mean 1; the result may be
    a (days,) array or, for a (12, k) input, a (days, k) array.
    """
    values = np.asarray(monthly, dtype=np.float64)
    values = values / values.mean(axis=0)
    years = dates.astype("datetime64[Y]")
    day_of_year = (dates - years.astype("datetime64[D]")).astype(np.float64)
    year_length = ((years + 1).astype("datetime64[D]") - years.astype("datetime64[D]")).astype(
        np.float64
    )
    # Month k's value sits at the middle of month k, measured as a fraction of the year.
    position = day_of_year / year_length * 12.0 - 0.5
    lower = np.floor(position).astype(np.int64)
    weight = position - lower
    below = values[lower % 12]
    above = values[(lower + 1) % 12]
    if values.ndim == 2:
        weight = weight[:, None]
    return np.asarray(below * (1.0 - weight) + above * weight)


def trend_factor(spec: Spec, dates: np.ndarray) -> np.ndarray:
    """Compound annual growth from calendar.start: (1 + trend) ** years."""
    start = np.datetime64(spec.calendar.start, "D")
    years = (dates - start).astype(np.float64) / DAYS_PER_YEAR
    return np.asarray((1.0 + spec.sales.trend) ** years)


@lru_cache(maxsize=64)
def _holiday_names(country: str, first_year: int, last_year: int) -> dict[dt.date, str]:
    calendar = holiday_calendars.country_holidays(
        country, years=range(first_year, last_year + 1), language=HOLIDAY_LANGUAGE
    )
    return {day: str(name) for day, name in calendar.items()}


def holiday_names(spec: Spec, dates: np.ndarray) -> list[str | None]:
    """The public-holiday name of each day (``None`` on ordinary days)."""
    first, last = dates[0].astype(dt.date), dates[-1].astype(dt.date)
    names = _holiday_names(spec.calendar.country, first.year, last.year)
    return [names.get(day) for day in dates.astype(dt.date).tolist()]


def _holiday_factors(spec: Spec, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overall holiday multiplier and an in-store-closed flag per day."""
    settings = spec.sales.holidays
    factor = np.ones(dates.shape[0])
    closed = np.zeros(dates.shape[0], dtype=bool)
    for i, name in enumerate(holiday_names(spec, dates)):
        if name is None:
            continue
        parts = [part.strip() for part in name.split(";")]
        actual = [part for part in parts if not part.endswith(OBSERVED_SUFFIX)]
        if not actual:  # an observed day off: offices close, shops trade as usual
            factor[i] = settings.default
            continue
        factor[i] = min(settings.overrides.get(part, settings.default) for part in actual)
        closed[i] = any(part in settings.stores_closed for part in actual)
    return factor, closed


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first = dt.date(year, THANKSGIVING_MONTH, 1)
    first_thursday = first + dt.timedelta(days=(THURSDAY - first.weekday()) % 7)
    return first_thursday + dt.timedelta(weeks=THANKSGIVING_THURSDAY - 1, days=1)


def _month_day_window(dates: np.ndarray, start: str, end: str) -> np.ndarray:
    """Mask of days whose month-day lies in [start, end] (wrapping over New Year)."""
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    key = month * 100 + day
    lo = int(start[:2]) * 100 + int(start[3:])
    hi = int(end[:2]) * 100 + int(end[3:])
    if lo <= hi:
        return np.asarray((key >= lo) & (key <= hi))
    return np.asarray((key >= lo) | (key <= hi))


def _event_factors(spec: Spec, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overall event multiplier, and the online-only Cyber Monday multiplier, per day."""
    events = spec.sales.events
    overall = np.ones(dates.shape[0])
    online = np.ones(dates.shape[0])
    as_dates = dates.astype(dt.date).tolist()
    years = sorted({day.year for day in as_dates})
    index = {day: i for i, day in enumerate(as_dates)}
    for year in years:
        friday = black_friday(year)
        if friday in index:
            overall[index[friday]] *= events.black_friday
        monday = friday + dt.timedelta(days=CYBER_MONDAY_OFFSET)
        if monday in index:
            online[index[monday]] *= events.cyber_monday_online
        run_up = events.christmas_run_up_days
        eve = dt.date(year, *CHRISTMAS_EVE)
        for k in range(run_up):
            day = eve - dt.timedelta(days=k)
            if day in index:
                overall[index[day]] *= 1.0 + (events.christmas_peak - 1.0) * (run_up - k) / run_up
    school = events.back_to_school
    overall[_month_day_window(dates, school.start, school.end)] *= school.overall
    return overall, online


def _promotion_mask(promotion: Promotion, dates: np.ndarray) -> np.ndarray:
    if isinstance(promotion.start, dt.date) and isinstance(promotion.end, dt.date):
        first = np.datetime64(promotion.start, "D")
        last = np.datetime64(promotion.end, "D")
        return np.asarray((dates >= first) & (dates <= last))
    return _month_day_window(dates, str(promotion.start), str(promotion.end))


def _category_factors(spec: Spec, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Category seasonality x promotion and back-to-school uplifts, and discounts in force."""
    categories = spec.products.categories
    names = [c.name for c in categories]
    seasonality = np.asarray([c.seasonality for c in categories], dtype=np.float64).T  # (12, K)
    factor = yearly_factor(seasonality, dates)
    discount = np.zeros_like(factor)
    uplift = np.ones_like(factor)
    for promotion in spec.sales.promotions:
        mask = _promotion_mask(promotion, dates)
        if not mask.any():
            continue
        columns = (
            [names.index(n) for n in promotion.categories]
            if promotion.categories
            else list(range(len(names)))
        )
        for k in columns:
            uplift[mask, k] = np.maximum(uplift[mask, k], promotion.uplift)
            discount[mask, k] = np.maximum(discount[mask, k], promotion.discount)
    school = spec.sales.events.back_to_school
    window = _month_day_window(dates, school.start, school.end)
    for name in school.categories:
        uplift[window, names.index(name)] *= school.category_uplift
    return factor * uplift, discount


def day_factors(spec: Spec, first: dt.date, last: dt.date) -> DayFactors:
    """All day-level factors of the expected volume for ``first..last`` inclusive."""
    dates = date_range(first, last)
    holiday, closed = _holiday_factors(spec, dates)
    events, cyber_monday = _event_factors(spec, dates)
    overall = (
        trend_factor(spec, dates)
        * weekday_factor(spec, dates)
        * yearly_factor(spec.sales.monthly, dates)
        * holiday
        * events
    )
    channel = np.ones((dates.shape[0], len(CHANNELS)))
    channel[closed, IN_STORE] = 0.0
    channel[:, ONLINE] *= cyber_monday
    category, discount = _category_factors(spec, dates)
    return DayFactors(dates, overall, channel, category, discount)
