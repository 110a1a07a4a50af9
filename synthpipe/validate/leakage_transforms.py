"""The leakage audit's declared table: every column of transactions (and its line items,
aggregated per transaction) and the usual transforms of ids, times and money, each
classed as an *artefact* (a property of how the data was written, which must not predict
the fraud label: gated) or a *behavioural* signal (the fraud typologies' documented
behaviour: listed with its score, not gated). See ``synthpipe.validate.leakage``.

Every transform maps the sample's columns, whole-column, to int64 category codes; -1
marks a row where the transform is undefined (``store_id`` online, ``ship_region`` in
store): those rows are left out of its fit and its score, so a nullable column's
nullness (which is the channel, listed on its own) is not read as a leak of its values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from synthpipe.clock import (
    MICROS_PER_DAY,
    MICROS_PER_HOUR,
    MICROS_PER_MINUTE,
    weekday_of,
)
from synthpipe.model.ids import BLOCK_BITS, SEQUENCE_BITS, SEQUENCE_MASK, SUBRANGE_BITS

ARTEFACT = "artefact"  # gated: ROC AUC at most the gate
BEHAVIOURAL = "behavioural"  # a typology's documented signal: listed with its score
KINDS = (ARTEFACT, BEHAVIOURAL)
MODULI = (2, 3, 7, 10, 100)  # value mod k (mod 16 and mod 256 are the low 4 and 8 bits)
LOW_BITS = (4, 8, 16)
MICROS_PER_SECOND = 1_000_000
SECONDS_PER_MINUTE = 60
MINUTES_PER_HOUR = 60
MICROS_PER_MILLI = 1_000
CENTS_PER_UNIT = 100
NICKEL_CENTS = 5
LOG_AMOUNT_BANDS_PER_DECADE = 10  # amount: 0.1-wide bins of log10(|amount| in cents)
ITEMS_CAP = 30  # larger baskets share one category
SHARE_STEPS = 10  # a share of lines in tenths
STORE_HIGH_SHIFT = 4  # store_id's high part: stores in runs of 16
CUSTOMER_HIGH_SHIFT = 10  # customer_id's high part: customers in runs of 1,024
SHAPE_LINES_CAP = 3  # a basket's shape counts its lines as 1, 2 or 3+
SHAPE_CODES = (SHAPE_LINES_CAP + 1) * 2 * 2  # lines x one unit each x any discount
ENDINGS = (99, 0)  # amount.ending: .99, .00, anything else
# Columns of transactions that are labels, not features: never audited.
LABEL_COLUMNS = ("is_fraud", "fraud_type", "fraud_reported", "fraud_reported_at")
# the identity keys of transactions, and what each one's value stands for
IDENTITY_KEYS = ("device_id", "ip_id", "card_id", "ship_address_id")
IDENTITY_WHAT = {
    "device_id": "the device, by value (rings and takeovers share a ring's devices)",
    "ip_id": "the network address, by value (a ring's connections; public ones)",
    "card_id": "the card, by value (a ring's shared cards; a victim's card tested)",
    "ship_address_id": "the shipping address, by value (a ring's drop addresses)",
}


@dataclass(frozen=True)
class Sample:
    """The audited sample, one entry per transaction, as int64 (or bool) numpy columns;
    -1 where a nullable column is null."""

    transaction_id: np.ndarray
    micros: np.ndarray  # ts as microseconds since 1970 (wall clock)
    customer_id: np.ndarray
    store_id: np.ndarray  # -1 online
    channel: np.ndarray  # codes
    transaction_type: np.ndarray
    payment_method: np.ndarray
    items: np.ndarray
    cents: np.ndarray  # amount in cents (negative for refunds)
    ship_region: np.ndarray  # -1 in store
    lines: np.ndarray  # line items of the transaction
    unit_lines: np.ndarray  # lines of one unit (|quantity| = 1)
    discounted_lines: np.ndarray  # lines with a discount
    discount_cents: np.ndarray  # total discount, cents
    first_price_cents: np.ndarray  # unit price of line 1, cents (-1 without lines)
    is_fraud: np.ndarray  # bool: the label
    # the identity keys (synthpipe.model.identity), -1 where a transaction has none; a
    # sample made without them (None) reads -1 throughout
    device_id: np.ndarray | None = None
    ip_id: np.ndarray | None = None
    card_id: np.ndarray | None = None
    ship_address_id: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in IDENTITY_KEYS:
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.full(self.rows, -1, dtype=np.int64))

    @property
    def rows(self) -> int:
        """Transactions in the sample."""
        return int(self.is_fraud.shape[0])


Codes = Callable[[Sample], np.ndarray]


@dataclass(frozen=True)
class Transform:
    """One audited feature: its name, the column it reads, artefact or behavioural, one
    line of what it is, and its category codes."""

    name: str
    column: str
    kind: str
    what: str
    codes: Codes
    within: Codes | None = None  # behavioural strata it is judged within (None: all rows)
    split_by: str = ""  # an entity id column: fitted on half the entities, scored on the rest
    # an entity id column whose fraud rows come in clusters of one entity (a ring's drop
    # address serves dozens of orders): the standard error counts entities, not events
    cluster_by: str = ""


def _defined(values: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """``mapped`` where ``values`` is set (>= 0), else -1."""
    return np.asarray(np.where(values >= 0, mapped, -1), dtype=np.int64)


def _low_bits(column: str, bits: int) -> Codes:
    mask = np.int64((1 << bits) - 1)
    return lambda s: _defined(getattr(s, column), getattr(s, column) & mask)


def _modulo(column: str, k: int) -> Codes:
    return lambda s: _defined(getattr(s, column), getattr(s, column) % k)


def _shifted(column: str, shift: int) -> Codes:
    return lambda s: _defined(getattr(s, column), getattr(s, column) >> np.int64(shift))


def _raw(column: str) -> Codes:
    return lambda s: np.asarray(getattr(s, column), dtype=np.int64)


def _id_transforms(
    column: str, high_shift: int, high_what: str, split_by: str = ""
) -> list[Transform]:
    """Low bits, moduli and the high part of an integer id (artefacts); an entity's id
    (``split_by``) is fitted on half the entities and scored on the others."""
    found = [
        Transform(
            f"{column}.low{b}",
            column,
            ARTEFACT,
            f"the low {b} bits",
            _low_bits(column, b),
            split_by=split_by,
        )
        for b in LOW_BITS
    ]
    found += [
        Transform(
            f"{column}.mod{k}",
            column,
            ARTEFACT,
            f"the value mod {k}",
            _modulo(column, k),
            split_by=split_by,
        )
        for k in MODULI
    ]
    found.append(
        Transform(
            f"{column}.high",
            column,
            ARTEFACT,
            high_what,
            _shifted(column, high_shift),
            split_by=split_by,
        )
    )
    return found


def _sequence(s: Sample) -> np.ndarray:
    return np.asarray(s.transaction_id & np.int64(SEQUENCE_MASK))


def _sequence_top(s: Sample) -> np.ndarray:
    return np.asarray(_sequence(s) >> np.int64(SUBRANGE_BITS))


def _id_block(s: Sample) -> np.ndarray:
    return np.asarray(
        (s.transaction_id >> np.int64(SEQUENCE_BITS)) & np.int64((1 << BLOCK_BITS) - 1)
    )


def _hour(s: Sample) -> np.ndarray:
    return np.asarray((s.micros % MICROS_PER_DAY) // MICROS_PER_HOUR)


def _weekday(s: Sample) -> np.ndarray:
    return weekday_of(s.micros // MICROS_PER_DAY)


def _minute(s: Sample) -> np.ndarray:
    return np.asarray((s.micros // MICROS_PER_MINUTE) % MINUTES_PER_HOUR)


def _second(s: Sample) -> np.ndarray:
    return np.asarray((s.micros // MICROS_PER_SECOND) % SECONDS_PER_MINUTE)


def _subsecond(s: Sample) -> np.ndarray:
    return np.asarray(s.micros % MICROS_PER_SECOND)


def _micros_mod_1000(s: Sample) -> np.ndarray:
    return np.asarray(s.micros % MICROS_PER_MILLI)


def _cents(s: Sample) -> np.ndarray:
    return np.asarray(np.abs(s.cents) % CENTS_PER_UNIT)


def _cents_mod5(s: Sample) -> np.ndarray:
    return np.asarray(_cents(s) % NICKEL_CENTS)


def _ending(s: Sample) -> np.ndarray:
    cents = _cents(s)
    code = np.full(cents.shape, len(ENDINGS), dtype=np.int64)
    for k, ending in enumerate(ENDINGS):
        code[cents == ending] = k
    return code


def _amount_band(s: Sample) -> np.ndarray:
    return _log_band(s.cents)


def _log_band(cents: np.ndarray) -> np.ndarray:
    magnitude = np.log10(np.maximum(np.abs(cents), 1).astype(np.float64))
    return np.asarray(np.floor(magnitude * LOG_AMOUNT_BANDS_PER_DECADE), dtype=np.int64)


def _basket_shape(s: Sample) -> np.ndarray:
    """The behaviour an amount's cents follow from: its log band, its lines (1, 2, 3+),
    whether every line is of one unit, whether any is discounted (charm prices make a
    one-unit basket's cents a function of its price)."""
    lines = np.clip(s.lines, 0, SHAPE_LINES_CAP)
    one_unit = (s.unit_lines == s.lines).astype(np.int64)
    discounted = (s.discounted_lines > 0).astype(np.int64)
    shape = (lines * 2 + one_unit) * 2 + discounted
    return np.asarray(_log_band(s.cents) * SHAPE_CODES + shape)


def _price_band(s: Sample) -> np.ndarray:
    """The first line's unit price in log bands (its cents follow from the band)."""
    return _defined(s.first_price_cents, _log_band(s.first_price_cents))


def _items(s: Sample) -> np.ndarray:
    return np.asarray(np.minimum(s.items, ITEMS_CAP), dtype=np.int64)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """A share in tenths (-1 where ``whole`` is 0)."""
    tenths = np.floor(SHARE_STEPS * part / np.maximum(whole, 1)).astype(np.int64)
    return np.asarray(np.where(whole > 0, tenths, -1))


def _unit_share(s: Sample) -> np.ndarray:
    return _share(s.unit_lines, s.lines)


def _any_discount(s: Sample) -> np.ndarray:
    return np.asarray(np.where(s.lines > 0, s.discounted_lines > 0, -1), dtype=np.int64)


def _discount_cents(s: Sample) -> np.ndarray:
    # only where there is a discount: its presence is line_items.any_discount
    return np.asarray(np.where(s.discount_cents > 0, s.discount_cents % CENTS_PER_UNIT, -1))


def _price_cents(s: Sample) -> np.ndarray:
    return _defined(s.first_price_cents, s.first_price_cents % CENTS_PER_UNIT)


TRANSFORMS: tuple[Transform, ...] = (
    # transaction_id: day | block | permuted sequence (synthpipe.model.ids)
    *_id_transforms("transaction_id", SEQUENCE_BITS, "the high part: day and customer block bits"),
    Transform(
        "transaction_id.sequence",
        "transaction_id",
        ARTEFACT,
        "the low 28 bits (the permuted sequence), by value",
        _sequence,
    ),
    Transform(
        "transaction_id.sequence_top6",
        "transaction_id",
        ARTEFACT,
        "bits 22-27 (where the process's sub-range sat before the permutation)",
        _sequence_top,
    ),
    Transform(
        "transaction_id.block",
        "transaction_id",
        ARTEFACT,
        "the customer-block bits",
        _id_block,
    ),
    # customer_id and store_id: dense 1..n
    Transform(
        "customer_id",
        "customer_id",
        BEHAVIOURAL,
        "the account, by value (fraud strikes victims' accounts, card tests in bursts)",
        _raw("customer_id"),
    ),
    *_id_transforms(
        "customer_id", CUSTOMER_HIGH_SHIFT, "the high part: runs of 1,024 ids", "customer_id"
    ),
    Transform(
        "store_id",
        "store_id",
        BEHAVIOURAL,
        "the store, by value, in store (stolen cards are used away from home)",
        _raw("store_id"),
    ),
    *_id_transforms("store_id", STORE_HIGH_SHIFT, "the high part: runs of 16 ids", "store_id"),
    # the identity keys: opaque ids (block | permuted index), each fitted on half the
    # entities and scored on the others, so a ring's reused device is not read as its
    # bits leaking
    *(
        transform
        for key in IDENTITY_KEYS
        for transform in (
            Transform(key, key, BEHAVIOURAL, IDENTITY_WHAT[key], _raw(key), cluster_by=key),
            *(
                replace(found, cluster_by=key)
                for found in _id_transforms(
                    key, SEQUENCE_BITS, "the high part: the customer block", key
                )
            ),
        )
    ),
    # ts
    Transform("ts.hour", "ts", BEHAVIOURAL, "hour of day (takeovers at night)", _hour),
    Transform("ts.weekday", "ts", BEHAVIOURAL, "day of the week", _weekday),
    Transform("ts.minute", "ts", ARTEFACT, "minute of the hour", _minute),
    Transform("ts.second", "ts", ARTEFACT, "seconds mod 60", _second),
    Transform("ts.subsecond", "ts", ARTEFACT, "the sub-second microseconds", _subsecond),
    Transform("ts.micros_mod1000", "ts", ARTEFACT, "microseconds mod 1000", _micros_mod_1000),
    # categories
    Transform("channel", "channel", BEHAVIOURAL, "online or in store", _raw("channel")),
    Transform(
        "transaction_type",
        "transaction_type",
        BEHAVIOURAL,
        "sale or refund (refund abuse)",
        _raw("transaction_type"),
    ),
    Transform(
        "payment_method",
        "payment_method",
        BEHAVIOURAL,
        "payment method (stolen cards pay by credit card)",
        _raw("payment_method"),
    ),
    Transform(
        "ship_region",
        "ship_region",
        BEHAVIOURAL,
        "delivery region, online (takeovers ship away from home)",
        _raw("ship_region"),
    ),
    Transform("items", "items", BEHAVIOURAL, "line items (capped at 30)", _items),
    # amount
    Transform(
        "amount",
        "amount",
        BEHAVIOURAL,
        "the absolute amount in 0.1-wide log10 bands (tiny card tests, pricey takeovers)",
        _amount_band,
    ),
    # charm prices (3.49, 26.99): within its basket's shape an amount's cents still name
    # the price point of the goods bought, which the typologies choose (card tests the
    # cheapest products): behaviour; their mod 5 is the same for every charm price
    Transform(
        "amount.cents",
        "amount",
        BEHAVIOURAL,
        "the cents of the absolute amount: the charm price point of the goods bought",
        _cents,
        _basket_shape,
    ),
    Transform(
        "amount.cents_mod5",
        "amount",
        ARTEFACT,
        "the cents of the absolute amount mod 5",
        _cents_mod5,
        _basket_shape,
    ),
    Transform(
        "amount.ending",
        "amount",
        BEHAVIOURAL,
        "ends in .99, .00 or else: the charm ending of the goods' price level",
        _ending,
        _basket_shape,
    ),
    # line items, per transaction
    Transform(
        "line_items.unit_share",
        "line_items.quantity",
        BEHAVIOURAL,
        "share of the lines of one unit, in tenths (card tests buy one unit)",
        _unit_share,
    ),
    Transform(
        "line_items.any_discount",
        "line_items.discount",
        ARTEFACT,
        "whether any line is discounted",
        _any_discount,
    ),
    Transform(
        "line_items.discount_cents",
        "line_items.discount",
        ARTEFACT,
        "the cents of the total discount, where there is one",
        _discount_cents,
    ),
    Transform(
        "line_items.price_cents",
        "line_items.unit_price",
        BEHAVIOURAL,
        "the cents of the first line's unit price: its price point (which product)",
        _price_cents,
        _price_band,
    ),
)
