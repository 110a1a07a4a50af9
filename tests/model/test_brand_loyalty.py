"""products.brand_loyalty: a line is of the customer's favourite brand in its category with
probability rho; favourites are drawn by brand share, so every product keeps its overall
chance while a customer's lines cluster on one brand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pyarrow.compute as pc
from helpers import small_spec
from scipy import stats

from synthpipe.model.products import brand_shares, product_world
from synthpipe.model.transactions import generate_sales
from synthpipe.spec import Spec

MONTHS = [(dt.date(2024, m, 1), dt.date(2024, m, 28)) for m in (1, 2, 3)]


def _lines(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """Each legitimate sale line's customer and product index."""
    customers, products = [], []
    for block in range(3):
        for month in MONTHS:
            made = generate_sales(spec, block, *month)
            txn = made.transactions.filter(pc.invert(made.transactions.column("is_fraud")))
            owner = dict(
                zip(
                    txn.column("transaction_id").to_pylist(),
                    txn.column("customer_id").to_pylist(),
                    strict=True,
                )
            )
            ids = made.line_items.column("transaction_id").to_pylist()
            keep = np.asarray([i in owner for i in ids])
            customers.append(np.asarray([owner[i] for i in ids if i in owner]))
            products.append(made.line_items.column("product_id").to_numpy()[keep] - 1)
    return np.concatenate(customers), np.concatenate(products)


def test_a_customers_lines_share_a_brand_as_the_formula_says() -> None:
    spec = small_spec(
        products__brand_loyalty=0.7,
        fraud__rate=0.0,
        products__complements__pairs=0,
        sales__replenishment__share=0.0,
    )
    world = product_world(spec)
    customer, product = _lines(spec)
    category, brand = world.category[product], world.brand[product]
    pairs = same = 0
    expected = 0.0
    shares = brand_shares(world, spec)
    p_same = 0.49 + 0.51 * (shares * shares).sum(axis=1)
    groups: dict[tuple[int, int], list[int]] = {}
    for c, k, b in zip(customer.tolist(), category.tolist(), brand.tolist(), strict=True):
        groups.setdefault((c, k), []).append(b)
    for (_, k), brands in groups.items():
        n = len(brands)
        if n < 2:
            continue
        pairs += n * (n - 1) // 2
        same += sum(v * (v - 1) // 2 for v in np.unique(brands, return_counts=True)[1])
        expected += n * (n - 1) // 2 * p_same[k]
    share, target = same / pairs, expected / pairs
    multi = sum(1 for v in groups.values() if len(v) > 1)
    assert abs(share - target) <= 5 * math.sqrt(target * (1 - target) / multi), (share, target)
    assert share > 0.4  # far above the ~0.1 of twelve brands chosen by share alone


def test_every_product_keeps_its_overall_chance() -> None:
    spec = small_spec(
        products__brand_loyalty=0.9,
        fraud__rate=0.0,
        products__complements__pairs=0,
        sales__replenishment__share=0.0,
    )
    world = product_world(spec)
    _, product = _lines(spec)
    biggest = int(np.argmax(np.bincount(world.category[product])))
    start, end = world.category_offsets[biggest], world.category_offsets[biggest + 1]
    inside = product[(product >= start) & (product < end)] - start
    observed = np.bincount(inside, minlength=end - start)
    popularity = world.popularity[start:end]
    expected = popularity / popularity.sum() * observed.sum()
    common = expected >= 5  # chi-square cells with enough expected lines
    result = stats.chisquare(
        observed[common], expected[common] * observed[common].sum() / expected[common].sum()
    )
    assert result.pvalue > 1e-4, result
