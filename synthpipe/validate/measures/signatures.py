"""Fraud signatures in a sales partition: per fraud type, the features of its signature,
next to the same features of the legitimate transactions it is compared with."""

from __future__ import annotations

import numpy as np

from synthpipe.clock import NIGHT_END_HOUR
from synthpipe.fraud import TYPOLOGIES
from synthpipe.fraud.base import LEGIT_GROUPS, Feature
from synthpipe.validate import statistics as st
from synthpipe.validate.binning import AMOUNT_BINS, LOG_AMOUNT_EDGES
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame, TransactionFrame
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import (
    CHANNELS,
    FRAUD_TYPES,
    IN_STORE,
    ONLINE,
    REFUND,
    SALE,
    TRANSACTION_TYPES,
)

SIGNATURE_GROUPS = LEGIT_GROUPS + tuple(FRAUD_TYPES)
BURST_WINDOW_MICROS = 10 * 60_000_000  # card-testing charges within 10 minutes of another
DAY_KEY_SPAN = 1 << 20  # days in an (account, day) key: more than any calendar
SMALL_CHARGE_CENTS = 1_000  # "tiny" charge: under 10.00
PACKED_PAIR_LIMIT = 1 << 62  # packed (major, minor) keys stay below this (int64, with room)


def feature_groups(feature: Feature) -> frozenset[str]:
    """The groups a feature that is costly to measure is measured for: the typologies whose
    signatures read it, and the legitimate groups they are compared with."""
    return frozenset(
        group
        for name, typology in TYPOLOGIES.items()
        for signature in typology.share_signatures
        if signature.feature == feature
        for group in (name, signature.baseline)
    )


BURST_GROUPS = feature_groups("burst")  # groups whose burst share is reported
REPEAT_GROUPS = feature_groups("same_day_repeat")  # groups whose same-day repeats are counted


def _legit_group_table() -> np.ndarray:
    """LEGIT_GROUPS index by (kind + 1, channel + 1) of an unlabelled row (-1: none; the
    extra first row and column take unknown labels)."""
    table = np.full((len(TRANSACTION_TYPES) + 1, len(CHANNELS) + 1), -1, dtype=np.int64)
    table[SALE + 1, ONLINE + 1] = LEGIT_GROUPS.index("legit_online")
    table[SALE + 1, IN_STORE + 1] = LEGIT_GROUPS.index("legit_in_store")
    table[REFUND + 1, :] = LEGIT_GROUPS.index("legit_refund")
    return table


LEGIT_GROUP_BY_KIND_CHANNEL = _legit_group_table()


def signature_groups(txn: TransactionFrame) -> np.ndarray:
    """Each transaction's index in SIGNATURE_GROUPS (-1: in none). A row labelled with a
    fraud type is in that type's group whatever is_fraud says (a mismatch is its own
    integrity check)."""
    width = LEGIT_GROUP_BY_KIND_CHANNEL.shape[1]
    legit = LEGIT_GROUP_BY_KIND_CHANNEL.ravel().take((txn.kind + 1) * width + txn.channel + 1)
    group = np.where(txn.is_fraud | txn.replenish, -1, legit)  # reorders: no group
    return np.where(txn.fraud >= 0, len(LEGIT_GROUPS) + txn.fraud, group)


def _features(txn: TransactionFrame) -> dict[str, np.ndarray]:
    """The cheap features, one flag per transaction."""
    home = txn.home_region
    if not txn.customer_found.all():
        home = np.where(txn.customer_found, home, -1)
    store_region = txn.store_region  # -1 where null or unresolvable
    return {
        "night": txn.hour < NIGHT_END_HOUR,
        "ship_away": (txn.ship >= 0) & (home >= 0) & (txn.ship != home),
        "store_away": (store_region >= 0) & (home >= 0) & (store_region != home),
        "small": np.abs(txn.amount) < SMALL_CHARGE_CENTS,
    }


