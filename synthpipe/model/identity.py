"""The identity graph: devices, network addresses, payment cards and shipping addresses
that customers own, share, and that fraud rings exploit.

Per customer block (``identity_world``, drawn once from the block's own streams):

- households: a ``household_share`` of customers live with others; they are shuffled
  within their region and cut into households of 2..household_size_max (the rest live
  alone, a household of one); the first of a household is its head;
- devices: 1 + Poisson(devices_mean - 1) per customer; cards: 1 + Poisson(cards_mean - 1)
  per customer, and a family card, held by the head, for ``family_card_share`` of the
  households of two or more; addresses: a household's home (registered by its head) and
  Poisson(extra_addresses_mean) more per customer; network: a household's home connection;
- fraud rings (``synthpipe.fraud.fraud_ring``): members that signed up one after another,
  and the devices, cards, drop addresses and connections they share, each registered by
  one of them.

Per transaction (``synthpipe.model.sessions.session_keys``, one stream per column,
consumed in time order):
online transactions have a device (a housemate's with ``shared_device_share`` in a
household, else one of the customer's own) and a network (public with
``public_ip_share``, else the household's home); card payments a card (uniform over the
customer's own and the household's family card); online sales a shipping address (a gift,
shipped to another region: another household's home; else another of the customer's own
addresses with ``other_address_share``; else home). A transaction made by a ring uses the
ring's devices, connections and drop addresses instead (and its cards when the typology
says so), drawn by the same uniforms.

Ids are opaque: an entity's index in its block is permuted by the keyed Feistel
permutation of the transaction ids (``synthpipe.model.ids``) with a tweak of its kind and
block, so no bit or order of an id tells ordinary from ring entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pyarrow as pa

from synthpipe.fraud.fraud_ring import FraudRing
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.customers import CACHED_BLOCKS, CustomerBlock, cached_customer_block
from synthpipe.model.ids import SEQUENCE_BITS, permute_sequence
from synthpipe.model.schema import (
    ADDRESSES_SCHEMA,
    CARDS_SCHEMA,
    DEVICES_SCHEMA,
)
from synthpipe.seeds import Entity, FraudKey, Stream, generator
from synthpipe.spec.models import Spec

RING_TYPE = FraudKey.FRAUD_RING.name.lower()  # the typology's name under fraud.types
NO_ENTITY = -1  # a transaction without this key (null in the table)
# payment methods that charge a card (a wallet holds one); the others carry no card
CARD_PAYMENTS = frozenset({"credit_card", "debit_card", "mobile_wallet"})
RING_NETWORKS = 2  # home connections a ring's members share (besides public networks)
# tweaks of the id permutation per kind of entity: above every day number (16 bits), so
# no entity id shares a permutation with a transaction id
DEVICE_TWEAK, CARD_TWEAK, ADDRESS_TWEAK, NETWORK_TWEAK, PUBLIC_TWEAK = (
    (1 << 16) + k for k in range(5)
)
PUBLIC_BIT = 47  # above every block's ids (19 block bits + 28 sequence bits)


@dataclass(frozen=True)
class Csr:
    """Lists by owner: the items of owner i are ``items[offsets[i]:offsets[i + 1]]``."""

    offsets: np.ndarray
    items: np.ndarray

    def counts(self) -> np.ndarray:
        """Items per owner."""
        return np.asarray(np.diff(self.offsets))

    def pick(self, owner: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One item of each owner, uniformly; NO_ENTITY for an owner without any."""
        count = self.counts()[owner]
        if self.items.shape[0] == 0:
            return np.full(owner.shape[0], NO_ENTITY, dtype=np.int64)
        position = np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))
        at = np.minimum(self.offsets[owner] + position, self.items.shape[0] - 1)
        return np.asarray(np.where(count > 0, self.items[at], NO_ENTITY))


def csr(owner: np.ndarray, owners: int) -> Csr:
    """The items 0..n-1 listed by ``owner`` (stable: each owner's in index order)."""
    order = np.argsort(owner, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=owners))])
    return Csr(offsets.astype(np.int64), order.astype(np.int64))


