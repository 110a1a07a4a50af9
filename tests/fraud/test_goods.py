"""Fraud lines are drawn through the ordinary line machinery, leaned by each typology's
tilt (``synthpipe.fraud.base.GoodsTilt``): the day's discounts as for any line of that day
and category, products by popularity within the tilted set, the quantity law with the
typology's factor. Each is what a model would otherwise learn instead of the fraud."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from helpers import small_spec
from scipy import stats

from synthpipe.fraud import TYPOLOGIES
from synthpipe.model.blockmonth import NOT_FRAUD, TransactionSet, block_month
from synthpipe.model.fraud import fraud_transactions, tilted_products
from synthpipe.model.transactions import legitimate_sets
from synthpipe.spec import Spec
from synthpipe.vocabulary import FRAUD_TYPES, SALE

MONTHS = [(dt.date(2024, m, 1), dt.date(2024, m, 28)) for m in (1, 2, 3)]


@dataclass(frozen=True)
class LineSample:
    """Lines: product, category, |quantity|, discount, the promotion's discount in force
    for the line's day and category (``promotion``), the owning transaction's typology
    code (``fraud``, -1 when legitimate) and whether it is a sale."""

    product: np.ndarray
    category: np.ndarray
    quantity: np.ndarray
    discount: np.ndarray
    promotion: np.ndarray
    fraud: np.ndarray
    sale: np.ndarray


def _lines(sets: list[TransactionSet], ctx: Any) -> LineSample:
    world = ctx.products
    parts = []
    for part in sets:
        lines = part.lines
        owner = lines.transaction
        category = world.category[lines.product].astype(np.int64)
        day = part.day[owner]
        parts.append(
            (
                lines.product,
                category,
                np.abs(lines.quantity),
                lines.discount,
                ctx.factors.discount[day, category],
                part.fraud[owner],
                part.kind[owner] == SALE,
            )
        )
    columns = [np.concatenate([p[i] for p in parts]) for i in range(7)]
    return LineSample(*columns)


def _world_lines(spec: Spec) -> tuple[LineSample, LineSample]:
    """Legitimate and fraud lines of three blocks over three months."""
    legit: list[LineSample] = []
    fraud: list[LineSample] = []
    for block in range(3):
        for first, last in MONTHS:
            ctx = block_month(spec, block, first, last)
            sets = legitimate_sets(ctx)
            per_day = sum(
                (np.bincount(p.day, minlength=ctx.days) for p in sets),
                np.zeros(ctx.days, dtype=np.int64),
            )
            made, _ = fraud_transactions(ctx, per_day)
            legit.append(_lines(sets, ctx))
            fraud.append(_lines(made, ctx))

    def joined(samples: list[LineSample]) -> LineSample:
        return LineSample(
            *(
                np.concatenate([getattr(s, f) for s in samples])
                for f in LineSample.__dataclass_fields__
            )
        )

    return joined(legit), joined(fraud)


@pytest.fixture(scope="module")
def plain_lines() -> tuple[Spec, LineSample, LineSample]:
    """No camouflage: every fraud line is its typology's own."""
    spec = small_spec(fraud__rate=0.2, fraud__difficulty=0.0)
    return spec, *_world_lines(spec)


def test_fraud_lines_take_the_days_discounts_as_legitimate_lines_do(
    plain_lines: tuple[Spec, LineSample, LineSample],
) -> None:
    """A fraud sale line is discounted as often as the legitimate sale lines of days and
    categories with the same promotion in force (none, or its discount; else a markdown):
    observed against the sum of the legitimate shares, within 4 binomial standard errors.
    Refunds, legitimate or not, are never discounted."""
    _, legit, fraud = plain_lines
    legit_sales = legit.sale & (legit.fraud == NOT_FRAUD)
    levels, level = np.unique(
        np.concatenate([legit.promotion[legit_sales], fraud.promotion]), return_inverse=True
    )
    legit_level, fraud_level = level[: int(legit_sales.sum())], level[int(legit_sales.sum()) :]
    rows = np.bincount(legit_level, minlength=levels.size)
    hits = np.bincount(legit_level, weights=legit.discount[legit_sales] > 0, minlength=levels.size)
    share = hits / np.maximum(rows, 1)
    sale = fraud.sale
    assert sale.sum() > 2_000
    assert (levels > 0).any()  # some lines meet a promotion
    p = share[fraud_level[sale]]
    observed = int((fraud.discount[sale] > 0).sum())
    expected = float(p.sum())
    assert observed > 0.05 * sale.sum()  # before: no fraud line was ever discounted
    assert abs(observed - expected) <= 4 * np.sqrt((p * (1 - p)).sum()) + 1
    promoted = sale & (fraud.promotion > 0)
    assert promoted.any()
    assert (fraud.discount[promoted] > 0).all()
    for name in ("card_testing", "account_takeover", "stolen_card"):
        mine = sale & (fraud.fraud == FRAUD_TYPES.index(name))
        assert (fraud.discount[mine] > 0).any(), name
    refunds = ~fraud.sale
    assert refunds.any()
    assert (fraud.discount[refunds] == 0).all()


