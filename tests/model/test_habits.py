"""sales.habits: legitimate behaviour that looks like fraud. Each habit is measured on
generated data against its formula (docs/process.md, "Legitimate look-alikes"), independently of
the validator's code."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers import small_spec
from scipy import stats

from synthpipe.data.geography import load_geography
from synthpipe.model.customers import customer_block
from synthpipe.model.ids import LEGIT_SUBRANGE, id_subrange
from synthpipe.model.transactions import generate_sales
from synthpipe.spec import Spec

Z = 5.0  # standard errors allowed
MONTHS = [(dt.date(2024, m, 1), dt.date(2024, m, 28)) for m in (1, 2, 3)]
MICROS_PER_MINUTE = 60_000_000
MICROS_PER_HOUR = 60 * MICROS_PER_MINUTE
OFF = {
    "sales.habits.repeat_same_day": 0.0,
    "sales.habits.night_online": 0.0,
    "sales.habits.gift_shipping": 0.0,
    "sales.habits.splurge": 0.0,
}


def _world(**habits: float) -> Spec:
    changes = {k.replace(".", "__"): v for k, v in OFF.items()}
    changes |= {f"sales__habits__{k}": v for k, v in habits.items()}
    # no staples' reorders and no planted complements: the sales here are the ordinary ones
    return small_spec(
        fraud__rate=0.0,
        sales__replenishment__share=0.0,
        products__complements__pairs=0,
        **changes,
    )


def _sales(spec: Spec) -> tuple[pa.Table, pa.Table]:
    made = [generate_sales(spec, block, *month) for block in range(3) for month in MONTHS]
    transactions = pa.concat_tables(m.transactions for m in made)
    lines = pa.concat_tables(m.line_items for m in made)
    sales = pc.equal(transactions.column("transaction_type"), "sale")
    return transactions.filter(sales), lines


def _int(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).cast(pa.int64()).to_numpy())


def _within(observed: float, p: float, n: int) -> bool:
    return abs(observed - p) <= Z * math.sqrt(p * (1 - p) / n)


def test_each_sale_has_a_same_day_repeat_with_the_spec_probability() -> None:
    spec = _world(repeat_same_day=0.2, repeat_gap_minutes=30.0)
    sales, _ = _sales(spec)
    subrange = id_subrange(_int(sales, "transaction_id"), spec.seed)
    repeat_codes = [LEGIT_SUBRANGE["repeat_in_store"], LEGIT_SUBRANGE["repeat_online"]]
    repeat = np.isin(subrange, repeat_codes)
    first = int((~repeat).sum())
    assert first > 4_000
    assert _within(repeat.sum() / first, 0.2, first)
    # each repeat has a first sale of its customer, channel and store that day, a gap away
    ts, customer = _int(sales, "ts"), _int(sales, "customer_id")
    channel = np.asarray(sales.column("channel").cast(pa.string()).to_pylist())
    store = np.asarray(sales.column("store_id").fill_null(-1).to_numpy())
    key = [f"{c}|{t // (24 * MICROS_PER_HOUR)}|{ch}|{s}" for c, t, ch, s in
           zip(customer, ts, channel, store, strict=True)]  # fmt: skip
    firsts: dict[str, list[int]] = {}
    for k, t, r in zip(key, ts, repeat, strict=True):
        if not r:
            firsts.setdefault(k, []).append(int(t))
    gaps = np.asarray(
        [min(abs(t - f) for f in firsts[k]) for k, t, r in zip(key, ts, repeat, strict=True) if r]
    )
    assert gaps.shape[0] == repeat.sum()  # every repeat found its first sale
    # gaps are exponential with mean 30 minutes (the nearest first sale can only be nearer)
    minutes = gaps / MICROS_PER_MINUTE
    result = stats.kstest(minutes, "expon", args=(0, 30.0))
    assert result.pvalue > 1e-4, result


def test_night_shoppers_place_that_share_of_online_sales_at_night() -> None:
    spec = _world(night_online=0.1)
    sales, _ = _sales(spec)
    online = sales.filter(pc.equal(sales.column("channel"), "online"))
    hours = (_int(online, "ts") % (24 * MICROS_PER_HOUR)) // MICROS_PER_HOUR
    profile = np.asarray(spec.sales.channels.online.hours)
    night = float(profile[:6].sum() / profile.sum())
    expected = 0.9 * night + 0.1
    assert _within(float(np.mean(hours < 6)), expected, hours.shape[0])


def test_gifts_ship_away_by_population() -> None:
    spec = _world(gift_shipping=0.15)
    sales, _ = _sales(spec)
    online = sales.filter(pc.equal(sales.column("channel"), "online"))
    regions = load_geography(spec.calendar.country).regions
    homes = np.concatenate([customer_block(spec, b).region for b in range(3)])
    home = np.asarray([regions[r] for r in homes])[_int(online, "customer_id") - 1]
    ship = np.asarray(online.column("ship_region").cast(pa.string()).to_pylist())
    away = ship != home
    assert _within(float(away.mean()), 0.15, away.shape[0])
    # a gift's region, given the home, is drawn by population among the others
    population = load_geography(spec.calendar.country).region_population()
    expected = np.zeros(len(regions))
    observed = np.zeros(len(regions))
    for h, s in zip(home[away], ship[away], strict=True):
        weights = population.copy()
        weights[regions.index(h)] = 0.0
        expected += weights / weights.sum()
        observed[regions.index(s)] += 1
    result = stats.chisquare(observed, expected)
    assert result.pvalue > 1e-4, (observed, expected)


def test_splurges_add_poisson_lines_to_that_share_of_sales() -> None:
    spec = _world(splurge=0.05, splurge_extra_lines=6.0)
    spec = spec.model_copy(
        update={"sales": spec.sales.model_copy(update={"basket_mean_items": 1.0})}
    )
    sales, _ = _sales(spec)
    extra = _int(sales, "items") - 1
    n = extra.shape[0]
    # lines beyond the first: Bernoulli(0.05) x Poisson(6)
    assert abs(extra.mean() - 0.3) <= Z * math.sqrt(0.05 * 42 - 0.3**2) / math.sqrt(n)
    assert _within(float(np.mean(extra > 0)), 0.05 * (1 - math.exp(-6.0)), n)


@pytest.mark.parametrize("habit", sorted(OFF))
def test_each_habit_draws_from_its_own_stream(habit: str) -> None:
    """Turning one habit on leaves every first sale's id, customer, channel and store where
    they were (only what that habit changes moves)."""
    base, _ = _sales(_world())
    name = habit.rsplit(".", 1)[1]
    changed, _ = _sales(_world(**{name: 0.1}))
    subrange = id_subrange(_int(changed, "transaction_id"), 11)
    firsts = changed.filter(pa.array(subrange < LEGIT_SUBRANGE["repeat_in_store"]))
    keys = ["transaction_id", "customer_id", "store_id", "channel"]
    assert firsts.num_rows == base.num_rows
    assert (
        firsts.select(keys)
        .sort_by("transaction_id")
        .equals(base.select(keys).sort_by("transaction_id"))
    )
