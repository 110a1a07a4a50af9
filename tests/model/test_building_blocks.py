"""Unit and property tests of the model's building blocks: ids, sampling, money, dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from helpers import small_spec
from hypothesis import given, settings
from hypothesis import strategies as st

from synthpipe.fraud import TYPOLOGIES
from synthpipe.model.blockmonth import block_month
from synthpipe.model.customers import birth_dates
from synthpipe.model.fraud import BlockFraudDraws, event_counts, event_size_moments
from synthpipe.model.ids import (
    SEQUENCE_BITS,
    id_subrange,
    permute_sequence,
    transaction_ids,
    unpermute_sequence,
)
from synthpipe.model.money import cents_to_decimal, decimal_to_cents
from synthpipe.model.products import charm_price_cents, charm_upper_bound
from synthpipe.model.sampling import (
    InverseCdf,
    categorical,
    grouped_categorical,
    poisson_by_group,
    poisson_table,
    rank_within_groups,
)
from synthpipe.model.schema import dictionary_array
from synthpipe.seeds import Entity, Stream, generator


def test_feistel_permutation_is_a_bijection_and_scrambles() -> None:
    sample = np.arange(0, 1 << 20, dtype=np.int64)
    permuted = permute_sequence(sample, seed=5, days=100, block=3)
    assert np.unique(permuted).size == sample.size
    assert permuted.max() < 1 << SEQUENCE_BITS
    assert np.array_equal(unpermute_sequence(permuted, seed=5, days=100, block=3), sample)
    # consecutive inputs do not give consecutive outputs (no label leak by position)
    assert np.mean(np.abs(np.diff(permuted[:1000])) == 1) < 0.01
    for other in ({"seed": 6, "days": 100, "block": 3}, {"seed": 5, "days": 101, "block": 3}):
        assert not np.array_equal(permute_sequence(sample, **other), permuted)
    assert not np.array_equal(permute_sequence(sample, seed=5, days=100, block=4), permuted)


def test_id_bits_carry_no_subrange_from_day_to_day() -> None:
    """The PaySim leak: with one key for every day, the same (sub-range, sequence) got the
    same low bits every day, so a rare process reused a handful of bit patterns. Keyed by
    the day too, a rare sub-range's low 16 bits recur across days no more than chance."""
    days = np.repeat(np.arange(400), 5)
    rare = transaction_ids(days, 7, 9, np.tile(np.arange(5), 400), seed=3)
    low = rare & 0xFFFF
    earlier, later = low[days < 300], low[days >= 300]
    # 1,500 earlier values among 65,536: a later value is among them with chance ~2.3%
    chance = 1 - (1 - 1 / 65536) ** earlier.size
    seen = np.isin(later, earlier).mean()
    assert seen < chance + 4 * np.sqrt(chance * (1 - chance) / later.size)
    assert np.unique(low).size > 0.97 * low.size  # old scheme: 5 distinct values


@given(st.integers(0, 2**16 - 1), st.integers(0, 2**19 - 1), st.integers(0, 63))
def test_id_subrange_inverts_the_permutation(day: int, block: int, subrange: int) -> None:
    ids = transaction_ids(np.asarray([day, day]), block, subrange, np.asarray([0, 77]), seed=9)
    assert np.array_equal(id_subrange(ids, seed=9), [subrange, subrange])


@given(st.integers(0, 2**16 - 1), st.integers(0, 2**19 - 1), st.integers(0, 63))
def test_ids_carry_day_and_block(day: int, block: int, subrange: int) -> None:
    ids = transaction_ids(np.asarray([day, day]), block, subrange % 12, np.asarray([0, 1]), seed=1)
    assert ids.min() >= 0
    assert np.all((ids >> (19 + 28)) == day)
    assert np.all(((ids >> 28) & ((1 << 19) - 1)) == block)
    assert ids[0] != ids[1]


