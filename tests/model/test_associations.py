"""Planted basket associations: complement pairs bought together at the attach
probability of the spec's lift, substitute pairs rarely together in one basket, each
product keeping its overall chance; and the truth file that lists them."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from helpers import small_spec
from scipy import stats

from synthpipe.model.associations import associations, expected_mixed_pairs
from synthpipe.model.baskets import complement_attach
from synthpipe.model.products import product_world
from synthpipe.model.transactions import generate_sales
from synthpipe.model.truth import BASKET_ASSOCIATIONS
from synthpipe.sink.names import truth_file
from synthpipe.spec import Spec

MONTHS = [(dt.date(2024, m, 1), dt.date(2024, m, 28)) for m in (1, 2, 3)]


def _sale_lines(spec: Spec) -> tuple[np.ndarray, np.ndarray]:
    """Each legitimate sale line's basket (a dense code) and product index, lines of a
    basket together and in line order."""
    baskets, products = [], []
    offset = 0
    for block in range(3):
        for month in MONTHS:
            made = generate_sales(spec, block, *month)
            txn = made.transactions
            sale = pc.and_(
                pc.invert(txn.column("is_fraud")),
                pc.equal(txn.column("transaction_type"), "sale"),
            )
            kept = pc.is_in(
                made.line_items.column("transaction_id"), txn.filter(sale).column("transaction_id")
            )
            lines = made.line_items.filter(kept)
            _, code = np.unique(lines.column("transaction_id").to_numpy(), return_inverse=True)
            baskets.append(code + offset)
            offset += int(code.max()) + 1 if code.size else 0
            products.append(lines.column("product_id").to_numpy() - 1)
    return np.concatenate(baskets), np.concatenate(products)


def test_pairs_have_one_role_each_and_the_documented_shape() -> None:
    spec = small_spec()
    world = product_world(spec)
    planted = associations(spec)
    assert planted.anchor.shape[0] == spec.products.complements.pairs
    assert planted.substitutes == spec.products.substitutes.pairs
    everyone = np.concatenate([planted.anchor, planted.partner, planted.first, planted.second])
    assert np.unique(everyone).shape[0] == everyone.shape[0]  # no product has two roles
    assert np.all(world.category[planted.anchor] != world.category[planted.partner])
    assert np.all(world.brand[planted.first] == world.brand[planted.second])
    assert np.all(world.popularity[planted.first] >= world.popularity[planted.second])
    again = associations(small_spec(calendar__end="2024-12-31"))  # the calendar plays no part
    assert np.array_equal(again.anchor, planted.anchor)
    assert np.array_equal(again.first, planted.first)


def test_anchor_lines_bring_their_partner_at_the_attach_probability() -> None:
    spec = small_spec(
        fraud__rate=0.0, products__complements__lift=30.0, sales__replenishment__share=0.0
    )
    planted = associations(spec)
    attach = complement_attach(spec)
    basket, product = _sale_lines(spec)
    pair = planted.pair_of_anchor[product[:-1]]
    same_basket = basket[1:] == basket[:-1]
    # an anchor line that is not itself an attached partner (partners are never anchors)
    anchors = np.flatnonzero(pair >= 0)
    brought = same_basket[anchors] & (product[1:][anchors] == planted.partner[pair[anchors]])
    expected = attach[pair[anchors]]
    z = (brought.sum() - expected.sum()) / math.sqrt((expected * (1 - expected)).sum())
    assert abs(z) < 5, (brought.sum(), expected.sum())
    assert brought.mean() > 0.1  # lift 30 asks for a large attach probability here


def test_substitutes_rarely_share_a_basket_as_the_formula_says() -> None:
    spec = small_spec(fraud__rate=0.0, sales__basket_mean_items=8.0)
    planted = associations(spec)
    basket, product = _sale_lines(spec)
    pair = planted.substitute_pair[product]
    rows = np.flatnonzero(pair >= 0)
    key = basket[rows] * planted.substitutes + pair[rows]
    _, group, size = np.unique(key, return_inverse=True, return_counts=True)
    firsts = np.bincount(group, weights=np.isin(product[rows], planted.first))
    owner = np.zeros(size.shape[0], dtype=np.int64)
    owner[group] = pair[rows]
    later = np.bincount(owner, weights=size - 1.0, minlength=planted.substitutes)
    later_pairs = np.bincount(
        owner, weights=(size - 1.0) * (size - 2.0) / 2, minlength=planted.substitutes
    )
    mixed = float((firsts * (size - firsts)).sum())
    pairs = float((later + later_pairs).sum())
    expected = float(
        expected_mixed_pairs(
            spec.products.substitutes.exclusivity, planted.first_share, later, later_pairs
        ).sum()
    )
    baskets = int(np.count_nonzero(size >= 2))
    share, target = mixed / pairs, expected / pairs
    assert baskets > 200
    assert abs(share - target) <= 5 * math.sqrt(target * (1 - target) / baskets), (share, target)
    # without exclusivity the members would mix in about 2 q (1 - q) of the pairs
    assert share < 0.25 * float(np.mean(2 * planted.first_share * (1 - planted.first_share)))


def test_substitutes_keep_each_members_share() -> None:
    spec = small_spec(fraud__rate=0.0, sales__basket_mean_items=8.0)
    planted = associations(spec)
    _, product = _sale_lines(spec)
    first = np.isin(product, planted.first)
    pair = planted.substitute_pair[product]
    counted = pair >= 0
    n = np.bincount(pair[counted], minlength=planted.substitutes)
    k = np.bincount(pair[counted & first], minlength=planted.substitutes)
    # one binomial test per pair, combined (Fisher): each member keeps its share q
    p_values = [
        stats.binomtest(int(k[j]), int(n[j]), float(planted.first_share[j])).pvalue
        for j in range(planted.substitutes)
        if n[j] > 0
    ]
    assert stats.combine_pvalues(p_values).pvalue > 1e-4, p_values


def test_truth_lists_every_planted_pair(small_dataset: Path) -> None:
    spec = small_spec()
    planted = associations(spec)
    truth = pq.read_table(small_dataset / truth_file(BASKET_ASSOCIATIONS)).to_pydict()
    kinds = truth["kind"]
    assert kinds.count("complement") == planted.anchor.shape[0]
    assert kinds.count("substitute") == planted.substitutes
    complements = [i for i, k in enumerate(kinds) if k == "complement"]
    assert [truth["product_a"][i] for i in complements] == (planted.anchor + 1).tolist()
    assert [truth["product_b"][i] for i in complements] == (planted.partner + 1).tolist()
    assert np.allclose(
        [truth["attach_probability"][i] for i in complements], complement_attach(spec)
    )
    substitutes = [i for i, k in enumerate(kinds) if k == "substitute"]
    assert [truth["product_a"][i] for i in substitutes] == (planted.first + 1).tolist()
    assert all(
        math.isclose(truth["exclusivity"][i], spec.products.substitutes.exclusivity)
        for i in substitutes
    )
