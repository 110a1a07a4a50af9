"""Transaction ids: unique without coordination, stable, and free of label leaks.

An id packs ``day | customer block | permuted sequence`` into 63 bits. The sequence is
numbered per channel and per fraud type in disjoint sub-ranges, so changing the fraud
settings never moves a legitimate transaction's id. A keyed Feistel permutation of the
28-bit sequence then hides the sub-range (and so the label) it came from:

* the permutation's round keys are derived from the spec's seed *and* the id's own
  block and day, so the same (sub-range, sequence) lands on unrelated bits on every
  block-day: no bit pattern, modulus or value recurs with a label from one day to the
  next (a fixed key made each fraud type reuse a few dozen low-bit patterns every day);
* the round function is the SplitMix64 finaliser, whose output bits each depend on
  every input bit, so four rounds give a pseudo-random permutation of [0, 2**28).

Without the seed, an id's low 28 bits are a uniform draw without replacement from the
block-day's 2**28 values, whatever process made the row. With the seed, ``id_subrange``
inverts the permutation (the day and block are read from the id itself).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from synthpipe.seeds import Entity, Stream, integer_seed64
from synthpipe.spec.models import ID_EPOCH

DAY_BITS = 16
BLOCK_BITS = 19
SEQUENCE_BITS = 28
SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
BLOCK_MASK = (1 << BLOCK_BITS) - 1
HALF_BITS = SEQUENCE_BITS // 2
HALF_MASK = (1 << HALF_BITS) - 1
FEISTEL_ROUNDS = 4
# SplitMix64's increment and finaliser multipliers (Steele, Lea and Flood 2014).
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX_MULTIPLIER_1 = 0xBF58476D1CE4E5B9
MIX_MULTIPLIER_2 = 0x94D049BB133111EB
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


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 in which every output bit depends on
    every input bit (arithmetic wraps modulo 2**64)."""
    z = np.asarray(values, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX_MULTIPLIER_1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX_MULTIPLIER_2)
    return np.asarray(z ^ (z >> np.uint64(31)))


def _round_keys(seed: int, days: np.ndarray, block: np.ndarray) -> list[np.ndarray]:
    """One key per round and row, from the seed and the row's (day, block) tweak."""
    tweak = (np.asarray(days, dtype=np.uint64) << np.uint64(BLOCK_BITS)) | np.asarray(
        block, dtype=np.uint64
    )
    with np.errstate(over="ignore"):
        spread = tweak * np.uint64(GOLDEN_GAMMA)
        return [
            mix64(spread ^ np.uint64(integer_seed64(seed, Entity.IDS, Stream.ID_PERMUTATION, r)))
            for r in range(FEISTEL_ROUNDS)
        ]


def _round(half: np.ndarray, key: np.ndarray) -> np.ndarray:
    return np.asarray(mix64(half ^ key) & np.uint64(HALF_MASK))


def _halves(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    as_unsigned = np.asarray(values).astype(np.uint64)
    return (as_unsigned >> np.uint64(HALF_BITS)) & np.uint64(HALF_MASK), as_unsigned & np.uint64(
        HALF_MASK
    )


def permute_sequence(
    sequence: np.ndarray, seed: int, days: np.ndarray | int, block: np.ndarray | int
) -> np.ndarray:
    """A bijection of [0, 2**28) for each (seed, day, block): a balanced 4-round Feistel
    network whose round keys depend on all three."""
    keys = _round_keys(seed, np.broadcast_to(days, np.shape(sequence)), np.asarray(block))
    left, right = _halves(sequence)
    with np.errstate(over="ignore"):
        for key in keys:
            left, right = right, left ^ _round(right, key)
    return np.asarray((left << np.uint64(HALF_BITS)) | right).astype(np.int64)


def unpermute_sequence(
    permuted: np.ndarray, seed: int, days: np.ndarray | int, block: np.ndarray | int
) -> np.ndarray:
    """The inverse of ``permute_sequence``: the Feistel rounds run backwards."""
    keys = _round_keys(seed, np.broadcast_to(days, np.shape(permuted)), np.asarray(block))
    left, right = _halves(permuted)
    with np.errstate(over="ignore"):
        for key in keys[::-1]:
            left, right = right ^ _round(left, key), left
    return np.asarray((left << np.uint64(HALF_BITS)) | right).astype(np.int64)


def id_subrange(ids: np.ndarray, seed: int) -> np.ndarray:
    """The sub-range each transaction id was numbered in (which process made it): only
    with the spec's seed, so the ids carry no label a model could learn."""
    ids = np.asarray(ids, dtype=np.int64)
    days = ids >> np.int64(BLOCK_BITS + SEQUENCE_BITS)
    block = (ids >> np.int64(SEQUENCE_BITS)) & np.int64(BLOCK_MASK)
    sequence = unpermute_sequence(ids & np.int64(SEQUENCE_MASK), seed, days, block)
    return np.asarray(sequence >> np.int64(SUBRANGE_BITS))


def transaction_ids(
    days: np.ndarray, block: int, subrange: int, sequence: np.ndarray, seed: int
) -> np.ndarray:
    """Ids for transactions numbered ``sequence`` within ``subrange`` of their block-day."""
    if sequence.size and int(sequence.max()) >= 1 << SUBRANGE_BITS:
        raise ValueError("more than 2**22 transactions of one kind in one block-day")
    raw = (np.int64(subrange) << np.int64(SUBRANGE_BITS)) | sequence.astype(np.int64)
    days = np.asarray(days, dtype=np.int64)
    permuted = permute_sequence(raw, seed, days, block)
    day_bits = days << np.int64(BLOCK_BITS + SEQUENCE_BITS)
    return np.asarray(day_bits | (np.int64(block) << np.int64(SEQUENCE_BITS)) | permuted)
