"""What a fraud typology declares: its spec model, its stable key, its generator, the
moments of its event size, its expected lines per transaction, and its signatures.

A typology is one module of ``synthpipe.fraud`` that defines ``TYPOLOGY``; the package
finds the modules itself (see ``synthpipe.fraud``). The declarations here are pure data
and arithmetic on the typology's parameters, so the spec, the model and the validation all
read the same numbers: nothing about a typology is restated elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import numpy as np
from pydantic import Field

from synthpipe.seeds import FraudKey, Stream
from synthpipe.spec.base import NonNegativeFloat, StrictModel

# What a generator makes and hands back: the model's transaction and line sets
# (synthpipe.model.blockmonth.TransactionSet, synthpipe.model.baskets.Lines), opaque here.
TransactionSet = Any
Lines = Any


@dataclass(frozen=True)
class GoodsTilt:
    """How a typology's goods lean away from an ordinary customer's (docs/fraud.md,
    "Goods"). A fraud line is drawn like an ordinary line of its customer that day,
    conditioned on a product set S: the products of ``categories`` (None: all), and of
    them the ``price_share`` cheapest or priciest (``price_side``; None: all of them).
    Its category is drawn by the day's law times each category's popularity share in S,
    its product by popularity within S, its quantity 1 + Poisson(``quantity_factor`` x the
    category's ``quantity_mean``), its discount the day's as for any line."""

    categories: tuple[str, ...] | None = None
    price_side: Literal["cheapest", "priciest"] | None = None
    price_share: float = 1.0
    quantity_factor: float = 1.0


NO_RING = -1  # FraudRows.ring of a transaction made with the account's own keys
USUAL_GOODS = GoodsTilt()  # an ordinary customer's goods: what camouflaged events buy


@dataclass(frozen=True)
class ExtraLines:
    """How many lines a fraud transaction has beyond its first: with ``probability``, a
    uniform 1..``most`` more; none when ``most`` is 0."""

    probability: float = 0.0
    most: int = 0

    @property
    def mean(self) -> float:
        """Mean lines per transaction, the first included."""
        return extra_lines_mean(self.probability, self.most)


ONE_LINE = ExtraLines()  # every transaction has a single line


@dataclass(frozen=True)
class FraudRows:
    """A typology's transactions, before the model labels them with its code and id
    subrange: one value per transaction, then what they all share."""

    day: np.ndarray  # day index in the block-month
    micros: np.ndarray  # microseconds after midnight
    customer: np.ndarray  # the victim, index into the customer block
    store: np.ndarray  # store index or FraudDraws.no_store
    payment: np.ndarray  # index into the payment dictionary (FraudDraws.payment)
    ship_region: np.ndarray  # region code or FraudDraws.no_region
    channel: int
    kind: int  # SALE or REFUND
    lines: Lines
    # the ring whose devices, networks and drop addresses each transaction uses (None: the
    # account's own, as for an ordinary order); ring_cards: it pays with the ring's cards
    ring: np.ndarray | None = None
    ring_cards: bool = False


class FraudDraws(Protocol):
    """The drawing tools a typology's generator is given (``synthpipe.model.fraud``
    implements them for one block-month): its own random streams, and the block's world to
    draw victims, places and goods from. Typologies depend on this shape, not on the model."""

    no_store: int
    no_region: int
    last_micro: int

    def camouflaged(self, day: np.ndarray) -> np.ndarray:
        """Which events (given each event's day) imitate their victim: each with the
        probability ``fraud.difficulty`` in force that day (``fraud.drift``), from a stream
        of its own (so difficulty 0 changes no other draw)."""
        ...

    def usual_payments(
        self, channel: int, camouflaged: np.ndarray, payment: np.ndarray
    ) -> np.ndarray:
        """The payments, with those of camouflaged transactions re-drawn from the channel's
        legitimate payment mix (one uniform per transaction, drawn only when some is)."""
        ...

    def home_store(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Each customer's home store on each day (index into the block-month)."""
        ...

    def online_time(self, u: np.ndarray) -> np.ndarray:
        """Microseconds since midnight by the online hour profile (two uniforms a row)."""
        ...

    def stores_near(self, home: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A store in the home region (any store when there is none)."""
        ...

    def usual_stores(self, customer: np.ndarray, day: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A store as the customer's legitimate in-store purchases pick one
        (``sales.store_choice``: home store, another of the home region, or any store;
        two uniforms a row)."""
        ...

    def stream(self, stream: Stream) -> np.random.Generator:
        """The typology's generator for ``stream`` in this block-month."""
        ...

    def attackers(self, n: int) -> np.ndarray:
        """The ring behind each of ``n`` attacks (uniform over the block's rings; one
        uniform each from the typology's FRAUD_ATTACKER stream): whose devices, networks
        and drop addresses the attack uses."""
        ...

    def ring_members(
        self, day: np.ndarray, u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each event (two uniforms a row): a ring formed by its day (uniform), one of
        its members (uniform), and whether any ring was formed by then."""
        ...

    def event_days(self, events: np.ndarray) -> np.ndarray:
        """The day index of each event, day-major."""
        ...

    def event_rows(self, event_size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Event index and position within the event of each transaction."""
        ...

    def burst_times(
        self, start: np.ndarray, size: np.ndarray, gap_minutes: np.ndarray
    ) -> np.ndarray:
        """Times of each event's transactions: its start, then cumulative gaps; never
        clamped: an event that would run past midnight ends at its drawn start instead."""
        ...

    def uniform_events(
        self, events: np.ndarray, low: int, high: int, event_draws: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events of ``low..high`` transactions: day, size and uniforms per event."""
        ...

    def victims(self, day: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A customer signed up by the event's day, uniformly."""
        ...

    def home_region(self, customer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Home region code of each customer on each day (index into the block-month)."""
        ...

    def other_region(self, home: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A region different from ``home``."""
        ...

    def payment(self, name: str, n: int) -> np.ndarray:
        """``n`` payments by the method called ``name``."""
        ...

    def goods(
        self,
        customer: np.ndarray,
        day: np.ndarray,
        tilt: GoodsTilt,
        camouflaged: np.ndarray,
        extra: ExtraLines = ONE_LINE,
        refund: bool = False,
    ) -> Lines:
        """The lines of each transaction (one, plus ``extra``), each drawn like an ordinary
        line of the customer that day, leaned by ``tilt`` (``USUAL_GOODS`` for camouflaged
        transactions); ``refund``: like an ordinary refund's, negative and undiscounted."""
        ...

    def stores_away(self, home: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A store outside the home region."""
        ...

    def any_store(self, u: np.ndarray) -> np.ndarray:
        """Any store open by then."""
        ...

    def in_store_time(self, u: np.ndarray) -> np.ndarray:
        """Microseconds since midnight by the in-store hour profile."""
        ...

    def transactions(self, rows: FraudRows) -> TransactionSet:
        """The typology's transactions, labelled with its code and id subrange."""
        ...


# Per-transaction features the validation measures for every fraud type and for the
# legitimate groups (``synthpipe.validate.measures.signatures``); a signature names one of them.
Feature = Literal["night", "ship_away", "store_away", "small", "burst", "same_day_repeat"]
LEGIT_ONLINE, LEGIT_IN_STORE, LEGIT_REFUND = "legit_online", "legit_in_store", "legit_refund"
LEGIT_GROUPS = (LEGIT_ONLINE, LEGIT_IN_STORE, LEGIT_REFUND)


class ReportDelay(StrictModel):
    """When a label becomes known: the delay after the transaction is log-normal, with
    this median in days and this sigma (the spread of ln delay)."""

    median_days: float = Field(default=14.0, gt=0, le=365)
    sigma: float = Field(default=0.8, ge=0, le=3)


class FraudParams(StrictModel):
    """Parameters every typology has: its share of the fraud transactions (0 disables
    it), the share of its transactions ever reported as fraud (the rest stay labelled
    legitimate in ``fraud_reported``), and when reports arrive."""

    share: NonNegativeFloat = 0.0
    report_rate: float = Field(default=0.85, ge=0, le=1)
    report_delay: ReportDelay = Field(default_factory=ReportDelay)
    # units a line: 1 + Poisson(quantity_factor x the category's quantity_mean); 1 is an
    # ordinary customer's law (GoodsTilt)
    quantity_factor: float = Field(default=1.0, ge=0, le=20)


P = TypeVar("P", bound=FraudParams)


def always(_params: Any) -> bool:
    """A signature that applies whatever the parameters."""
    return True


@dataclass(frozen=True)
class ShareSignature:
    """The share of a typology's transactions that show ``feature`` is at least ``target``
    (less the sampling tolerance of the observed count), next to the same share of
    legitimate transactions of the ``baseline`` group."""

    name: str  # the check is called signature.<name>
    feature: Feature
    target: float
    baseline: str  # one of LEGIT_GROUPS
    what: str  # one line: what the feature is
    needs_regions: bool = False  # judged only when the country has several regions
    applies: Callable[[Any], bool] = always  # whether it applies under these parameters


@dataclass(frozen=True)
class AmountSignature:
    """The median amount of a typology's transactions is at least ``ratio`` times the
    median of the legitimate ``baseline`` group."""

    name: str
    baseline: str
    what: str
    ratio: float


@dataclass(frozen=True)
class Typology(Generic[P]):
    """One fraud typology, declared once in its own module."""

    key: FraudKey
    params: type[P]
    generate: Callable[[FraudDraws, P, np.ndarray], TransactionSet]
    # mean and variance of an event's transactions, given the difficulty in force
    size_moments: Callable[[P, float], tuple[float, float]]
    expected_lines: Callable[[P], float]
    share_signatures: tuple[ShareSignature, ...] = field(default=())
    amount_signatures: tuple[AmountSignature, ...] = field(default=())

    @property
    def name(self) -> str:
        """The typology's name: its spec key under ``fraud.types`` and its label."""
        return self.key.name.lower()

    @property
    def code(self) -> int:
        """Its integer code (the stable key's value)."""
        return int(self.key)

    def signature_features(self) -> set[Feature]:
        """Features its signatures read."""
        return {signature.feature for signature in self.share_signatures}


def uniform_size_moments(low: int, high: int) -> tuple[float, float]:
    """Mean and variance of a discrete uniform number of transactions ``low..high``."""
    spread = high - low + 1
    return (low + high) / 2, (spread**2 - 1) / 12


def camouflaged_size_moments(
    moments: tuple[float, float], difficulty: float, camouflaged_size: int = 1
) -> tuple[float, float]:
    """Mean and variance of an event size that is the typology's own (``moments``) with
    probability 1 - difficulty and ``camouflaged_size`` otherwise (a mixture)."""
    mean, variance = moments
    mixed = (1.0 - difficulty) * mean + difficulty * camouflaged_size
    second = (1.0 - difficulty) * (variance + mean * mean) + difficulty * camouflaged_size**2
    return mixed, second - mixed * mixed


def extra_lines_mean(extra_probability: float, extra_max: int) -> float:
    """Mean lines per transaction of ``FraudDraws.goods``: one, plus with
    ``extra_probability`` a uniform 1..extra_max more."""
    if extra_max <= 0:
        return 1.0
    return 1.0 + extra_probability * (1 + extra_max) / 2
