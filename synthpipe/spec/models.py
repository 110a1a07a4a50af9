"""Pydantic models of the YAML spec. Strict: unknown keys are rejected everywhere.

Only ``seed``, ``calendar.start`` and ``calendar.end`` are required; every other field has
a default that describes a realistic mid-size retailer (``synthpipe.spec.defaults``).
Defaults that depend on other fields (signup window, locales) are resolved here, so the
model a run records in its manifest is the complete, explicit description of the world.

The sections live by what they describe (``synthpipe.spec.customers``,
``synthpipe.spec.products``, ``synthpipe.spec.sales``); this module holds the calendar, the
fraud and output sections and the whole ``Spec``, and names every model of the spec, so
``from synthpipe.spec.models import X`` finds any of them.
"""

from __future__ import annotations

import datetime as dt
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
from synthpipe.spec.base import NonNegativeFloat, StrictModel
from synthpipe.spec.customers import (
    AgeBand,
    Changes,
    Customers,
    Income,
    Lifetime,
    Reactivation,
    Segment,
)
from synthpipe.spec.identity import Identity
from synthpipe.spec.products import (
    Category,
    Complements,
    Margin,
    Price,
    Products,
    StoreFormat,
    Stores,
    Substitutes,
)
from synthpipe.spec.sales import (
    MONTH_DAY,
    BackToSchool,
    Channel,
    Channels,
    Events,
    Habits,
    Holidays,
    Markdown,
    Promotion,
    Replenishment,
    Sales,
    StoreChoice,
)
from synthpipe.vocabulary import FRAUD_TYPES

__all__ = [
    "DEFAULT_SIGNUP_HISTORY_DAYS",
    "ID_EPOCH",
    "LAST_SUPPORTED_DAY",
    "MAX_CALENDAR_YEARS",
    "MAX_CUSTOMER_BLOCKS",
    "MONTH_DAY",
    "RELATIVE_DAYS",
    "AgeBand",
    "BackToSchool",
    "Calendar",
    "Category",
    "Changes",
    "Channel",
    "Channels",
    "Complements",
    "Customers",
    "DriftPoint",
    "Events",
    "Fraud",
    "FraudTypes",
    "Habits",
    "Holidays",
    "Identity",
    "Income",
    "Lifetime",
    "Margin",
    "Markdown",
    "Output",
    "Price",
    "Products",
    "Promotion",
    "Reactivation",
    "Replenishment",
    "Sales",
    "Segment",
    "Spec",
    "StoreChoice",
    "StoreFormat",
    "Stores",
    "Substitutes",
]

# Transaction ids reserve 16 bits for the day number counted from ID_EPOCH.
ID_EPOCH = dt.date(2000, 1, 1)
LAST_SUPPORTED_DAY = ID_EPOCH + dt.timedelta(days=2**16 - 1)
MAX_CUSTOMER_BLOCKS = 2**19  # transaction ids reserve 19 bits for the customer block
MAX_CALENDAR_YEARS = 50
DEFAULT_SIGNUP_HISTORY_DAYS = 5 * 365  # customers sign up over five years before start
RELATIVE_DAYS = {"today": 0, "yesterday": 1}  # calendar.end keywords, days before today


def _resolve_default(model: BaseModel, name: str, value: object) -> None:
    """Fill a default that depends on other fields, while the spec is being validated:
    the one write to a model after its fields are set (models are frozen after that)."""
    object.__setattr__(model, name, value)


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
            raise ValueError(
                f"must be between {ID_EPOCH} and {LAST_SUPPORTED_DAY} (transaction ids count"
                f" its days from {ID_EPOCH}): move older dates by a multiple of 28 years, which"
                " keeps every weekday, as `synthpipe fit` does with an older sample"
            )
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

    def odds(self) -> float:
        """Fraud transactions per legitimate one: ``rate`` is the fraud share of all
        transactions, so each legitimate transaction brings rate / (1 - rate) of fraud (the
        generator places events on this target; the truth and the checks expect it)."""
        return self.rate / (1.0 - self.rate)

    def shares(self) -> dict[str, float]:
        """Share of fraud transactions per type, normalised to sum to 1 (0 when none)."""
        raw = {name: float(getattr(self.types, name).share) for name in FRAUD_TYPES}
        total = sum(raw.values())
        return {name: (v / total if total > 0 else 0.0) for name, v in raw.items()}


class Output(StrictModel):
    """Where and how the dataset is written."""

    path: str = "./out/retail"
    # parquet: hive-partitioned files published by _SUCCESS; delta: one Delta Lake table
    # per table of the world, one commit per run (docs/lakehouse.md)
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
    """The whole world a run generates. See the docs site's "Spec reference"."""

    seed: int = Field(ge=0, lt=2**63)
    calendar: Calendar
    customers: Customers = Field(default_factory=Customers)
    products: Products = Field(default_factory=Products)
    stores: Stores = Field(default_factory=Stores)
    sales: Sales = Field(default_factory=Sales)
    fraud: Fraud = Field(default_factory=Fraud)
    identity: Identity = Field(default_factory=Identity)
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
