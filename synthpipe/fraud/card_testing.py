"""Card testing: bursts of tiny online charges minutes apart on one account, any hour.

Event size: burst_min + Poisson(burst_extra_mean) charges (a camouflaged event: one
charge of an ordinary product, paid like the customer's other online purchases); gaps uniform in
[gap_minutes_min, gap_minutes_max]; each charge one line drawn like an ordinary line of the
victim that day from the cheapest ``cheapest_share`` of the catalogue (by popularity, the
day's discounts), 1 + Poisson(quantity_factor x quantity_mean) units, paid by credit card,
shipped to the home region. The victim's card is tried from a fraud ring's devices and
connections, to its drop addresses (``FraudDraws.attackers``; a camouflaged event: the
victim's own, ``synthpipe.model.identity``).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from synthpipe.clock import MICROS_PER_MINUTE
from synthpipe.fraud.base import (
    LEGIT_ONLINE,
    NO_RING,
    FraudDraws,
    FraudParams,
    FraudRows,
    GoodsTilt,
    ReportDelay,
    ShareSignature,
    TransactionSet,
    Typology,
    camouflaged_size_moments,
)
from synthpipe.seeds import FraudKey, Stream
from synthpipe.spec.base import NonNegativeFloat
from synthpipe.vocabulary import ONLINE, SALE

BURST_SHARE = 0.6  # charges with another of the account within 10 minutes
TINY_SHARE = 0.9  # charges under 10.00
CAMOUFLAGED_SIZE = 1  # a camouflaged test is one charge, like any purchase


class CardTesting(FraudParams):
    """Bursts of tiny online charges minutes apart on one account."""

    share: NonNegativeFloat = 0.3
    # tiny charges: often unnoticed, noticed within days when at all
    report_rate: float = Field(default=0.55, ge=0, le=1)
    report_delay: ReportDelay = Field(
        default_factory=lambda: ReportDelay(median_days=5.0, sigma=0.7)
    )
    burst_min: int = Field(default=3, ge=1, le=50)
    burst_extra_mean: float = Field(default=4.0, ge=0, le=50)
    gap_minutes_min: float = Field(default=0.5, gt=0, le=30)
    gap_minutes_max: float = Field(default=4.0, gt=0, le=30)
    cheapest_share: float = Field(default=0.03, gt=0, le=1)
    # tests buy fewer units than customers (half the quantity law's extra units)
    quantity_factor: float = Field(default=0.5, ge=0, le=20)

    @model_validator(mode="after")
    def _gaps(self) -> CardTesting:
        if self.gap_minutes_max < self.gap_minutes_min:
            raise ValueError("gap_minutes_max must not be below gap_minutes_min")
        return self


def goods_tilt(params: CardTesting) -> GoodsTilt:
    """The cheapest ``cheapest_share`` of the whole catalogue, fewer units."""
    return GoodsTilt(None, "cheapest", params.cheapest_share, params.quantity_factor)


def size_moments(params: CardTesting, difficulty: float) -> tuple[float, float]:
    """Mean and variance of the mixture: with probability 1 - difficulty a burst of
    burst_min + Poisson(burst_extra_mean), else CAMOUFLAGED_SIZE charges."""
    extra = params.burst_extra_mean
    return camouflaged_size_moments((params.burst_min + extra, extra), difficulty, CAMOUFLAGED_SIZE)


def generate(draws: FraudDraws, params: CardTesting, events: np.ndarray) -> TransactionSet:
    """Bursts of tiny online charges, a few minutes apart, on one account."""
    day = draws.event_days(events)
    n_events = day.shape[0]
    burst = params.burst_min + np.asarray(
        draws.stream(Stream.FRAUD_EVENT_SIZE).poisson(params.burst_extra_mean, n_events),
        dtype=np.int64,
    )
    camouflaged = draws.camouflaged(day)  # one ordinary purchase instead of a burst
    size = np.where(camouflaged, CAMOUFLAGED_SIZE, burst)
    total = int(size.sum())
    per_event = draws.stream(Stream.FRAUD_VICTIM).random((n_events, 3))
    victim = draws.victims(day, per_event[:, 0])
    longest = (size - 1) * params.gap_minutes_max * MICROS_PER_MINUTE
    # the burst fits its day; one longer than half a day is squeezed to half a day
    # (burst_times), so its start stays uniform over the first half
    room = np.maximum(draws.last_micro - longest, draws.last_micro // 2)
    start = (per_event[:, 1] * room).astype(np.int64)
    start = np.where(camouflaged, draws.online_time(per_event[:, 1:3]), start)
    event, _ = draws.event_rows(size)
    per_txn = draws.stream(Stream.FRAUD_TIME).random(total)
    low, high = params.gap_minutes_min, params.gap_minutes_max
    gaps = low + per_txn * (high - low)
    micros = draws.burst_times(start, size, gaps)
    lines = draws.goods(victim[event], day[event], goods_tilt(params), camouflaged[event])
    payment = draws.payment("credit_card", total)
    # the victim's card tried from a ring's devices; a camouflaged try, from the victim's
    attacker = np.where(camouflaged, NO_RING, draws.attackers(n_events))
    return draws.transactions(
        FraudRows(
            day=day[event],
            micros=micros,
            customer=victim[event],
            store=np.full(total, draws.no_store),
            payment=draws.usual_payments(ONLINE, camouflaged[event], payment),
            ship_region=draws.home_region(victim[event], day[event]),
            channel=ONLINE,
            kind=SALE,
            lines=lines,
            ring=attacker[event],
        )
    )


TYPOLOGY = Typology(
    key=FraudKey.CARD_TESTING,
    params=CardTesting,
    generate=generate,
    size_moments=size_moments,
    expected_lines=lambda _params: 1.0,
    share_signatures=(
        ShareSignature(
            "card_testing_bursts",
            "burst",
            BURST_SHARE,
            LEGIT_ONLINE,
            "charges within 10 minutes of another on the same account",
        ),
        ShareSignature(
            "card_testing_tiny", "small", TINY_SHARE, LEGIT_ONLINE, "charges under 10.00"
        ),
    ),
)
