"""The spec's ``sales`` section: purchase frequency, seasonality, events, promotions,
channels, baskets, markdowns, returns, habits and staples."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import Field, field_validator, model_validator

from synthpipe.spec import defaults
from synthpipe.spec.base import (
    Fraction,
    NonNegativeFloat,
    PositiveFloat,
    StrictModel,
    positive_weights,
    profile_values,
)
from synthpipe.vocabulary import CHANNELS

MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class Channel(StrictModel):
    """A sales channel: hour-of-day profile and payment mix."""

    hours: list[float]
    payment: dict[str, NonNegativeFloat]
    basket_factor: PositiveFloat = 1.0

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[float]) -> list[float]:
        return profile_values(value, 24)

    @field_validator("payment")
    @classmethod
    def _payment(cls, value: dict[str, float]) -> dict[str, float]:
        return positive_weights(value)


def _in_store() -> Channel:
    return Channel(hours=list(defaults.IN_STORE_HOURS), payment=dict(defaults.IN_STORE_PAYMENT))


def _online() -> Channel:
    return Channel(
        hours=list(defaults.ONLINE_HOURS), payment=dict(defaults.ONLINE_PAYMENT), basket_factor=0.85
    )


class Channels(StrictModel):
    """The two channels and how customers split between them."""

    online_share: Fraction = defaults.ONLINE_SHARE
    online_age_factor: dict[str, PositiveFloat] = Field(
        default_factory=lambda: dict(defaults.ONLINE_AGE_FACTOR)
    )
    in_store: Channel = Field(default_factory=_in_store)
    online: Channel = Field(default_factory=_online)

    def of(self, channel: int) -> Channel:
        """The section of a channel by its code, its index in ``synthpipe.vocabulary.CHANNELS``
        (the one lookup from a channel's code to its section: the sections are named as the
        channels are)."""
        section: Channel = getattr(self, CHANNELS[channel])
        return section

    def sections(self) -> tuple[Channel, ...]:
        """Every channel's section, in code order (``synthpipe.vocabulary.CHANNELS``)."""
        return tuple(self.of(channel) for channel in range(len(CHANNELS)))


class Holidays(StrictModel):
    """Effect of the country's public holidays (names as the `holidays` package gives them)."""

    default: NonNegativeFloat = 0.85
    overrides: dict[str, NonNegativeFloat] = Field(
        default_factory=lambda: dict(defaults.HOLIDAY_OVERRIDES)
    )
    stores_closed: list[str] = Field(default_factory=lambda: list(defaults.STORES_CLOSED_ON))


class BackToSchool(StrictModel):
    """Back-to-school season: an uplift on some categories between two dates of each year."""

    start: str = "07-25"
    end: str = "09-05"
    overall: PositiveFloat = 1.04
    category_uplift: PositiveFloat = 1.6
    categories: list[str] = Field(default_factory=lambda: list(defaults.BACK_TO_SCHOOL_CATEGORIES))

    @field_validator("start", "end")
    @classmethod
    def _month_day(cls, value: str) -> str:
        return _month_day(value)


class Events(StrictModel):
    """Retail events on top of the holiday calendar."""

    black_friday: PositiveFloat = 2.3
    cyber_monday_online: PositiveFloat = 2.2
    christmas_peak: PositiveFloat = 1.45
    christmas_run_up_days: int = Field(default=23, ge=0, le=60)
    back_to_school: BackToSchool = Field(default_factory=BackToSchool)


def _month_day(value: str) -> str:
    match = MONTH_DAY.match(value)
    if not match:
        raise ValueError(f"must be MM-DD or YYYY-MM-DD, got {value!r}")
    month, day = int(match.group(1)), int(match.group(2))
    try:
        dt.date(2024, month, day)  # a leap year accepts every valid month-day
    except ValueError:
        raise ValueError(f"is not a valid month-day, got {value!r}") from None
    return value