@given(st.lists(st.integers(-(10**13), 10**13), min_size=0, max_size=50))
def test_money_round_trips_exactly(values: list[int]) -> None:
    cents = np.asarray(values, dtype=np.int64)
    array = cents_to_decimal(cents)
    assert array.type == pa.decimal128(14, 2)
    assert np.array_equal(decimal_to_cents(array), cents)
    assert [str(v) for v in array.to_pylist()] == [
        f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}" for c in values
    ]


def test_sampling_helpers_consume_one_uniform_per_draw() -> None:
    u = generator(1, Entity.CUSTOMERS, Stream.AGE, 0).random(200_000)
    weights = np.asarray([1.0, 0.0, 3.0])
    index = categorical(u, weights)
    assert set(np.unique(index)) == {0, 2}
    assert abs(np.mean(index == 2) - 0.75) < 0.01
    table = np.asarray([[1.0, 1.0], [0.0, 1.0]])
    groups = (u > 0.5).astype(np.int64)
    pick = grouped_categorical(u, groups, table)
    assert np.all(pick[groups == 1] == 1)
    assert 0.45 < np.mean(pick[groups == 0]) < 0.55 or np.all(pick[groups == 0] >= 0)
    assert rank_within_groups(np.asarray([2, 0, 3])).tolist() == [0, 1, 0, 1, 2]


@settings(max_examples=100)
@given(
    st.integers(0, 10**6),
    st.sampled_from(["card_testing", "account_takeover", "stolen_card", "refund_abuse"]),
)
def test_fraud_events_are_whole_and_on_target(seed: int, name: str) -> None:
    """Fraud comes in whole events; the count of events is the target over the mean size."""
    spec = small_spec(seed=seed % 1000, fraud__rate=0.2)
    ctx = block_month(spec, 0, dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    legit = np.full(ctx.days, 300)
    events = event_counts(ctx, legit)[name]
    target = 300 * 0.2 * spec.fraud.shares()[name] / 0.8 / event_size_moments(spec, name)[0]
    assert np.all(np.abs(np.cumsum(events) - target * np.arange(1, ctx.days + 1)) < 1)
    typology = TYPOLOGIES[name]
    params = getattr(spec.fraud.types, name)
    made = typology.generate(BlockFraudDraws(ctx, typology.key), params, events)
    assert made.size >= events.sum()
    # every event keeps all its transactions on its own day
    assert np.array_equal(np.unique(made.day), np.flatnonzero(events))


@settings(max_examples=50)
@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)),
    st.lists(st.integers(18, 100), min_size=1, max_size=20),
)
def test_birth_dates_give_exactly_the_age(start: dt.date, ages: list[int]) -> None:
    age = np.asarray(ages)
    u = np.linspace(0, 0.999999, age.size)
    born = birth_dates(start, age, u).astype(dt.date)
    for a, b in zip(ages, born.tolist(), strict=True):
        exact = start.year - b.year - ((start.month, start.day) < (b.month, b.day))
        assert exact == a, (start, b, a)


def test_charm_prices_and_their_inverse() -> None:
    raw = np.exp(np.random.default_rng(3).normal(2.0, 2.0, 100_000))
    cents = charm_price_cents(raw)
    assert cents.min() >= 49
    endings = cents % 100
    assert set(np.unique(endings[cents < 1_000] % 10)) == {9}
    assert set(np.unique(endings[(cents >= 1_000) & (cents < 10_000)])) == {99}
    for c in np.unique(cents)[::97]:
        assert np.mean(cents <= c) == np.mean(raw <= charm_upper_bound(np.asarray([c]))[0])


def test_dictionary_array_merges_repeated_labels() -> None:
    array = dictionary_array(np.asarray([0, 1, 2, 3]), ["Portland", "Salem", "Portland", "Bend"])
    assert array.dictionary.to_pylist() == ["Portland", "Salem", "Bend"]
    assert array.to_pylist() == ["Portland", "Salem", "Portland", "Bend"]