@dataclass(frozen=True)
class Rings:
    """A block's fraud rings: members and shared entities (indices into the block's)."""

    members: Csr  # customer indices by ring (consecutive signups)
    formed: np.ndarray  # datetime64[D]: the day its last member signed up
    devices: Csr
    cards: Csr
    addresses: Csr
    networks: Csr

    @property
    def count(self) -> int:
        """Number of rings."""
        return int(self.formed.shape[0])


@dataclass(frozen=True)
class IdentityWorld:
    """Who owns and shares what in one customer block (indices, ids made at the edge)."""

    block: int
    household: np.ndarray  # (customers,) household index
    head: np.ndarray  # (households,) the customer index of its head
    device_owner: np.ndarray  # (devices,) the customer who registered it
    own_devices: Csr  # by customer: their own devices (ring devices not among them)
    household_devices: Csr  # by household: its members' own devices
    card_owner: np.ndarray  # (cards,)
    own_cards: Csr  # by customer
    family_card: np.ndarray  # (households,) card index or NO_ENTITY
    address_owner: np.ndarray  # (addresses,)
    home_address: np.ndarray  # (households,) address index
    extra_addresses: Csr  # by customer: registered besides the home
    networks: int  # home connections: one per household, then the rings'
    rings: Rings

    @property
    def households(self) -> int:
        """Number of households (one-person ones included)."""
        return int(self.head.shape[0])


