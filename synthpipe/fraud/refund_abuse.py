"""Refund abuse: several high-value refunds on one account in one day, at different stores.

Event size: uniform refunds_min..refunds_max refunds at in-store hours, each at any store,
one line drawn like an ordinary refund's line of the victim that day from the priciest
``priciest_share`` of ``categories`` (by popularity; 1 + Poisson(quantity_factor x
quantity_mean) units, no discount), paid out as a gift card with
REFUND_ABUSE_STORE_CREDIT_PROBABILITY, else to the credit card. A camouflaged event is one
refund of an ordinary product at the victim's home store, paid by the in-store mix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from synthpipe.fraud.base import (
    LEGIT_REFUND,
    AmountSignature,
    FraudDraws,
    FraudParams,
    FraudRows,
    GoodsTilt,
    ReportDelay,
    ShareSignature,
    TransactionSet,
    Typology,
    camouflaged_size_moments,
    uniform_size_moments,
)
from synthpipe.seeds import FraudKey, Stream
from synthpipe.spec.base import NonNegativeFloat
from synthpipe.vocabulary import IN_STORE, REFUND

REFUND_ABUSE_STORE_CREDIT_PROBABILITY = 0.4  # refunds paid out as a gift card
CAMOUFLAGED_SIZE = 1  # a camouflaged abuser returns one thing, like any customer
REPEAT_SHARE = 0.95  # refunds sharing their account-day with another
AMOUNT_RATIO = 2.0  # median abusive refund vs legitimate refunds


class RefundAbuse(FraudParams):
    """Several high-value refunds on one account in one day, at different stores."""

    share: NonNegativeFloat = 0.15
    # found by audit weeks later, when at all
    report_rate: float = Field(default=0.6, ge=0, le=1)
    report_delay: ReportDelay = Field(
        default_factory=lambda: ReportDelay(median_days=35.0, sigma=0.5)
    )
    categories: list[str] = Field(default_factory=lambda: ["Electronics", "Apparel"], min_length=1)
    refunds_min: int = Field(default=2, ge=1, le=20)
    refunds_max: int = Field(default=4, ge=1, le=20)
    priciest_share: float = Field(default=0.15, gt=0, le=1)
    # units returned: an ordinary refund's law
    quantity_factor: float = Field(default=1.0, ge=0, le=20)

    @model_validator(mode="after")
    def _ordered(self) -> RefundAbuse:
        if self.refunds_max < self.refunds_min:
            raise ValueError("refunds_max must not be below refunds_min")
        return self


def goods_tilt(params: RefundAbuse) -> GoodsTilt:
    """The priciest ``priciest_share`` of ``categories``."""
    return GoodsTilt(
        tuple(params.categories), "priciest", params.priciest_share, params.quantity_factor
    )


def generate(draws: FraudDraws, params: RefundAbuse, events: np.ndarray) -> TransactionSet:
    """Several high-value refunds on one account in one day, at different stores."""
    day, size, per_event = draws.uniform_events(events, params.refunds_min, params.refunds_max, 1)
    camouflaged_event = draws.camouflaged(day)  # one ordinary return at home, usual payment
    size = np.where(camouflaged_event, CAMOUFLAGED_SIZE, size)
    total = int(size.sum())
    victim = draws.victims(day, per_event[:, 0])
    event, _ = draws.event_rows(size)
    per_txn = draws.stream(Stream.FRAUD_PLACE).random((total, 4))
    camouflaged = camouflaged_event[event]
    store = np.where(
        camouflaged, draws.home_store(victim[event], day[event]), draws.any_store(per_txn[:, 0])
    )
    micros = draws.in_store_time(per_txn[:, 1:3])
    pay = np.where(
        per_txn[:, 3] < REFUND_ABUSE_STORE_CREDIT_PROBABILITY,
        draws.payment("gift_card", total),
        draws.payment("credit_card", total),
    )
    pay = draws.usual_payments(IN_STORE, camouflaged, pay)
    lines = draws.goods(victim[event], day[event], goods_tilt(params), camouflaged, refund=True)
    return draws.transactions(
        FraudRows(
            day=day[event],
            micros=micros,
            customer=victim[event],
            store=store,
            payment=pay,
            ship_region=np.full(total, draws.no_region),
            channel=IN_STORE,
            kind=REFUND,
            lines=lines,
        )
    )


def _repeats_possible(params: Any) -> bool:
    """Same-day repeats are a signature only when every event has two refunds or more."""
    return bool(params.refunds_min >= 2)


TYPOLOGY = Typology(
    key=FraudKey.REFUND_ABUSE,
    params=RefundAbuse,
    generate=generate,
    size_moments=lambda params, difficulty: camouflaged_size_moments(
        uniform_size_moments(params.refunds_min, params.refunds_max), difficulty, CAMOUFLAGED_SIZE
    ),
    expected_lines=lambda _params: 1.0,
    share_signatures=(
        ShareSignature(
            "refund_abuse_repeat",
            "same_day_repeat",
            REPEAT_SHARE,
            LEGIT_REFUND,
            "refunds sharing their account and day with another refund",
            applies=_repeats_possible,
        ),
    ),
    amount_signatures=(
        AmountSignature("refund_abuse_value", LEGIT_REFUND, "abusive refund", AMOUNT_RATIO),
    ),
)
