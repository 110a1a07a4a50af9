"""Fraud rings: accounts opened in a burst that work together, sharing a few devices,
network connections, cards and drop addresses, and buying resalable goods online.

A block holds ``rings_per_10000_customers`` rings per 10,000 customers (Poisson, at least
one: account takeovers and card tests use a ring's devices too). A ring's members are
``members_min..members_max`` accounts that signed up one after another (consecutive in the
block's signup order: a burst), each also an ordinary customer with its own devices and
purchases; the ring shares ``shared_devices`` devices, ``shared_cards`` cards and
``drop_addresses`` addresses, each registered by one of its members
(``synthpipe.model.identity``). From the day its last member signs up, each event of the
type is one online order of a member of a ring formed by then (uniform over the rings,
then over the members), at an ordinary online hour, shipped to the member's home region,
paid as ordinary online orders pay but with one of the ring's cards, from one of the
ring's devices, to one of its drop addresses; one line (a second with
RING_SECOND_LINE_PROBABILITY) of resalable ``categories`` by popularity, the day's
discounts. One order at a time looks like a new customer's order: only the keys its
accounts share reveal it. An event on a day before any ring is formed is not made (the
realised count records it).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from synthpipe.fraud.base import (
    ExtraLines,
    FraudDraws,
    FraudParams,
    FraudRows,
    GoodsTilt,
    ReportDelay,
    TransactionSet,
    Typology,
)
from synthpipe.seeds import FraudKey, Stream
from synthpipe.spec.base import NonNegativeFloat
from synthpipe.vocabulary import ONLINE, SALE

RING_SECOND_LINE_PROBABILITY = 0.35  # as often as a takeover order has a second line
RING_EXTRA_LINES = ExtraLines(RING_SECOND_LINE_PROBABILITY, 1)
RING_ORDER_SIZE = 1  # every event is one order: bursts would show in per-order features
PER_CUSTOMERS = 10_000  # rings_per_10000_customers counts rings per this many customers


class FraudRing(FraudParams):
    """Accounts opened in a burst that share devices, cards and drop addresses."""

    share: NonNegativeFloat = 0.15
    # nobody's own account is charged: a ring's orders are found late, by chargebacks on
    # its cards, and some never
    report_rate: float = Field(default=0.7, ge=0, le=1)
    report_delay: ReportDelay = Field(
        default_factory=lambda: ReportDelay(median_days=30.0, sigma=0.8)
    )
    categories: list[str] = Field(
        default_factory=lambda: ["Electronics", "Gift Cards"],
        min_length=1,
        description="the resalable goods a ring buys",
    )
    rings_per_10000_customers: float = Field(
        default=3.0,
        ge=0,
        le=1_000,
        description="rings per 10,000 customers of a block (Poisson; at least one a block)",
    )
    members_min: int = Field(default=4, ge=2, le=100, description="fewest accounts of a ring")
    members_max: int = Field(default=9, ge=2, le=100, description="most accounts of a ring")
    shared_devices: int = Field(
        default=2, ge=1, le=20, description="devices a ring's members share"
    )
    shared_cards: int = Field(default=2, ge=1, le=20, description="cards a ring's members share")
    drop_addresses: int = Field(
        default=2, ge=1, le=20, description="addresses a ring's orders are shipped to"
    )

    @model_validator(mode="after")
    def _members(self) -> FraudRing:
        if self.members_max < self.members_min:
            raise ValueError(
                f"`members_max` ({self.members_max}) must be at least `members_min`"
                f" ({self.members_min})"
            )
        return self


def goods_tilt(params: FraudRing) -> GoodsTilt:
    """The ``categories`` by popularity, ordinary quantities: a ring buys what resells."""
    return GoodsTilt(tuple(params.categories), None, 1.0, params.quantity_factor)


def generate(draws: FraudDraws, params: FraudRing, events: np.ndarray) -> TransactionSet:
    """One online order per event, by a member of a ring formed by the event's day."""
    day = draws.event_days(events)
    n = int(day.shape[0])
    per_event = draws.stream(Stream.FRAUD_VICTIM).random((n, 2))
    times = draws.stream(Stream.FRAUD_TIME).random((n, 2))
    camouflaged = draws.camouflaged(day)  # ordinary goods; the shared keys stay
    ring, member, formed = draws.ring_members(day, per_event)
    keep = np.flatnonzero(formed)
    day, ring, member, camouflaged = day[keep], ring[keep], member[keep], camouflaged[keep]
    total = int(keep.shape[0])
    every = np.ones(total, dtype=bool)  # an ordinary online payment mix
    payment = draws.usual_payments(ONLINE, every, draws.payment("credit_card", total))
    lines = draws.goods(member, day, goods_tilt(params), camouflaged, RING_EXTRA_LINES)
    return draws.transactions(
        FraudRows(
            day=day,
            micros=draws.online_time(times[keep]),
            customer=member,
            store=np.full(total, draws.no_store),
            payment=payment,
            ship_region=draws.home_region(member, day),
            channel=ONLINE,
            kind=SALE,
            lines=lines,
            ring=ring,
            ring_cards=True,
        )
    )


TYPOLOGY = Typology(
    key=FraudKey.FRAUD_RING,
    params=FraudRing,
    generate=generate,
    size_moments=lambda _params, _difficulty: (float(RING_ORDER_SIZE), 0.0),
    expected_lines=lambda _params: RING_EXTRA_LINES.mean,
)
