"""Which device, network, card and shipping address each transaction used: drawn per
transaction from the block's identity world (``synthpipe.model.identity``), one stream per
column, consumed in time order; a ring's transactions use the ring's keys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthpipe.fraud.base import NO_RING
from synthpipe.model.blockmonth import NOT_FRAUD, BlockMonth, payment_methods
from synthpipe.model.identity import (
    ADDRESS_TWEAK,
    CARD_PAYMENTS,
    CARD_TWEAK,
    DEVICE_TWEAK,
    NETWORK_TWEAK,
    NO_ENTITY,
    IdentityWorld,
    cached_identity_world,
    ids_where,
    public_network_ids,
)
from synthpipe.seeds import Entity, Stream
from synthpipe.vocabulary import ONLINE, SALE


@dataclass(frozen=True)
class SessionKeys:
    """The identity keys of a block-month's transactions (ids; NO_ENTITY: none)."""

    device: np.ndarray
    network: np.ndarray
    card: np.ndarray
    address: np.ndarray


@dataclass(frozen=True)
class SessionRows:
    """What decides a transaction's keys, one value per transaction in time order."""

    customer: np.ndarray  # index into the block
    day: np.ndarray  # day index in the block-month
    channel: np.ndarray
    kind: np.ndarray
    payment: np.ndarray  # index into payment_methods(spec)
    ship_region: np.ndarray
    ring: np.ndarray  # NO_RING or the ring acting
    ring_card: np.ndarray  # pays with the ring's cards
    fraud: np.ndarray  # the fraud type's code, or NOT_FRAUD


def session_uniforms(ctx: BlockMonth, stream: Stream, fraud: np.ndarray, k: int) -> np.ndarray:
    """``k`` uniforms a row from ``stream``: the legitimate rows' from its sub-stream 0,
    each fraud type's from its own (1 + its code), each in time order; so fraud settings
    never move a legitimate row's keys, nor one type's another's."""
    u = np.empty((fraud.shape[0], k))
    for code in np.unique(fraud):
        mine = np.flatnonzero(fraud == code)
        sub = 0 if code == NOT_FRAUD else 1 + int(code)
        u[mine] = ctx.stream(Entity.IDENTITY, stream, sub).random((mine.shape[0], k))
    return u


def session_keys(ctx: BlockMonth, rows: SessionRows) -> SessionKeys:
    """Each transaction's device, network, card and shipping address (module docstring);
    each column from its own stream, drawn in time order (``session_uniforms``)."""
    spec = ctx.spec
    world = cached_identity_world(spec, ctx.block)

    def uniforms(stream: Stream, k: int) -> np.ndarray:
        return session_uniforms(ctx, stream, rows.fraud, k)

    online = rows.channel == ONLINE
    by_ring = rows.ring != NO_RING
    ring = np.maximum(rows.ring, 0)
    household = world.household[rows.customer]

    u = uniforms(Stream.SESSION_DEVICE, 2)
    with_housemate = (np.bincount(world.household)[household] > 1) & (
        u[:, 0] < spec.identity.shared_device_share
    )
    own = np.where(
        with_housemate,
        world.household_devices.pick(household, u[:, 1]),
        world.own_devices.pick(rows.customer, u[:, 1]),
    )
    device = np.where(by_ring, world.rings.devices.pick(ring, u[:, 1]), own)
    device_id = ids_where(online, spec.seed, DEVICE_TWEAK, ctx.block, device)

    u = uniforms(Stream.SESSION_NETWORK, 2)
    public = u[:, 0] < spec.identity.public_ip_share
    home = np.where(by_ring, world.rings.networks.pick(ring, u[:, 1]), household)
    pool = np.minimum(
        (u[:, 1] * spec.identity.public_ips).astype(np.int64), spec.identity.public_ips - 1
    )
    network_id = ids_where(online & ~public, spec.seed, NETWORK_TWEAK, ctx.block, home)
    network_id[online & public] = public_network_ids(spec.seed, pool[online & public])

    card_id = _cards(ctx, world, rows, uniforms(Stream.SESSION_CARD, 1)[:, 0])
    address_id = _addresses(ctx, world, rows, uniforms(Stream.SESSION_ADDRESS, 2))
    return SessionKeys(device_id, network_id, card_id, address_id)


def _cards(ctx: BlockMonth, world: IdentityWorld, rows: SessionRows, u: np.ndarray) -> np.ndarray:
    """The card of each card payment: the ring's (uniform) when it pays with them, else
    uniform over the customer's own cards and the household's family card."""
    names = payment_methods(ctx.spec)
    charges = np.asarray([name in CARD_PAYMENTS for name in names])[rows.payment]
    family = world.family_card[world.household[rows.customer]]
    owned = world.own_cards.counts()[rows.customer]
    choices = owned + (family != NO_ENTITY)
    position = np.minimum((u * choices).astype(np.int64), choices - 1)
    own = np.where(
        position >= owned,
        family,
        world.own_cards.items[
            world.own_cards.offsets[rows.customer] + np.minimum(position, owned - 1)
        ],
    )
    ring_card = (rows.ring != NO_RING) & (rows.ring_card != 0)
    card = np.where(ring_card, world.rings.cards.pick(np.maximum(rows.ring, 0), u), own)
    return np.asarray(ids_where(charges, ctx.spec.seed, CARD_TWEAK, ctx.block, card))


def _addresses(
    ctx: BlockMonth, world: IdentityWorld, rows: SessionRows, u: np.ndarray
) -> np.ndarray:
    """The shipping address of each online sale: a ring's drop address; a gift's
    recipient's home (another household's, uniform); another of the customer's own with
    ``other_address_share``; else the household's home."""
    shipped = (rows.channel == ONLINE) & (rows.kind == SALE)
    household = world.household[rows.customer]
    home_region = ctx.home_region(rows.customer, rows.day)
    gift = shipped & (rows.ship_region != home_region)
    others = max(world.households - 1, 1)
    recipient = (household + 1 + np.minimum((u[:, 1] * others).astype(np.int64), others - 1)) % max(
        world.households, 1
    )
    extra = world.extra_addresses.counts()[rows.customer] > 0
    elsewhere = extra & (u[:, 0] < ctx.spec.identity.other_address_share)
    address = np.where(
        gift,
        world.home_address[recipient],
        np.where(
            elsewhere,
            world.extra_addresses.pick(rows.customer, u[:, 1]),
            world.home_address[household],
        ),
    )
    by_ring = rows.ring != NO_RING
    address = np.where(
        by_ring, world.rings.addresses.pick(np.maximum(rows.ring, 0), u[:, 1]), address
    )
    return np.asarray(ids_where(shipped, ctx.spec.seed, ADDRESS_TWEAK, ctx.block, address))
