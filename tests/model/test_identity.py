"""The identity graph: what customers own and share, at the documented rates (tolerances
from the sample sizes), fraud rings' structure and keys, the truth tables, determinism."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pytest
from helpers import small_spec

from synthpipe.errors import SpecError
from synthpipe.model.customers import cached_customer_block
from synthpipe.model.identity import PUBLIC_BIT, identity_tables, identity_world
from synthpipe.model.identity_truth import HOUSEHOLDS, RING_KEYS, RING_MEMBERS, identity_truth
from synthpipe.model.transactions import generate_sales
from synthpipe.spec import Spec
from synthpipe.vocabulary import FRAUD_TYPES

Z = 5.0  # standard errors a rate may stray before a test fails (a flake is ~1 in 1.7 million)
FEB = (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
KEYS = ("device_id", "ip_id", "card_id", "ship_address_id")


def _spec(**overrides: object) -> Spec:
    # few public networks, so that a month shows each shared by many accounts
    world = {"customers.count": 4_000, "customers.block_size": 4_000, "identity.public_ips": 50}
    return small_spec(**{**world, **overrides})


def _within(observed: float, expected: float, variance: float, n: int) -> None:
    """``observed`` is a mean of ``n`` draws of mean ``expected`` and this variance."""
    assert abs(observed - expected) <= Z * math.sqrt(variance / n) + 1e-9, (observed, expected)


def _column(table: pa.Table, name: str) -> np.ndarray:
    """An integer column, -1 for nulls."""
    return np.asarray(table.column(name).fill_null(-1).to_numpy(zero_copy_only=False))


def _labels(table: pa.Table, name: str) -> np.ndarray:
    """A category column as strings, "" for nulls."""
    column = table.column(name).cast(pa.string()).fill_null("")
    return np.asarray(column.to_numpy(zero_copy_only=False))


def _fraud(table: pa.Table) -> np.ndarray:
    return np.asarray(table.column("is_fraud").to_numpy(zero_copy_only=False), dtype=bool)


@pytest.fixture(scope="module")
def spec() -> Spec:
    return _spec()


@pytest.fixture(scope="module")
def february(spec: Spec) -> pa.Table:
    return generate_sales(spec, 0, *FEB).transactions


def test_households_devices_cards_and_addresses_at_their_rates(spec: Spec) -> None:
    world = identity_world(spec, 0)
    identity = spec.identity
    n = world.household.shape[0]
    size = np.bincount(world.household)[world.household]
    # the last household cut may hold one member: at most one customer short
    p = identity.household_share
    _within(float(np.mean(size > 1)), p, p * (1 - p), n)
    assert size.max() <= identity.household_size_max
    own_devices = world.own_devices.counts()
    _within(float(own_devices.mean()), identity.devices_mean, identity.devices_mean - 1, n)
    own_cards = world.own_cards.counts()
    _within(float(own_cards.mean()), identity.cards_mean, identity.cards_mean - 1, n)
    extra = world.extra_addresses.counts()
    mean = identity.extra_addresses_mean
    _within(float(extra.mean()), mean, mean, n)
    shared = np.bincount(world.household) > 1
    q = identity.family_card_share
    _within(float(np.mean(world.family_card[shared] >= 0)), q, q * (1 - q), int(shared.sum()))
    # every member of a household shares its home address and its devices
    assert np.array_equal(world.address_owner[world.home_address], world.head)


def test_transactions_carry_keys_where_they_exist(february: pa.Table) -> None:
    online = _labels(february, "channel") == "online"
    sale = _labels(february, "transaction_type") == "sale"
    for name in ("device_id", "ip_id"):
        assert (_column(february, name)[online] >= 0).all()
        assert (_column(february, name)[~online] == -1).all()
    address = _column(february, "ship_address_id")
    assert (address[online & sale] >= 0).all()
    assert (address[~(online & sale)] == -1).all()
    payment = _labels(february, "payment_method")
    card = _column(february, "card_id")
    charged = np.isin(payment, ["credit_card", "debit_card", "mobile_wallet"])
    assert (card[charged] >= 0).all()
    assert (card[~charged] == -1).all()


def test_every_key_is_in_its_table(spec: Spec, february: pa.Table) -> None:
    tables = identity_tables(spec, 0)
    for column, table, key in (
        ("device_id", "devices", "device_id"),
        ("card_id", "cards", "card_id"),
        ("ship_address_id", "addresses", "address_id"),
    ):
        used = _column(february, column)
        known = _column(tables[table], key)
        assert np.unique(known).shape[0] == known.shape[0]
        assert np.isin(used[used >= 0], known).all()
        # rows in id order: the order says nothing of how an entity was drawn
        assert (np.diff(known) > 0).all()


def test_public_networks_are_shared_at_their_rate(spec: Spec, february: pa.Table) -> None:
    legit = ~_fraud(february)
    ip = _column(february, "ip_id")
    online = legit & (ip >= 0)
    public = (ip[online] >> PUBLIC_BIT) == 1
    p = spec.identity.public_ip_share
    _within(float(public.mean()), p, p * (1 - p), int(online.sum()))
    # a public network serves several accounts; a home connection a household
    accounts = pa.table({"ip": ip[online], "customer": _column(february, "customer_id")[online]})
    per_ip = accounts.group_by("ip").aggregate([("customer", "count_distinct")])
    distinct = _column(per_ip, "customer_count_distinct")
    home = (_column(per_ip, "ip") >> PUBLIC_BIT) == 0
    assert distinct[home].max() <= spec.identity.household_size_max
    assert distinct[~home].max() > spec.identity.household_size_max


def test_housemates_share_devices(spec: Spec, february: pa.Table) -> None:
    world = identity_world(spec, 0)
    legit = ~_fraud(february)
    device = _column(february, "device_id")
    online = legit & (device >= 0)
    pairs = pa.table(
        {"device": device[online], "customer": _column(february, "customer_id")[online]}
    )
    per_device = pairs.group_by("device").aggregate([("customer", "count_distinct")])
    distinct = _column(per_device, "customer_count_distinct")
    assert (distinct > 1).any()  # shared, legitimately
    assert distinct.max() <= world.household.shape[0]


def test_rings_are_bursts_of_signups_sharing_keys(spec: Spec, february: pa.Table) -> None:
    customers = cached_customer_block(spec, 0)
    world = identity_world(spec, 0)
    params = spec.fraud.types.fraud_ring  # type: ignore[attr-defined]
    rings = world.rings
    rank = np.empty(customers.size, dtype=np.int64)
    rank[customers.signup_order] = np.arange(customers.size)
    for r in range(rings.count):
        members = rings.members.items[rings.members.offsets[r] : rings.members.offsets[r + 1]]
        assert params.members_min <= members.shape[0] <= params.members_max
        assert np.array_equal(
            np.sort(rank[members]), rank[members][0] + np.arange(members.shape[0])
        )
        assert rings.formed[r] == customers.signup_day[members].max()
    truth = identity_truth(spec, 0)
    keys = truth[RING_KEYS]
    kinds = _labels(keys, "key")
    assert (kinds == "device").sum() == rings.count * params.shared_devices
    assert (kinds == "card").sum() == rings.count * params.shared_cards
    assert (kinds == "ship_address").sum() == rings.count * params.drop_addresses
    ring_rows = february.filter(pa.array(_labels(february, "fraud_type") == "fraud_ring"))
    assert ring_rows.num_rows > 0
    key_id = _column(keys, "key_id")
    members = truth[RING_MEMBERS]
    assert np.isin(_column(ring_rows, "customer_id"), _column(members, "customer_id")).all()
    for column, kind in (("device_id", "device"), ("ship_address_id", "ship_address")):
        assert np.isin(_column(ring_rows, column), key_id[kinds == kind]).all()
    card = _column(ring_rows, "card_id")
    assert np.isin(card[card >= 0], key_id[kinds == "card"]).all()
    # a ring's orders start once its last member has signed up
    formed = members.column("ring_formed").cast(pa.int32()).to_numpy()
    ring_of = dict(zip(_column(members, "customer_id"), formed, strict=True))
    day = ring_rows.column("ts").cast(pa.int64()).to_numpy() // 86_400_000_000
    customer = _column(ring_rows, "customer_id")
    assert all(d >= ring_of[c] for d, c in zip(day, customer, strict=True))


def test_takeovers_use_a_rings_devices_and_drop_addresses(february: pa.Table, spec: Spec) -> None:
    keys = identity_truth(spec, 0)[RING_KEYS]
    kinds = _labels(keys, "key")
    key_id = _column(keys, "key_id")
    kind = _labels(february, "fraud_type")
    taken = kind == "account_takeover"
    assert taken.sum() > 0
    camouflage = spec.fraud.difficulty
    on_ring = np.isin(_column(february, "device_id")[taken], key_id[kinds == "device"])
    # the camouflaged ones use the victim's own; the others a ring's
    _within(float(on_ring.mean()), 1 - camouflage, 0.25, 1)
    legit = kind == ""
    assert not np.isin(_column(february, "device_id")[legit], key_id[kinds == "device"]).any()


def test_truth_tables_cover_every_customer_once(spec: Spec) -> None:
    truth = identity_truth(spec, 0)
    households = truth[HOUSEHOLDS]
    customers = _column(households, "customer_id")
    assert np.array_equal(np.sort(customers), cached_customer_block(spec, 0).ids)
    household = _column(households, "household_id")
    size = _column(households, "household_size")
    counted = np.unique(household, return_counts=True)
    assert dict(zip(*counted, strict=True)) == dict(zip(household, size, strict=True))


def test_identity_is_the_same_bytes_and_ignores_fraud_settings(spec: Spec) -> None:
    first = identity_tables(spec, 0)
    again = identity_tables(_spec(), 0)
    other = identity_tables(_spec(**{"fraud.rate": 0.0, "fraud.difficulty": 0.5}), 0)
    for name, table in first.items():
        assert table.equals(again[name])
        assert table.equals(other[name])


def test_ring_goods_never_move_the_other_rows() -> None:
    base = generate_sales(_spec(), 0, *FEB).transactions
    other = generate_sales(
        _spec(**{"fraud.types.fraud_ring.categories": ["Toys & Games"]}), 0, *FEB
    ).transactions

    def kind(table: pa.Table, name: str) -> pa.Table:
        return table.filter(pa.array(_labels(table, "fraud_type") == name))

    for name in ("", *FRAUD_TYPES):
        if name != "fraud_ring":
            assert kind(base, name).equals(kind(other, name))
    assert not kind(base, "fraud_ring").equals(kind(other, "fraud_ring"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identity.household_share": 1.5}, "`identity.household_share` must be at most 1"),
        ({"identity.devices_mean": 0.5}, "`identity.devices_mean` must be at least 1"),
        ({"identity.public_ips": 0}, "`identity.public_ips` must be at least 1"),
        (
            {"fraud.types.fraud_ring.members_min": 8, "fraud.types.fraud_ring.members_max": 4},
            "`members_max` (4) must be at least `members_min` (8)",
        ),
    ],
)
def test_bad_identity_settings_are_rejected(change: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        small_spec(**change)
    assert message in str(caught.value)
