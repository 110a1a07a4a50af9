"""Pydantic models of the YAML spec. Strict: unknown keys are rejected everywhere.

Only ``seed``, ``calendar.start`` and ``calendar.end`` are required; every other field has
a default that describes a realistic mid-size retailer (``synthpipe.spec.defaults``).
Defaults that depend on other fields (signup window, locales) are resolved here, so the
model a run records in its manifest is the complete, explicit description of the world.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from synthpipe.fraud import TYPOLOGIES
from synthpipe.fraud.base import ReportDelay
from synthpipe.spec import defaults
from synthpipe.spec.base import Fraction, NonNegativeFloat, PositiveFloat, StrictModel
from synthpipe.vocabulary import FRAUD_TYPES

# Transaction ids reserve 16 bits for the day number counted from ID_EPOCH.
ID_EPOCH = dt.date(2000, 1, 1)
LAST_SUPPORTED_DAY = ID_EPOCH + dt.timedelta(days=2**16 - 1)
MAX_CUSTOMER_BLOCKS = 2**19  # transaction ids reserve 19 bits for the customer block
MAX_CALENDAR_YEARS = 50
DEFAULT_SIGNUP_HISTORY_DAYS = 5 * 365  # customers sign up over five years before start
MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
RELATIVE_DAYS = {"today": 0, "yesterday": 1}  # calendar.end keywords, days before today


def _resolve_default(model: BaseModel, name: str, value: object) -> None:
    """Fill a default that depends on other fields, while the spec is being validated:
    the one write to a model after its fields are set (models are frozen after that)."""
    object.__setattr__(model, name, value)


def _profile(values: list[float], length: int) -> list[float]:
    if len(values) != length:
        raise ValueError(f"must have exactly {length} values, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError("must not contain negative values")
    if sum(values) <= 0:
        raise ValueError("must contain at least one positive value")
    return values


def _weights(values: dict[str, float]) -> dict[str, float]:
    if not values:
        raise ValueError("must not be empty")
    if any(v < 0 for v in values.values()):
        raise ValueError("must not contain negative weights")
    if sum(values.values()) <= 0:
        raise ValueError("must contain at least one positive weight")
    return values


class Calendar(StrictModel):
    """The simulated period and the country whose calendar and geography are used."""

    start: dt.date
    end: dt.date
    country: str = "US"

    @field_validator("end", mode="before")
    @classmethod
    def _relative_end(cls, value: object) -> object:
        """``today`` / ``yesterday`` resolve when the spec is read: a scheduled daily
        refresh extends the calendar by itself (the manifest records the date)."""
        if isinstance(value, str) and value in RELATIVE_DAYS:
            return dt.date.today() - dt.timedelta(days=RELATIVE_DAYS[value])
        return value

    @field_validator("start", "end")
    @classmethod
    def _in_id_range(cls, value: dt.date) -> dt.date:
        if not ID_EPOCH <= value <= LAST_SUPPORTED_DAY:
            raise ValueError(f"must be between {ID_EPOCH} and {LAST_SUPPORTED_DAY}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Calendar:
        if self.end < self.start:
            raise ValueError(
                f"`calendar.end` ({self.end}) must not be before `calendar.start` ({self.start})"
            )
        if (self.end - self.start).days > MAX_CALENDAR_YEARS * 366:
            raise ValueError(f"`calendar` may span at most {MAX_CALENDAR_YEARS} years")
        return self


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
    """Customers who come back (README, "Lifecycle"): each dropout is, with probability
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
    """How customers change over the calendar (README, "Change data"). In every calendar
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
        return _weights(value)

    @field_validator("locales")
    @classmethod
    def _locale_weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        from faker.config import AVAILABLE_LOCALES

        for locale in value:
            if locale not in AVAILABLE_LOCALES:
                raise ValueError(f"unknown Faker locale {locale!r}")
        return _weights(value)

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
        return _profile(value, 12)


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


class Channel(StrictModel):
    """A sales channel: hour-of-day profile and payment mix."""

    hours: list[float]
    payment: dict[str, NonNegativeFloat]
    basket_factor: PositiveFloat = 1.0

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: list[float]) -> list[float]:
        return _profile(value, 24)

    @field_validator("payment")
    @classmethod
    def _payment(cls, value: dict[str, float]) -> dict[str, float]:
        return _weights(value)


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
        return _profile(value, 7)

    @field_validator("monthly")
    @classmethod
    def _monthly(cls, value: list[float]) -> list[float]:
        return _profile(value, 12)


def _fraud_types_model() -> type[StrictModel]:
    """``fraud.types``: one field per typology of ``synthpipe.fraud``, in key order, each
    the typology's own spec model (the mapping's key is the type's tag)."""
    fields: dict[str, Any] = {
        name: (typology.params, Field(default_factory=typology.params))
        for name, typology in TYPOLOGIES.items()
    }
    return create_model(
        "FraudTypes",
        __base__=StrictModel,
        __doc__="The fraud typologies and their parameters; a share of 0 disables a type.",
        __module__=__name__,
        **fields,
    )


