"""Transaction ids: unique without coordination, stable, and free of label leaks.

An id packs ``day | customer block | permuted sequence`` into 63 bits. The sequence is
numbered per channel and per fraud type in disjoint sub-ranges, so changing the fraud
settings never moves a legitimate transaction's id; a keyed Feistel permutation then
scrambles the sequence so that no id reveals which sub-range (and so which label) it
came from.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from synthpipe.seeds import Entity, Stream, integer_seed
from synthpipe.spec.models import ID_EPOCH

DAY_BITS = 16
BLOCK_BITS = 19
SEQUENCE_BITS = 28
HALF_BITS = SEQUENCE_BITS // 2
HALF_MASK = (1 << HALF_BITS) - 1
FEISTEL_ROUNDS = 4
ROUND_MULTIPLIER = 0x9E3779B1  # odd 32-bit constant (golden ratio) for the round function
# Sub-ranges of the sequence space (before permutation).
SUBRANGE_BITS = 22  # 4.2 million ids per channel / fraud type / block / day
LEGIT_SUBRANGE = {
    "in_store": 0,
    "online": 1,
    "refund_in_store": 2,
    "refund_online": 3,
    "repeat_in_store": 4,
    "repeat_online": 5,
    "replenish_in_store": 6,
    "replenish_online": 7,
}
FRAUD_SUBRANGE_BASE = 8
EPOCH_ORDINAL = ID_EPOCH.toordinal()


def day_number(day: dt.date) -> int:
    """Days since the id epoch."""
    return day.toordinal() - EPOCH_ORDINAL


def _round_keys(seed: int) -> np.ndarray:
    return np.asarray(
        [integer_seed(seed, Entity.IDS, Stream.ID_PERMUTATION, r) for r in range(FEISTEL_ROUNDS)],
        dtype=np.uint64,
    )


def permute_sequence(sequence: np.ndarray, seed: int) -> np.ndarray:
    """A keyed bijection of [0, 2**28): a balanced 4-round Feistel network."""
    keys = _round_keys(seed)
    left = (sequence.astype(np.uint64) >> np.uint64(HALF_BITS)) & np.uint64(HALF_MASK)
    right = sequence.astype(np.uint64) & np.uint64(HALF_MASK)
    for key in keys:
        left, right = right, left ^ _round(right, key)
    return ((left << np.uint64(HALF_BITS)) | right).astype(np.int64)


def _round(half: np.ndarray, key: np.uint64) -> np.ndarray:
    mixed = (half + key) * np.uint64(ROUND_MULTIPLIER)
    mixed ^= mixed >> np.uint64(15)
    return np.asarray(mixed & np.uint64(HALF_MASK))


def unpermute_sequence(permuted: np.ndarray, seed: int) -> np.ndarray:
    """The inverse of ``permute_sequence``: the Feistel rounds run backwards."""
    keys = _round_keys(seed)
    left = (permuted.astype(np.uint64) >> np.uint64(HALF_BITS)) & np.uint64(HALF_MASK)
    right = permuted.astype(np.uint64) & np.uint64(HALF_MASK)
    for key in keys[::-1]:
        left, right = right ^ _round(left, key), left
    return ((left << np.uint64(HALF_BITS)) | right).astype(np.int64)


def id_subrange(ids: np.ndarray, seed: int) -> np.ndarray:
    """The sub-range each transaction id was numbered in (which process made it): only
    with the spec's seed, so the ids carry no label a model could learn."""
    permuted = ids.astype(np.int64) & np.int64((1 << SEQUENCE_BITS) - 1)
    return np.asarray(unpermute_sequence(permuted, seed) >> np.int64(SUBRANGE_BITS))


def transaction_ids(
    days: np.ndarray, block: int, subrange: int, sequence: np.ndarray, seed: int
) -> np.ndarray:
    """Ids for transactions numbered ``sequence`` within ``subrange`` of their block-day."""
    if sequence.size and int(sequence.max()) >= 1 << SUBRANGE_BITS:
        raise ValueError("more than 2**22 transactions of one kind in one block-day")
    raw = (np.int64(subrange) << np.int64(SUBRANGE_BITS)) | sequence.astype(np.int64)
    permuted = permute_sequence(raw, seed)
    day_bits = days.astype(np.int64) << np.int64(BLOCK_BITS + SEQUENCE_BITS)
    return np.asarray(day_bits | (np.int64(block) << np.int64(SEQUENCE_BITS)) | permuted)