def households(spec: Spec, customers: CustomerBlock) -> np.ndarray:
    """Each customer's household index: groups of 2..household_size_max among a
    ``household_share`` of them (shuffled within their region), first households then
    people living alone, in customer order."""
    identity = spec.identity
    rng = generator(spec.seed, Entity.IDENTITY, Stream.HOUSEHOLDS, customers.block)
    n = customers.size
    u = rng.random((n, 2))
    joins = np.flatnonzero(u[:, 0] < identity.household_share)
    joins = joins[np.lexsort((u[joins, 1], customers.region[joins]))]
    largest = identity.household_size_max
    sizes = 2 + np.minimum(
        (rng.random(joins.shape[0] // 2 + 1) * (largest - 1)).astype(np.int64), largest - 2
    )
    ends = np.cumsum(sizes)
    group = np.searchsorted(ends, np.arange(joins.shape[0]), side="right")
    household = np.full(n, -1, dtype=np.int64)
    household[joins] = group
    groups = int(group.max(initial=-1)) + 1
    alone = np.flatnonzero(household < 0)
    household[alone] = groups + np.arange(alone.shape[0])
    return _dense(household)


def _dense(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0..k-1 in order of first appearance by label value (so a group
    cut short at the end, or a gap, leaves no empty household)."""
    _, dense = np.unique(labels, return_inverse=True)
    return np.asarray(dense, dtype=np.int64)


def owned_counts(spec: Spec, stream: Stream, block: int, n: int, extra_mean: float) -> np.ndarray:
    """Entities each of ``n`` customers owns beyond a base: Poisson(``extra_mean``)."""
    rng = generator(spec.seed, Entity.IDENTITY, stream, block)
    return np.asarray(rng.poisson(extra_mean, n), dtype=np.int64)


def ring_params(spec: Spec) -> FraudRing:
    """The fraud ring typology's parameters (rings exist whatever its share)."""
    return cast(FraudRing, getattr(spec.fraud.types, RING_TYPE))


def ring_members(spec: Spec, customers: CustomerBlock, rng: np.random.Generator) -> Csr:
    """Each ring's members: ``members_min..members_max`` customers consecutive in the
    block's signup order (a burst of signups), at a uniform start."""
    params = ring_params(spec)
    n = customers.size
    low = min(params.members_min, n)
    high = min(params.members_max, n)
    expected = n * params.rings_per_10000_customers / 10_000
    count = max(1, int(rng.poisson(expected)))
    size = low + np.minimum((rng.random(count) * (high - low + 1)).astype(np.int64), high - low)
    start = np.minimum((rng.random(count) * (n - size + 1)).astype(np.int64), n - size)
    ring = np.repeat(np.arange(count, dtype=np.int64), size)
    offsets = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
    position = np.repeat(start, size) + np.arange(ring.shape[0]) - offsets[ring]
    return Csr(offsets, np.asarray(customers.signup_order[position], dtype=np.int64))


def shared(members: Csr, per_ring: int, first: int) -> tuple[Csr, np.ndarray]:
    """``per_ring`` new entities per ring (indices from ``first``), registered by its
    members in turn: the rings' lists and each new entity's owner."""
    rings = members.offsets.shape[0] - 1
    ring = np.repeat(np.arange(rings, dtype=np.int64), per_ring)
    turn = np.tile(np.arange(per_ring, dtype=np.int64), rings)
    owner = members.items[members.offsets[ring] + turn % members.counts()[ring]]
    offsets = np.arange(rings + 1, dtype=np.int64) * per_ring
    return Csr(offsets, first + np.arange(ring.shape[0], dtype=np.int64)), owner


def ring_formed(customers: CustomerBlock, members: Csr) -> np.ndarray:
    """The day each ring is formed: its last member's signup (datetime64[D])."""
    rings = members.offsets.shape[0] - 1
    ring = np.repeat(np.arange(rings, dtype=np.int64), members.counts())
    latest = np.full(rings, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, ring, customers.signup_day[members.items].astype(np.int64))
    return latest.astype("datetime64[D]")


def identity_world(spec: Spec, block: int) -> IdentityWorld:
    """Who owns and shares what in customer ``block`` (see the module's docstring)."""
    identity = spec.identity
    customers = cached_customer_block(spec, block)
    n = customers.size
    household = households(spec, customers)
    n_households = int(household.max(initial=-1)) + 1
    first_member = np.full(n_households, n, dtype=np.int64)
    np.minimum.at(first_member, household, np.arange(n, dtype=np.int64))
    size = np.bincount(household, minlength=n_households)

    devices = 1 + owned_counts(spec, Stream.DEVICES, block, n, identity.devices_mean - 1)
    cards = 1 + owned_counts(spec, Stream.CARDS, block, n, identity.cards_mean - 1)
    extra = owned_counts(spec, Stream.ADDRESSES, block, n, identity.extra_addresses_mean)
    device_owner = np.repeat(np.arange(n, dtype=np.int64), devices)
    card_owner = np.repeat(np.arange(n, dtype=np.int64), cards)
    extra_owner = np.repeat(np.arange(n, dtype=np.int64), extra)

    family_u = generator(spec.seed, Entity.IDENTITY, Stream.CARDS, block, 1).random(n_households)
    has_family = (size >= 2) & (family_u < identity.family_card_share)
    family_card = np.full(n_households, NO_ENTITY, dtype=np.int64)
    family_card[has_family] = card_owner.shape[0] + np.arange(int(has_family.sum()))
    card_owner = np.concatenate([card_owner, first_member[has_family]])

    home_address = np.arange(n_households, dtype=np.int64)
    address_owner = np.concatenate([first_member, extra_owner])
    extra_addresses = Csr(
        np.concatenate([[0], np.cumsum(extra)]).astype(np.int64),
        n_households + np.arange(extra_owner.shape[0], dtype=np.int64),
    )

    rng = generator(spec.seed, Entity.IDENTITY, Stream.RINGS, block)
    members = ring_members(spec, customers, rng)
    params = ring_params(spec)
    ring_devices, ring_device_owner = shared(members, params.shared_devices, device_owner.shape[0])
    ring_cards, ring_card_owner = shared(members, params.shared_cards, card_owner.shape[0])
    drops, drop_owner = shared(members, params.drop_addresses, address_owner.shape[0])
    ring_networks, _ = shared(members, RING_NETWORKS, n_households)
    formed = ring_formed(customers, members)

    return IdentityWorld(
        block=block,
        household=household,
        head=first_member,
        device_owner=np.concatenate([device_owner, ring_device_owner]),
        own_devices=Csr(
            np.concatenate([[0], np.cumsum(devices)]).astype(np.int64),
            np.arange(device_owner.shape[0], dtype=np.int64),
        ),
        household_devices=Csr(
            *_household_lists(household[device_owner], device_owner.shape[0], n_households)
        ),
        card_owner=np.concatenate([card_owner, ring_card_owner]),
        own_cards=Csr(
            np.concatenate([[0], np.cumsum(cards)]).astype(np.int64),
            np.arange(int(cards.sum()), dtype=np.int64),
        ),
        family_card=family_card,
        address_owner=np.concatenate([address_owner, drop_owner]),
        home_address=home_address,
        extra_addresses=extra_addresses,
        networks=n_households + members.counts().shape[0] * RING_NETWORKS,
        rings=Rings(members, formed, ring_devices, ring_cards, drops, ring_networks),
    )


def _household_lists(
    owner_household: np.ndarray, n: int, households: int
) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and items of the devices listed by their owner's household."""
    lists = csr(owner_household, households)
    return lists.offsets, lists.items


def cached_identity_world(spec: Spec, block: int) -> IdentityWorld:
    """A block's identity world, kept in this process for the block's other tasks."""
    return cached_per_spec("identity_world", spec, identity_world, block, capacity=CACHED_BLOCKS)


def entity_ids(seed: int, tweak: int, block: int, index: np.ndarray) -> np.ndarray:
    """Opaque ids: ``block | permuted index`` (28 bits), keyed by the seed, the kind of
    entity and the block, so an id's bits say nothing of how its entity was drawn."""
    permuted = permute_sequence(np.asarray(index, dtype=np.int64), seed, tweak, block)
    return np.asarray((np.int64(block) << np.int64(SEQUENCE_BITS)) | permuted)


def ids_where(
    where: np.ndarray, seed: int, tweak: int, block: int, index: np.ndarray
) -> np.ndarray:
    """``entity_ids`` of the rows ``where`` holds (the permutation runs on those only),
    NO_ENTITY elsewhere."""
    ids = np.full(where.shape[0], NO_ENTITY, dtype=np.int64)
    ids[where] = entity_ids(seed, tweak, block, index[where])
    return ids


def public_network_ids(seed: int, index: np.ndarray) -> np.ndarray:
    """Opaque ids of the country's public networks (one pool for every block)."""
    permuted = permute_sequence(np.asarray(index, dtype=np.int64), seed, PUBLIC_TWEAK, 0)
    return np.asarray((np.int64(1) << np.int64(PUBLIC_BIT)) | permuted)


def _owned_table(schema: pa.Schema, ids: np.ndarray, customer_ids: np.ndarray) -> pa.Table:
    """A dimension table of entity ids and the accounts that registered them, in id
    order (an entity's index, and so how it was drawn, shows in no row position)."""
    order = np.argsort(ids, kind="stable")
    key, owner = schema.names
    return pa.table({key: ids[order], owner: customer_ids[order]}, schema=schema)


def identity_tables(spec: Spec, block: int) -> dict[str, pa.Table]:
    """The block's ``devices``, ``cards`` and ``addresses``: every entity its customers
    registered (rings' shared ones included), with the account that registered it."""
    world = cached_identity_world(spec, block)
    ids = cached_customer_block(spec, block).ids

    def table(schema: pa.Schema, tweak: int, owner: np.ndarray) -> pa.Table:
        index = np.arange(owner.shape[0], dtype=np.int64)
        return _owned_table(schema, entity_ids(spec.seed, tweak, block, index), ids[owner])

    return {
        "devices": table(DEVICES_SCHEMA, DEVICE_TWEAK, world.device_owner),
        "cards": table(CARDS_SCHEMA, CARD_TWEAK, world.card_owner),
        "addresses": table(ADDRESSES_SCHEMA, ADDRESS_TWEAK, world.address_owner),
    }


# The identity graph's ground-truth tables (per customer block, written as blocks arrive)