def signatures(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Per signature group: its transactions, how many show each cheap feature, a
    histogram of their amounts, and where a typology reads them, bursts and repeats."""
    txn = frame.txn
    stats: Stats = {}
    features = _features(txn)
    group = signature_groups(txn)
    member = np.flatnonzero(group >= 0)  # taken from four columns: an index array
    count = len(SIGNATURE_GROUPS)
    member_group = group.take(member)
    magnitude = np.abs(txn.amount.take(member))
    # one bincount over (group, feature bits); each feature's count sums the bit's cells
    # (the bits are packed in bytes: an eighth of the memory traffic of int64)
    bits = np.zeros(txn.rows, dtype=np.uint8)
    for bit, flag in enumerate(features.values()):
        bits |= flag.view(np.uint8) << np.uint8(bit)
    combos = 1 << len(features)
    joint = np.bincount(
        member_group * combos + bits.take(member), minlength=count * combos
    ).reshape(count, combos)
    totals = {"n": joint.sum(axis=1)}
    for bit, name in enumerate(features):
        totals[name] = joint[:, (np.arange(combos) >> bit) & 1 == 1].sum(axis=1)
    size = LOG_AMOUNT_EDGES.shape[0] + 1
    hist = np.bincount(
        member_group * size + AMOUNT_BINS(magnitude), minlength=count * size
    ).reshape(count, size)
    for k, name in enumerate(SIGNATURE_GROUPS):
        for feature, values in totals.items():
            stats[st.signature(name, feature)] = int(values[k])
        stats[st.signature(name, "amount_hist")] = hist[k]
        if name in BURST_GROUPS:
            mask = group == k
            stats[st.signature(name, "burst")] = burst_members(txn.customer[mask], txn.ts[mask])
        if name in REPEAT_GROUPS:
            mask = group == k
            stats[st.signature(name, "same_day_repeat")] = same_day_repeats(
                txn.customer[mask], txn.day[mask]
            )
    return stats


def _pair_keys(major: np.ndarray, minor: np.ndarray) -> np.ndarray | None:
    """One sortable int64 key per (major, minor) pair, ordered like the pairs; None when
    the ranges are too wide to pack."""
    major_span = int(major.max()) - int(major.min()) + 1
    minor_span = int(minor.max()) - int(minor.min()) + 1
    if major_span * minor_span >= PACKED_PAIR_LIMIT:
        return None
    return np.asarray((major - major.min()) * np.int64(minor_span) + (minor - minor.min()))


def burst_members(customer: np.ndarray, ts: np.ndarray) -> int:
    """Transactions with another one of the same account within the burst window."""
    if customer.shape[0] < 2:
        return 0
    key = _pair_keys(customer, ts)
    if key is None:
        order = np.lexsort((ts, customer))
        c, t = customer[order], ts[order]
    else:
        key = np.sort(key)  # sorting values, not an argsort: several times quicker
        span = int(ts.max()) - int(ts.min()) + 1
        c = key // span  # np.divmod is slower than a division and a product
        t = key - c * span
    close = (c[1:] == c[:-1]) & (t[1:] - t[:-1] <= BURST_WINDOW_MICROS)
    return _members(close)


def same_day_repeats(customer: np.ndarray, day: np.ndarray) -> int:
    """Transactions sharing their (account, day) with another of the same group."""
    if customer.shape[0] < 2:
        return 0
    key = _pair_keys(customer, day)
    if key is None:
        key = customer * np.int64(DAY_KEY_SPAN) + (day - day.min())
    key = np.sort(key)
    return _members(key[1:] == key[:-1])


def _members(linked: np.ndarray) -> int:
    """Elements of a sorted run joined to a neighbour: ``linked[i]`` joins i and i + 1."""
    member = np.zeros(linked.shape[0] + 1, dtype=bool)
    member[1:] |= linked
    member[:-1] |= linked
    return int(np.count_nonzero(member))
