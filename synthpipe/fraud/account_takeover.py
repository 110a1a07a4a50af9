"""Account takeover: high-value online orders at night, shipped to a region the customer
does not live in.

Event size: uniform 1..orders_max orders; the first starts in a uniform hour of
``night_hours``, the next ones ATO_GAP_MINUTES apart (an event that would run past midnight
is moved earlier to end at its drawn start: ``FraudDraws.burst_times``); each order one
line (a second with ATO_SECOND_LINE_PROBABILITY), drawn like an ordinary line of the victim
that day from the priciest ``priciest_share`` of ``categories`` (by popularity, the day's
discounts), with 1 + Poisson(quantity_factor x quantity_mean) units (several, for resale).
The victim's account and stored card are used from a fraud ring's devices and connections,
shipped to its drop addresses (``FraudDraws.attackers``; a camouflaged event: the victim's
own keys, ``synthpipe.model.identity``).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from synthpipe.clock import MICROS_PER_HOUR
from synthpipe.fraud.base import (
    LEGIT_ONLINE,
    NO_RING,
    AmountSignature,
    ExtraLines,
    FraudDraws,
    FraudParams,
    FraudRows,
    GoodsTilt,
    ReportDelay,
    ShareSignature,
    TransactionSet,
    Typology,
    uniform_size_moments,
)
from synthpipe.seeds import FraudKey, Stream
from synthpipe.spec.base import NonNegativeFloat
from synthpipe.vocabulary import ONLINE, SALE

ATO_GAP_MINUTES = (5.0, 45.0)  # minutes between orders of one account takeover
ATO_SECOND_LINE_PROBABILITY = 0.35
ATO_EXTRA_LINES_MAX = 1  # at most one extra line
ATO_EXTRA_LINES = ExtraLines(ATO_SECOND_LINE_PROBABILITY, ATO_EXTRA_LINES_MAX)
ATO_WALLET_PROBABILITY = 0.3  # share of takeover orders paid by mobile wallet
NIGHT_SHARE = 0.9  # takeovers start at night; later orders may run past 6:00
AWAY_SHARE = 0.95  # shipped outside the home region
AMOUNT_RATIO = 2.0  # median order vs legitimate online sales


class AccountTakeover(FraudParams):
    """High-value online orders at night, shipped to a region the customer does not live in."""

    share: NonNegativeFloat = 0.2
    # the victim sees the orders: reported soon, nearly always
    report_rate: float = Field(default=0.9, ge=0, le=1)
    report_delay: ReportDelay = Field(
        default_factory=lambda: ReportDelay(median_days=6.0, sigma=0.6)
    )
    categories: list[str] = Field(
        default_factory=lambda: ["Electronics", "Gift Cards"], min_length=1
    )
    night_hours: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])
    orders_max: int = Field(default=3, ge=1, le=20)
    priciest_share: float = Field(default=0.25, gt=0, le=1)
    # resalable goods are bought several at a time
    quantity_factor: float = Field(default=3.0, ge=0, le=20)

    @field_validator("night_hours")
    @classmethod
    def _hours(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= h <= 23 for h in value):
            raise ValueError("must list hours between 0 and 23")
        return sorted(set(value))


def goods_tilt(params: AccountTakeover) -> GoodsTilt:
    """The priciest ``priciest_share`` of ``categories``, more units."""
    return GoodsTilt(
        tuple(params.categories), "priciest", params.priciest_share, params.quantity_factor
    )


def generate(draws: FraudDraws, params: AccountTakeover, events: np.ndarray) -> TransactionSet:
    """High-value online orders at night, shipped to a region the customer doesn't live in."""
    day, size, per_event = draws.uniform_events(events, 1, params.orders_max, 4)
    total = int(size.sum())
    victim = draws.victims(day, per_event[:, 0])
    ship = draws.other_region(draws.home_region(victim, day), per_event[:, 1])
    camouflaged = draws.camouflaged(day)  # the victim's hours, home, goods and payments
    ship = np.where(camouflaged, draws.home_region(victim, day), ship)
    night = np.asarray(params.night_hours)
    hour = night[
        np.minimum((per_event[:, 2] * night.shape[0]).astype(np.int64), night.shape[0] - 1)
    ]
    start = hour * MICROS_PER_HOUR + (per_event[:, 3] * MICROS_PER_HOUR).astype(np.int64)
    start = np.where(camouflaged, draws.online_time(per_event[:, 2:4]), start)
    event, _ = draws.event_rows(size)
    per_txn = draws.stream(Stream.FRAUD_TIME).random((total, 2))
    low, high = ATO_GAP_MINUTES
    micros = draws.burst_times(start, size, low + per_txn[:, 0] * (high - low))
    pay = np.where(
        per_txn[:, 1] < ATO_WALLET_PROBABILITY,
        draws.payment("mobile_wallet", total),
        draws.payment("credit_card", total),
    )
    lines = draws.goods(
        victim[event], day[event], goods_tilt(params), camouflaged[event], ATO_EXTRA_LINES
    )
    # the victim's account on a ring's devices and connections, shipped to its drop
    # addresses (with the victim's stored card); a camouflaged one from the victim's own
    attacker = np.where(camouflaged, NO_RING, draws.attackers(day.shape[0]))
    return draws.transactions(
        FraudRows(
            day=day[event],
            micros=micros,
            customer=victim[event],
            store=np.full(total, draws.no_store),
            payment=draws.usual_payments(ONLINE, camouflaged[event], pay),
            ship_region=ship[event],
            channel=ONLINE,
            kind=SALE,
            lines=lines,
            ring=attacker[event],
        )
    )


TYPOLOGY = Typology(
    key=FraudKey.ACCOUNT_TAKEOVER,
    params=AccountTakeover,
    generate=generate,
    size_moments=lambda params, _difficulty: uniform_size_moments(1, params.orders_max),
    expected_lines=lambda _params: ATO_EXTRA_LINES.mean,
    share_signatures=(
        ShareSignature(
            "account_takeover_night",
            "night",
            NIGHT_SHARE,
            LEGIT_ONLINE,
            "orders between 00:00 and 06:00",
        ),
        ShareSignature(
            "account_takeover_new_region",
            "ship_away",
            AWAY_SHARE,
            LEGIT_ONLINE,
            "orders shipped outside the home region",
            needs_regions=True,
        ),
    ),
    amount_signatures=(
        AmountSignature("account_takeover_value", LEGIT_ONLINE, "takeover order", AMOUNT_RATIO),
    ),
)