def _popularity_pit(
    world: Any, inside: np.ndarray, product: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Randomised probability integral transform of each product under popularity within
    its category's products of S: uniform on [0, 1) when products are drawn by popularity
    within S, whatever the mix of categories."""
    weight = world.popularity * inside
    total = np.bincount(world.category, weights=weight)[world.category]
    order = np.lexsort((-world.popularity, world.category))  # by category, most popular first
    above = np.empty(world.count)
    cumulative = np.cumsum(weight[order])
    start = np.searchsorted(world.category[order], world.category[order], side="left")
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    above[order] = cumulative - weight[order] - before
    share = np.divide(above, total, out=np.zeros_like(above), where=total > 0)
    step = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    return np.asarray(share[product] + rng.random(product.shape[0]) * step[product])


@pytest.mark.parametrize("name", FRAUD_TYPES)
def test_fraud_products_follow_popularity_within_the_tilted_set(
    name: str, plain_lines: tuple[Spec, LineSample, LineSample]
) -> None:
    """Within each category of its tilted set S, a typology picks products by popularity,
    as legitimate lines do: the popularity PIT of its products is uniform (KS), and so is
    that of legitimate lines of products in S, and the two match (two-sample KS). Before,
    products were uniform over S: 42-61% of fraud lines in the catalogue's bottom half."""
    spec, legit, fraud = plain_lines
    world = block_month(spec, 0, *MONTHS[0]).products
    typology = TYPOLOGIES[name]
    tilt = typology_tilt(name, spec)
    inside = tilted_products(spec, world, tilt)
    rng = np.random.default_rng(7)
    mine = fraud.product[fraud.fraud == typology.code]
    assert mine.size > 300
    assert inside[mine].all()
    pit = _popularity_pit(world, inside, mine, rng)
    assert stats.kstest(pit, "uniform").pvalue > 1e-4
    in_set = (legit.fraud == NOT_FRAUD) & inside[legit.product]
    legit_pit = _popularity_pit(world, inside, legit.product[in_set], rng)
    assert stats.ks_2samp(pit, legit_pit).pvalue > 1e-4
    # a uniform pick from S, as before, fails the same test
    uniform = rng.choice(np.flatnonzero(inside), mine.size)
    assert stats.kstest(_popularity_pit(world, inside, uniform, rng), "uniform").pvalue < 1e-6


def typology_tilt(name: str, spec: Spec) -> Any:
    """The typology's goods tilt under ``spec`` (each module's ``goods_tilt``)."""
    return importlib.import_module(f"synthpipe.fraud.{name}").goods_tilt(
        getattr(spec.fraud.types, name)
    )


@pytest.mark.parametrize("name", FRAUD_TYPES)
def test_fraud_quantities_follow_the_quantity_law_with_the_typologys_factor(
    name: str, plain_lines: tuple[Spec, LineSample, LineSample]
) -> None:
    """Units a line are 1 + Poisson(quantity_factor x the category's quantity_mean): the
    extra units summed over a typology's lines against their Poisson mean (5 sigma); card
    tests and abusive refunds are no longer all of one unit."""
    spec, _, fraud = plain_lines
    mine = fraud.fraud == TYPOLOGIES[name].code
    factor = getattr(spec.fraud.types, name).quantity_factor
    means = np.asarray([c.quantity_mean for c in spec.products.categories])
    expected = float((factor * means[fraud.category[mine]]).sum())
    observed = float((fraud.quantity[mine] - 1).sum())
    assert abs(observed - expected) <= 5 * np.sqrt(expected) + 1
    assert (fraud.quantity[mine] > 1).any()


def test_camouflaged_lines_are_ordinary_goods() -> None:
    """At difficulty 1 every event buys like its victim: no tilt, and no longer a uniform
    pick from the catalogue (the PIT over the whole catalogue by popularity is uniform)."""
    spec = small_spec(fraud__rate=0.2, fraud__difficulty=1.0)
    legit, fraud = _world_lines(spec)
    world = block_month(spec, 0, *MONTHS[0]).products
    everything = np.ones(world.count, dtype=bool)
    rng = np.random.default_rng(3)
    pit = _popularity_pit(world, everything, fraud.product, rng)
    assert fraud.product.size > 1_000
    assert stats.kstest(pit, "uniform").pvalue > 1e-4
    assert (fraud.discount[fraud.sale] > 0).mean() > 0.03
    # quantities of the ordinary law: factor 1
    means = np.asarray([c.quantity_mean for c in spec.products.categories])
    expected = float(means[fraud.category].sum())
    assert abs(float((fraud.quantity - 1).sum()) - expected) <= 5 * np.sqrt(expected) + 1
    assert legit.product.size > fraud.product.size


def test_the_tilted_sets_are_the_documented_ones() -> None:
    """S of card testing: the cheapest cheapest_share of the whole catalogue; of the others
    the priciest priciest_share of their categories (pooled); every product of S dearer
    (cheaper) than every product of those categories outside it."""
    spec = small_spec()
    world = block_month(spec, 0, *MONTHS[0]).products
    names = [c.name for c in spec.products.categories]
    for name in FRAUD_TYPES:
        params = getattr(spec.fraud.types, name)
        inside = tilted_products(spec, world, typology_tilt(name, spec))
        listed = getattr(params, "categories", None)
        pool = (
            np.ones(world.count, dtype=bool)
            if listed is None
            else np.isin(world.category, [names.index(c) for c in listed])
        )
        share = (
            params.cheapest_share
            if listed is None
            else getattr(params, "priciest_share", 1.0)  # rings: the whole categories
        )
        assert inside.sum() == max(1, int(np.ceil(share * pool.sum())))
        assert not (inside & ~pool).any()
        if share >= 1.0:
            continue
        price = world.price_cents
        if listed is None:
            assert price[inside].max() <= price[pool & ~inside].min()
        else:
            assert price[inside].min() >= price[pool & ~inside].max()
