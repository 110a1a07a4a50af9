"""The identity graph's ground truth: households, fraud rings' members and the keys each
ring shares, by the ids transactions carry."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synthpipe.model.customers import cached_customer_block
from synthpipe.model.identity import (
    ADDRESS_TWEAK,
    CARD_TWEAK,
    DEVICE_TWEAK,
    NETWORK_TWEAK,
    cached_identity_world,
    entity_ids,
)
from synthpipe.model.schema import (
    dictionary_array,
)
from synthpipe.spec.models import Spec

HOUSEHOLDS = "households"
RING_MEMBERS = "fraud_ring_members"
RING_KEYS = "fraud_ring_keys"
IDENTITY_TRUTH = (HOUSEHOLDS, RING_MEMBERS, RING_KEYS)
RING_KEY_KINDS = ("device", "card", "ship_address", "ip")  # the key's column in transactions
LOCAL_BITS = 32  # a household or ring id: block << LOCAL_BITS | its index in the block


def local_ids(block: int, index: np.ndarray) -> np.ndarray:
    """Truth-only ids of households and rings: the block, then the index (they appear in
    no data table, so they need not be opaque)."""
    return np.asarray((np.int64(block) << np.int64(LOCAL_BITS)) + index.astype(np.int64))


def identity_truth(spec: Spec, block: int) -> dict[str, pa.Table]:
    """The block's households (every customer's), its rings' members (with their signup
    day and the day the ring was formed) and the keys each ring shares, by the ids the
    transactions carry."""
    world = cached_identity_world(spec, block)
    customers = cached_customer_block(spec, block)
    rings = world.rings
    member_ring = np.repeat(np.arange(rings.count, dtype=np.int64), rings.members.counts())
    kinds = [
        (rings.devices, DEVICE_TWEAK),
        (rings.cards, CARD_TWEAK),
        (rings.addresses, ADDRESS_TWEAK),
        (rings.networks, NETWORK_TWEAK),
    ]
    key_ring = np.concatenate(
        [np.repeat(np.arange(rings.count, dtype=np.int64), lists.counts()) for lists, _ in kinds]
    )
    key_kind = np.concatenate(
        [np.full(lists.items.shape[0], k, dtype=np.int64) for k, (lists, _) in enumerate(kinds)]
    )
    key_id = np.concatenate(
        [entity_ids(spec.seed, tweak, block, lists.items) for lists, tweak in kinds]
    )
    return {
        HOUSEHOLDS: pa.table(
            {
                "customer_id": pa.array(customers.ids, pa.int64()),
                "household_id": pa.array(local_ids(block, world.household), pa.int64()),
                "household_size": pa.array(
                    np.bincount(world.household)[world.household], pa.int16()
                ),
            }
        ),
        RING_MEMBERS: pa.table(
            {
                "ring_id": pa.array(local_ids(block, member_ring), pa.int64()),
                "customer_id": pa.array(customers.ids[rings.members.items], pa.int64()),
                "signup_date": pa.array(customers.signup_day[rings.members.items], pa.date32()),
                "ring_formed": pa.array(rings.formed[member_ring], pa.date32()),
            }
        ),
        RING_KEYS: pa.table(
            {
                "ring_id": pa.array(local_ids(block, key_ring), pa.int64()),
                "key": dictionary_array(key_kind, RING_KEY_KINDS),
                "key_id": pa.array(key_id, pa.int64()),
            }
        ),
    }
