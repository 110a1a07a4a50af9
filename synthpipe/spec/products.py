"""The spec's ``products`` and ``stores`` sections: the catalogue (categories, prices,
planted pairs) and the physical stores."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from synthpipe.spec import defaults
from synthpipe.spec.base import (
    Fraction,
    NonNegativeFloat,
    PositiveFloat,
    StrictModel,
    profile_values,
)


class Price(StrictModel):
    """List prices of a category: log-normal, or fixed price points."""

    median: PositiveFloat
    sigma: float = Field(default=0.6, ge=0, le=3)
    values: list[PositiveFloat] | None = None

    @field_validator("values")
    @classmethod
    def _values(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not value:
            raise ValueError("must not be empty when given")
        return value


class Margin(StrictModel):
    """Gross margin range; unit cost = list price x (1 - margin)."""

    min: Fraction = 0.2
    max: Fraction = 0.4

    @model_validator(mode="after")
    def _ordered(self) -> Margin:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) must not be below min ({self.min})")
        return self


class Category(StrictModel):
    """A product category with its subcategories, prices, seasonality and audience."""

    name: str = Field(min_length=1)
    subcategories: list[str] = Field(min_length=1)
    demand: PositiveFloat
    catalog_share: PositiveFloat
    price: Price
    margin: Margin = Field(default_factory=Margin)
    quantity_mean: float = Field(default=0.3, ge=0, le=50)
    seasonality: list[float] = Field(default_factory=lambda: list(defaults.FLAT_SEASON))
    gender_affinity: dict[Literal["female", "male", "nonbinary"], PositiveFloat] = Field(
        default_factory=dict
    )
    age_affinity: dict[str, PositiveFloat] = Field(default_factory=dict)
    return_rate: NonNegativeFloat = 1.0
    # days between a customer's reorders of a staple of this category (0: not a staple)
    replenish_days: float = Field(default=0.0, ge=0, le=3_650)

    @field_validator("seasonality")
    @classmethod
    def _season(cls, value: list[float]) -> list[float]:
        return profile_values(value, 12)


class Complements(StrictModel):
    """Planted complement pairs: a sale line of the anchor brings a line of its partner
    (another category) right after it, with the probability that makes the pair's lift
    P(B | A) / P(B) about ``lift``."""

    pairs: int = Field(default=20, ge=0, le=1_000)
    lift: float = Field(default=6.0, ge=1.0, le=1_000.0)


class Substitutes(StrictModel):
    """Planted substitute pairs (a brand's two most popular products): a later line of a
    pair in a basket is the member of the basket's first line of it with probability
    ``exclusivity`` (else as drawn)."""

    pairs: int = Field(default=10, ge=0, le=1_000)
    exclusivity: Fraction = 0.95


class Products(StrictModel):
    """The product catalogue."""

    count: int = Field(default=5_000, ge=1, le=5_000_000)
    popularity_exponent: float = Field(default=1.0, ge=0, le=3)
    brands_per_category: int = Field(default=12, ge=1, le=1_000)
    # probability a basket line is of the customer's favourite brand in its category
    brand_loyalty: Fraction = 0.4
    complements: Complements = Field(default_factory=Complements)
    substitutes: Substitutes = Field(default_factory=Substitutes)
    categories: list[Category] = Field(
        default_factory=lambda: [Category(**c) for c in defaults.CATEGORIES]
    )

    @model_validator(mode="after")
    def _catalogue(self) -> Products:
        names = [c.name for c in self.categories]
        if not names:
            raise ValueError("`products.categories` must not be empty")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"`products.categories` repeats the name {duplicates[0]!r}")
        if self.count < len(names):
            raise ValueError(
                f"`products.count` must be at least the number of categories ({len(names)}),"
                f" got {self.count}"
            )
        return self


class StoreFormat(StrictModel):
    """A store format: its share of stores and relative customer traffic."""

    share: PositiveFloat
    traffic: PositiveFloat = 1.0


class Stores(StrictModel):
    """Physical stores (online is a channel, not a store)."""

    count: int = Field(default=120, ge=1, le=1_000_000)
    formats: dict[str, StoreFormat] = Field(
        default_factory=lambda: {k: StoreFormat(**v) for k, v in defaults.STORE_FORMATS.items()}
    )
    new_store_share: Fraction = 0.08
    history_years: int = Field(default=20, ge=0, le=100)

    @field_validator("formats")
    @classmethod
    def _formats(cls, value: dict[str, StoreFormat]) -> dict[str, StoreFormat]:
        if not value:
            raise ValueError("must define at least one format")
        return value
