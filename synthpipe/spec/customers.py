"""The spec's ``customers`` section: the customer base, its demographics, segments,
lifetime and changes over the calendar."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Literal

from pydantic import Field, field_validator, model_validator

from synthpipe.spec import defaults
from synthpipe.spec.base import (
    Fraction,
    NonNegativeFloat,
    PositiveFloat,
    StrictModel,
    positive_weights,
)


class AgeBand(StrictModel):
    """One band of the population pyramid: ages min..max inclusive, with a weight."""

    min: int = Field(ge=18, le=100)
    max: int = Field(ge=18, le=100)
    weight: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must not be below min ({self.min})")
        return self

    @property
    def label(self) -> str:
        """The band's name, used as a key elsewhere in the spec (``"25-34"``)."""
        return f"{self.min}-{self.max}"


class Income(StrictModel):
    """Log-normal income: median by age (interpolated), times the segment factor."""

    median_by_age: dict[int, PositiveFloat] = Field(
        default_factory=lambda: dict(defaults.INCOME_MEDIAN_BY_AGE)
    )
    sigma: float = Field(default=defaults.INCOME_SIGMA, gt=0, le=2)

    @field_validator("median_by_age")
    @classmethod
    def _enough_points(cls, value: dict[int, float]) -> dict[int, float]:
        if len(value) < 2:
            raise ValueError("needs at least two ages")
        return dict(sorted(value.items()))


class Segment(StrictModel):
    """A customer segment and how it shifts income, frequency, basket and loyalty."""

    share: PositiveFloat
    income_factor: PositiveFloat = 1.0
    frequency: PositiveFloat = 1.0
    basket: PositiveFloat = 1.0
    loyalty_rate: Fraction = 0.3


class Reactivation(StrictModel):
    """Customers who come back (docs/process.md, "Reactivation"): each dropout is, with probability
    ``probability``, a dormant spell of Exponential(mean ``dormant_days``) days after which
    the customer buys again (same activity, same dropout rate) until its next dropout;
    otherwise it is for good. 0: nobody comes back."""

    probability: float = Field(default=0.0, ge=0, le=0.95)
    dormant_days: float = Field(default=120.0, ge=1, le=3_650)


class Lifetime(StrictModel):
    """How long customers stay (Pareto/NBD): from signup a customer buys until a latent
    dropout time tau ~ Exponential(mu) years, mu ~ Gamma(dropout_shape) with mean
    dropout_per_year (0: nobody leaves); ``reactivation`` may bring it back."""

    dropout_per_year: float = Field(default=0.6, ge=0, le=50)
    dropout_shape: float = Field(default=0.6, gt=0.05, le=100)
    reactivation: Reactivation = Field(default_factory=Reactivation)


class Changes(StrictModel):
    """How customers change over the calendar (docs/change-data.md). In every calendar
    month a customer has been signed up for e days of, each kind of change happens with
    probability 1 - exp(-rate x e / 365.25) (at most once a month), on a day drawn
    uniformly among those e days. Rates are per customer and year."""

    move_rate: float = Field(default=0.10, ge=0, le=12)  # a new home (address, maybe region)
    income_change_rate: float = Field(default=0.25, ge=0, le=12)
    income_change_sigma: float = Field(default=0.10, ge=0, le=2)  # income x exp(sigma z)
    loyalty_join_rate: float = Field(default=0.08, ge=0, le=12)  # per non-member and year
    loyalty_leave_rate: float = Field(default=0.04, ge=0, le=12)  # per member and year
    email_change_rate: float = Field(default=0.03, ge=0, le=12)


class Customers(StrictModel):
    """The customer base: size, demographics, names and signup history."""

    count: int = Field(default=100_000, ge=1)
    block_size: int = Field(default=100_000, ge=1_000, le=5_000_000)
    locales: dict[str, NonNegativeFloat] | None = None
    gender: dict[Literal["female", "male", "nonbinary"], NonNegativeFloat] = Field(
        default_factory=lambda: dict(defaults.GENDER_SHARES)  # type: ignore[arg-type]
    )
    age_pyramid: list[AgeBand] = Field(
        default_factory=lambda: [AgeBand(**band) for band in defaults.AGE_PYRAMID]
    )
    income: Income = Field(default_factory=Income)
    segments: dict[str, Segment] = Field(
        default_factory=lambda: {k: Segment(**v) for k, v in defaults.SEGMENTS.items()}
    )
    signup_start: dt.date | None = None
    signup_end: dt.date | None = None
    signup_growth: float = Field(default=0.15, gt=-0.9, le=5)
    activity_shape: float = Field(default=1.2, gt=0.05, le=100)
    lifetime: Lifetime = Field(default_factory=Lifetime)
    changes: Changes = Field(default_factory=Changes)

    def signup_window(self) -> tuple[dt.date, dt.date]:
        """(signup_start, signup_end); the Spec model resolves their defaults."""
        if self.signup_start is None or self.signup_end is None:
            raise ValueError("the signup window is resolved only inside a whole Spec")
        return self.signup_start, self.signup_end

    @field_validator("gender")
    @classmethod
    def _gender_weights(cls, value: dict[str, float]) -> dict[str, float]:
        return positive_weights(value)

    @field_validator("locales")
    @classmethod
    def _locale_weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        from faker.config import AVAILABLE_LOCALES

        for locale in value:
            if locale not in AVAILABLE_LOCALES:
                raise ValueError(f"unknown Faker locale {locale!r}")
        return positive_weights(value)

    @field_validator("age_pyramid")
    @classmethod
    def _pyramid(cls, value: list[AgeBand]) -> list[AgeBand]:
        if not value:
            raise ValueError("must have at least one band")
        bands = sorted(value, key=lambda b: b.min)
        for lower, upper in itertools.pairwise(bands):
            if upper.min <= lower.max:
                raise ValueError(f"bands {lower.label} and {upper.label} overlap")
        if sum(b.weight for b in bands) <= 0:
            raise ValueError("must have at least one band with positive weight")
        return bands

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: dict[str, Segment]) -> dict[str, Segment]:
        if not value:
            raise ValueError("must define at least one segment")
        return value