def test_streams_are_independent_of_each_other() -> None:
    a = generator(7, Entity.TRANSACTIONS, Stream.DAILY_COUNT, 0, 3, 24289).random(5)
    b = generator(7, Entity.TRANSACTIONS, Stream.CUSTOMER_PICK, 0, 3, 24289).random(5)
    c = generator(7, Entity.TRANSACTIONS, Stream.DAILY_COUNT, 0, 3, 24289).random(5)
    assert np.array_equal(a, c)
    assert not np.array_equal(a, b)


@settings(max_examples=200)
@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=300),
    st.lists(st.floats(-1, 200, allow_nan=False), min_size=1, max_size=300),
)
def test_guide_table_search_equals_searchsorted(weights: list[float], targets: list[float]) -> None:
    cdf = np.cumsum(np.asarray(weights))
    query = np.asarray(targets)
    assert np.array_equal(
        InverseCdf.build(cdf).search(query), np.searchsorted(cdf, query, side="right")
    )


def test_guide_table_on_large_skewed_weights() -> None:
    rng = np.random.default_rng(4)
    cdf = np.cumsum(rng.gamma(0.3, 1.0, 100_000))
    query = np.concatenate([rng.random(200_000) * cdf[-1], cdf[::997], [0.0, cdf[-1]]])
    assert np.array_equal(
        InverseCdf.build(cdf).search(query), np.searchsorted(cdf, query, side="right")
    )


def test_poisson_by_inverse_cdf_has_poisson_moments() -> None:
    from scipy import stats

    u = generator(2, Entity.TRANSACTIONS, Stream.QUANTITY, 0).random(400_000)
    means = np.asarray([0.05, 0.9, 3.0, 25.0])
    group = (np.arange(u.size) % 4).astype(np.int64)
    draws = poisson_by_group(u, group, poisson_table(means))
    for g, mean in enumerate(means):
        sample = draws[group == g]
        standard_error = np.sqrt(mean / sample.size)
        assert abs(sample.mean() - mean) < 5 * standard_error
        observed = np.bincount(sample, minlength=60)[:60]
        expected = stats.poisson.pmf(np.arange(60), mean) * sample.size
        keep = expected > 20
        scaled = expected[keep] * observed[keep].sum() / expected[keep].sum()
        assert stats.chisquare(observed[keep], scaled).pvalue > 1e-6


@settings(max_examples=100)
@given(st.lists(st.floats(-20, 20, allow_nan=False), min_size=1, max_size=200))
def test_uniform_bins_equal_searchsorted(values: list[float]) -> None:
    from synthpipe.validate.dimensions import LOG_PRICE_EDGES, Z_EDGES, uniform_bins

    for edges in (LOG_PRICE_EDGES, Z_EDGES):
        query = np.concatenate([np.asarray(values), edges, np.nextafter(edges, -np.inf)])
        assert np.array_equal(
            uniform_bins(edges, query), np.searchsorted(edges, query, side="right")
        )


def test_a_locale_with_its_own_name_logic_is_sampled_through_faker() -> None:
    """ja_JP overrides how Faker picks names: its pool is drawn through Faker (seeded per
    instance), the same for the same seed, and holds only names Faker gives for ja_JP."""
    from faker import Faker

    from synthpipe.model.pools import NAME_DRAWS, name_pool, sample_counted

    pool = name_pool((("ja_JP", 1.0),), 7)
    assert pool.first_names.equals(name_pool.__wrapped__((("ja_JP", 1.0),), 7).first_names)
    fake = Faker("ja_JP")
    fake.seed_instance(1)
    faker_firsts = {fake.first_name_female() for _ in range(NAME_DRAWS)} | {
        fake.first_name_male() for _ in range(NAME_DRAWS)
    }
    picked = sample_counted(pool.female[0], np.linspace(0.0, 0.999, 500))
    assert set(pool.first_names.take(pa.array(picked)).to_pylist()) <= faker_firsts
    assert float(pool.female[0][0][-1]) == NAME_DRAWS  # each of the draws weighs one
