"""Stolen card: in-store purchases of pricey goods in stores outside the cardholder's home
region.

Event size: uniform 1..purchases_max purchases at in-store hours, each in a store of
another region (a camouflaged event: each in a store picked as the cardholder's own
in-store purchases pick one, ``sales.store_choice``: mostly the home store), 1 to 3 lines
(an extra 1-2 with STOLEN_EXTRA_LINE_PROBABILITY), each drawn like an ordinary line of the
cardholder that day from the priciest ``priciest_share`` of ``categories`` (by popularity,
the day's discounts), with 1 + Poisson(quantity_factor x quantity_mean) units (several, for
resale); paid by credit card: the cardholder's own card token (``card_id``), at a till, so
no device, network or shipping address.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from synthpipe.fraud.base import (
    LEGIT_IN_STORE,
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
from synthpipe.vocabulary import IN_STORE, SALE

STOLEN_EXTRA_LINES_MAX = 2  # stolen-card baskets have 1 to 3 lines
STOLEN_EXTRA_LINE_PROBABILITY = 0.5
STOLEN_EXTRA = ExtraLines(STOLEN_EXTRA_LINE_PROBABILITY, STOLEN_EXTRA_LINES_MAX)
AWAY_SHARE = 0.95  # bought outside the home region


class StolenCard(FraudParams):
    """A stolen card used in stores of a region far from the cardholder's home."""

    share: NonNegativeFloat = 0.2
    # a missed card is reported within days
    report_rate: float = Field(default=0.95, ge=0, le=1)
    report_delay: ReportDelay = Field(
        default_factory=lambda: ReportDelay(median_days=3.0, sigma=0.7)
    )
    categories: list[str] = Field(
        default_factory=lambda: ["Electronics", "Apparel", "Gift Cards"], min_length=1
    )
    purchases_max: int = Field(default=3, ge=1, le=20)
    priciest_share: float = Field(default=0.4, gt=0, le=1)
    # resalable goods are bought several at a time
    quantity_factor: float = Field(default=3.0, ge=0, le=20)


def goods_tilt(params: StolenCard) -> GoodsTilt:
    """The priciest ``priciest_share`` of ``categories``, more units."""
    return GoodsTilt(
        tuple(params.categories), "priciest", params.priciest_share, params.quantity_factor
    )


def generate(draws: FraudDraws, params: StolenCard, events: np.ndarray) -> TransactionSet:
    """In-store purchases of pricey goods in stores outside the cardholder's home region."""
    day, size, per_event = draws.uniform_events(events, 1, params.purchases_max, 1)
    total = int(size.sum())
    victim = draws.victims(day, per_event[:, 0])
    event, _ = draws.event_rows(size)
    per_txn = draws.stream(Stream.FRAUD_PLACE).random((total, 4))
    # camouflaged: the victim's usual stores, ordinary goods, usual payment
    camouflaged = draws.camouflaged(day)[event]
    home = draws.home_region(victim[event], day[event])
    usual = draws.usual_stores(victim[event], day[event], per_txn[:, [0, 3]])
    store = np.where(camouflaged, usual, draws.stores_away(home, per_txn[:, 0]))
    micros = draws.in_store_time(per_txn[:, 1:3])
    lines = draws.goods(victim[event], day[event], goods_tilt(params), camouflaged, STOLEN_EXTRA)
    return draws.transactions(
        FraudRows(
            day=day[event],
            micros=micros,
            customer=victim[event],
            store=store,
            payment=draws.usual_payments(
                IN_STORE, camouflaged, draws.payment("credit_card", total)
            ),
            ship_region=np.full(total, draws.no_region),
            channel=IN_STORE,
            kind=SALE,
            lines=lines,
        )
    )


TYPOLOGY = Typology(
    key=FraudKey.STOLEN_CARD,
    params=StolenCard,
    generate=generate,
    size_moments=lambda params, _difficulty: uniform_size_moments(1, params.purchases_max),
    expected_lines=lambda _params: STOLEN_EXTRA.mean,
    share_signatures=(
        ShareSignature(
            "stolen_card_far_from_home",
            "store_away",
            AWAY_SHARE,
            LEGIT_IN_STORE,
            "purchases in stores outside the home region",
            needs_regions=True,
        ),
    ),
)