class Promotion(StrictModel):
    """A promotion: discount and demand uplift on some categories between two dates.

    ``start``/``end`` as ``MM-DD`` repeat every year; as full dates they happen once.
    """

    name: str = Field(min_length=1)
    start: str | dt.date
    end: str | dt.date
    categories: list[str] | None = None
    discount: float = Field(gt=0, lt=0.9)
    uplift: float = Field(default=1.2, ge=1, le=20)

    @field_validator("start", "end")
    @classmethod
    def _date_or_month_day(cls, value: str | dt.date) -> str | dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return _month_day(value)

    @model_validator(mode="after")
    def _same_kind(self) -> Promotion:
        if isinstance(self.start, dt.date) != isinstance(self.end, dt.date):
            raise ValueError("`start` and `end` must both be MM-DD or both be full dates")
        dated = isinstance(self.start, dt.date) and isinstance(self.end, dt.date)
        if dated and self.end < self.start:  # type: ignore[operator]
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self


class StoreChoice(StrictModel):
    """Where in-store purchases happen: home store, another store in the region, anywhere."""

    home: Fraction = 0.72
    region: Fraction = 0.24
    travel: Fraction = 0.04

    @model_validator(mode="after")
    def _sums(self) -> StoreChoice:
        if self.home + self.region + self.travel <= 0:
            raise ValueError("home, region and travel must not all be 0")
        return self


class Markdown(StrictModel):
    """Random per-line markdowns outside promotions."""

    rate: Fraction = 0.07
    min: Fraction = 0.1
    max: Fraction = 0.3

    @model_validator(mode="after")
    def _ordered(self) -> Markdown:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must not be below min ({self.min})")
        return self


class Habits(StrictModel):
    """Legitimate behaviour that looks like fraud to a naive detector: same-day repeat
    purchases, night shopping online, gifts shipped to another region, rare splurges."""

    # a sale is followed the same day by another of the same customer, channel and store
    repeat_same_day: Fraction = 0.06
    # mean minutes between a sale and its repeat (exponential, at most 12 hours)
    repeat_gap_minutes: float = Field(default=40.0, gt=0, le=720)
    # share of online sales placed at night (uniform over 00:00-06:00)
    night_online: Fraction = 0.05
    # share of online sales shipped to another region (by population), a gift
    gift_shipping: Fraction = 0.05
    # share of sales that are a rare large purchase, with Poisson(splurge_extra_lines) more lines
    splurge: Fraction = 0.01
    splurge_extra_lines: float = Field(default=8.0, ge=0, le=100)


class Replenishment(StrictModel):
    """Staples reordered on a cycle: in each category with ``replenish_days``, a customer
    has a staple with probability ``share`` (a product by popularity) and reorders it every
    P days while buying, P = replenish_days x Gamma(cycle_shape, 1 / cycle_shape)."""

    share: Fraction = 0.03
    cycle_shape: float = Field(default=6.0, gt=2, le=1_000)


class Sales(StrictModel):
    """Purchase frequency, seasonality, channels, baskets, discounts and returns."""

    visits_per_year: float = Field(default=9.0, gt=0, le=2_000)
    trend: float = Field(default=0.04, gt=-0.9, le=10)
    income_elasticity: float = Field(default=0.25, ge=-2, le=2)
    loyalty_uplift: float = Field(default=0.3, ge=0, le=10)
    weekday: list[float] = Field(default_factory=lambda: list(defaults.WEEKDAY))
    monthly: list[float] = Field(default_factory=lambda: list(defaults.MONTHLY))
    holidays: Holidays = Field(default_factory=Holidays)
    events: Events = Field(default_factory=Events)
    promotions: list[Promotion] = Field(
        default_factory=lambda: [Promotion(**p) for p in defaults.PROMOTIONS]
    )
    channels: Channels = Field(default_factory=Channels)
    basket_mean_items: float = Field(default=2.4, ge=1, le=100)
    store_choice: StoreChoice = Field(default_factory=StoreChoice)
    markdown: Markdown = Field(default_factory=Markdown)
    return_rate: float = Field(default=0.02, ge=0, le=0.5)
    habits: Habits = Field(default_factory=Habits)
    replenishment: Replenishment = Field(default_factory=Replenishment)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: list[float]) -> list[float]:
        return profile_values(value, 7)

    @field_validator("monthly")
    @classmethod
    def _monthly(cls, value: list[float]) -> list[float]:
        return profile_values(value, 12)