if TYPE_CHECKING:
    FraudTypes = StrictModel
else:
    FraudTypes = _fraud_types_model()


class DriftPoint(StrictModel):
    """A change of the fraud process from ``start`` on (until the next point): the mix
    shares of the types it names (the others keep theirs) and, when given, the difficulty."""

    start: dt.date
    difficulty: float | None = Field(default=None, ge=0, le=1)
    shares: dict[str, NonNegativeFloat] = Field(default_factory=dict)

    @field_validator("shares")
    @classmethod
    def _types(cls, value: dict[str, float]) -> dict[str, float]:
        for name in value:
            if name not in FRAUD_TYPES:
                raise ValueError(
                    f"names the unknown fraud type {name!r} (known: {', '.join(FRAUD_TYPES)})"
                )
        return value


class Fraud(StrictModel):
    """Labelled fraud-style rare events: overall rate and mix of typologies."""

    rate: float = Field(default=0.005, ge=0, le=0.5)
    # the probability that a fraud event imitates its victim instead of showing its
    # typology's signature (see each module of synthpipe.fraud): 0 obvious, 1 camouflaged
    difficulty: float = Field(default=0.5, ge=0, le=1)
    # legitimate sales later disputed as fraud by their own customer ("friendly fraud"):
    # reported in fraud_reported, never in is_fraud
    friendly_rate: float = Field(default=0.0005, ge=0, le=0.05)
    friendly_delay: ReportDelay = Field(
        default_factory=lambda: ReportDelay(median_days=30.0, sigma=0.6)
    )
    types: FraudTypes = Field(default_factory=FraudTypes)
    # change points of the mix and the difficulty over the calendar, in date order
    drift: list[DriftPoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _mix(self) -> Fraud:
        if self.rate > 0 and sum(self.shares().values()) <= 0:
            raise ValueError("`fraud.types` must give at least one type a positive share")
        for i, point in enumerate(self.drift):
            if i and point.start <= self.drift[i - 1].start:
                raise ValueError(
                    f"`fraud.drift.{i}.start` ({point.start}) must be after the previous"
                    f" point's ({self.drift[i - 1].start})"
                )
            if self.rate > 0 and sum(self.segment_shares(i).values()) <= 0:
                raise ValueError(f"`fraud.drift.{i}.shares` leaves no type a positive share")
        return self

    def segment_shares(self, point: int) -> dict[str, float]:
        """The raw (unnormalised) mix in force from drift point ``point`` on (-1: before
        the first)."""
        raw = {name: float(getattr(self.types, name).share) for name in FRAUD_TYPES}
        for change in self.drift[: point + 1]:
            raw.update(change.shares)
        return raw

    def segment_difficulty(self, point: int) -> float:
        """The difficulty in force from drift point ``point`` on (-1: before the first)."""
        difficulty = self.difficulty
        for change in self.drift[: point + 1]:
            if change.difficulty is not None:
                difficulty = change.difficulty
        return difficulty

    def shares(self) -> dict[str, float]:
        """Share of fraud transactions per type, normalised to sum to 1 (0 when none)."""
        raw = {name: float(getattr(self.types, name).share) for name in FRAUD_TYPES}
        total = sum(raw.values())
        return {name: (v / total if total > 0 else 0.0) for name, v in raw.items()}


class Output(StrictModel):
    """Where and how the dataset is written."""

    path: str = "./out/retail"
    # parquet: hive-partitioned files published by _SUCCESS; delta: one Delta Lake table
    # per table of the world, one commit per run (README, "Lakehouse tables")
    format: Literal["parquet", "delta", "iceberg"] = "parquet"
    # iceberg: the SQL catalog (a SQLAlchemy URI; ${env:NAME} parts are read from the
    # environment). Default: a SQLite file _catalog.db beside the data (local folders)
    catalog_uri: str | None = None
    namespace: str = Field(default="synthpipe", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    compression: Literal["zstd", "snappy", "gzip", "lz4", "none"] = "zstd"
    compression_level: int | None = Field(default=None, ge=-7, le=22)
    # delta: DELTA_BINARY_PACKED for integer-stored columns (smaller and quicker to read
    # and write); plain: for readers without it (Iceberg's vectorized reader until its
    # 2025 releases, Spark's before 3.3)
    integer_encoding: Literal["delta", "plain"] = "delta"
    row_group_size: int = Field(default=1_048_576, ge=1_024)
    storage_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("catalog_uri")
    @classmethod
    def _catalog_uri(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None:
            return None
        password = urlsplit(value).password
        if password and not password.startswith("${env:"):
            raise ValueError("holds a password: write ${env:NAME} in its place")
        return value


class Spec(StrictModel):
    """The whole world a run generates. See README, section "Spec reference"."""

    seed: int = Field(ge=0, lt=2**63)
    calendar: Calendar
    customers: Customers = Field(default_factory=Customers)
    products: Products = Field(default_factory=Products)
    stores: Stores = Field(default_factory=Stores)
    sales: Sales = Field(default_factory=Sales)
    fraud: Fraud = Field(default_factory=Fraud)
    output: Output = Field(default_factory=Output)

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        from synthpipe.data.geography import default_locales, supported_countries

        country = self.calendar.country
        if country not in supported_countries():
            raise ValueError(
                f"`calendar.country` must be one of {', '.join(supported_countries())},"
                f" got {country!r}"
            )
        customers = self.customers
        if customers.locales is None:
            _resolve_default(customers, "locales", default_locales(country))
        signup_start = customers.signup_start
        if signup_start is None:
            signup_start = self.calendar.start - dt.timedelta(days=DEFAULT_SIGNUP_HISTORY_DAYS)
            _resolve_default(customers, "signup_start", signup_start)
        signup_end = customers.signup_end
        if signup_end is None:
            signup_end = self.calendar.end
            _resolve_default(customers, "signup_end", signup_end)
        if signup_end < signup_start:
            raise ValueError(
                f"`customers.signup_end` ({signup_end}) must not be before"
                f" `customers.signup_start` ({signup_start})"
            )
        blocks = -(-customers.count // customers.block_size)
        if blocks > MAX_CUSTOMER_BLOCKS:
            raise ValueError(
                f"`customers.count` / `customers.block_size` gives {blocks} blocks;"
                f" at most {MAX_CUSTOMER_BLOCKS} are supported"
            )
        for i, point in enumerate(self.fraud.drift):
            if not self.calendar.start <= point.start <= self.calendar.end:
                raise ValueError(
                    f"`fraud.drift.{i}.start` ({point.start}) must be inside the calendar"
                    f" ({self.calendar.start} to {self.calendar.end})"
                )
        self._check_names()
        return self

    def _check_names(self) -> None:
        bands = {band.label for band in self.customers.age_pyramid}
        categories = {c.name for c in self.products.categories}
        for i, category in enumerate(self.products.categories):
            for band in category.age_affinity:
                if band not in bands:
                    raise ValueError(
                        f"`products.categories.{i}.age_affinity` names the age band {band!r},"
                        f" which `customers.age_pyramid` does not define"
                    )
        for band in self.sales.channels.online_age_factor:
            if band not in bands:
                raise ValueError(
                    f"`sales.channels.online_age_factor` names the age band {band!r},"
                    f" which `customers.age_pyramid` does not define"
                )
        named: list[tuple[str, list[str]]] = [
            ("sales.events.back_to_school.categories", self.sales.events.back_to_school.categories)
        ]
        for i, promotion in enumerate(self.sales.promotions):
            named.append((f"sales.promotions.{i}.categories", promotion.categories or []))
        for name in FRAUD_TYPES:
            listed_categories = getattr(getattr(self.fraud.types, name), "categories", None)
            if listed_categories is not None:
                named.append((f"fraud.types.{name}.categories", listed_categories))
        for path, listed in named:
            for name in listed:
                if name not in categories:
                    raise ValueError(f"`{path}` names the unknown category {name!r}")
