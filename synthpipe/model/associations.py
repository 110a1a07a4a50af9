"""Planted basket associations: complement pairs bought together, substitute pairs rarely.

Both are properties of the catalogue, chosen once per spec from a stream of their own:

- a **complement** pair (anchor A, partner B) joins two popular products of different
  categories; a sale line of A brings a line of B right after it with the probability
  that gives the pair the spec's lift (``products.complements.lift``);
- a **substitute** pair (S1, S2) is a brand's two most popular products (one item in two
  sizes); a basket keeps to the member of its first line of the pair: each later line of
  the pair becomes that member with probability ``products.substitutes.exclusivity``.
  Lines are drawn alike, so either member moves to the other as often, and every
  product keeps its overall chance.

No product has two roles, so a partner line is recognisable (it follows its anchor) and
a substitution never changes a line's category or brand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthpipe.model.cache import cached_per_spec
from synthpipe.model.products import ProductWorld, product_world
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec

ANCHOR_RANKS = 5  # anchors are among the 5 most popular products of their category
PARTNER_RANKS = (5, 25)  # partners rank 6th to 25th in theirs: popular, not dominant
NO_PAIR = -1


@dataclass(frozen=True)
class Associations:
    """The planted pairs of one catalogue, as product indices (0-based)."""

    anchor: np.ndarray  # per complement pair
    partner: np.ndarray
    pair_of_anchor: np.ndarray  # per product: its complement pair if an anchor, else NO_PAIR
    first: np.ndarray  # per substitute pair: the more popular member
    second: np.ndarray
    first_share: np.ndarray  # per substitute pair: the first member's share of the pair
    substitute_pair: np.ndarray  # per product: its substitute pair, else NO_PAIR

    @property
    def substitutes(self) -> int:
        """Number of substitute pairs."""
        return int(self.first.shape[0])


def popularity_rank(world: ProductWorld) -> np.ndarray:
    """Each product's rank within its category by popularity (0: the most popular; ties
    by product index)."""
    n = world.count
    order = np.lexsort((np.arange(n), -world.popularity, world.category))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(
        world.category_offsets[:-1], np.diff(world.category_offsets)
    )
    return rank


def _complements(
    world: ProductWorld, rank: np.ndarray, wanted: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``wanted`` (anchor, partner) pairs: random anchors among the top ranks, each
    with a random partner of another category among the partner ranks, none used twice."""
    anchors = rng.permutation(np.flatnonzero(rank < ANCHOR_RANKS))[:wanted]
    pool = rng.permutation(np.flatnonzero((rank >= PARTNER_RANKS[0]) & (rank < PARTNER_RANKS[1])))
    used = np.zeros(world.count, dtype=bool)
    kept_anchor: list[int] = []
    kept_partner: list[int] = []
    for anchor in anchors.tolist():  # a few dozen pairs, once per catalogue
        free = pool[(world.category[pool] != world.category[anchor]) & ~used[pool]]
        if free.size == 0:
            continue
        used[free[0]] = True
        kept_anchor.append(anchor)
        kept_partner.append(int(free[0]))
    return np.asarray(kept_anchor, dtype=np.int64), np.asarray(kept_partner, dtype=np.int64)


def _substitutes(
    world: ProductWorld, taken: np.ndarray, wanted: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``wanted`` substitute pairs: the two most popular free products of the brands
    whose second such product is the most popular (ties in random order), so that the
    pairs meet in baskets often enough to be seen."""
    free = ~np.isin(np.arange(world.count), taken)
    order = np.lexsort((np.arange(world.count), -world.popularity, world.brand))
    order = order[free[order]]
    brand = world.brand[order]
    starts = np.flatnonzero(np.concatenate([[True], brand[1:] != brand[:-1]]))
    sizes = np.diff(np.append(starts, order.shape[0]))
    eligible = rng.permutation(starts[sizes >= 2])
    ranked = eligible[np.argsort(-world.popularity[order[eligible + 1]], kind="stable")]
    chosen = np.sort(ranked[:wanted])
    return order[chosen], order[chosen + 1]


def build_associations(spec: Spec) -> Associations:
    """The planted complement and substitute pairs of ``spec``'s catalogue."""
    world = product_world(spec)
    rank = popularity_rank(world)
    rng = generator(spec.seed, Entity.PRODUCTS, Stream.ASSOCIATIONS)
    anchor, partner = _complements(world, rank, spec.products.complements.pairs, rng)
    taken = np.concatenate([anchor, partner])
    first, second = _substitutes(world, taken, spec.products.substitutes.pairs, rng)
    pair_of_anchor = np.full(world.count, NO_PAIR, dtype=np.int64)
    pair_of_anchor[anchor] = np.arange(anchor.shape[0])
    substitute_pair = np.full(world.count, NO_PAIR, dtype=np.int64)
    substitute_pair[first] = np.arange(first.shape[0])
    substitute_pair[second] = np.arange(first.shape[0])
    weight_first, weight_second = world.popularity[first], world.popularity[second]
    return Associations(
        anchor=anchor,
        partner=partner,
        pair_of_anchor=pair_of_anchor,
        first=first,
        second=second,
        first_share=np.asarray(weight_first / (weight_first + weight_second)),
        substitute_pair=substitute_pair,
    )


def associations(spec: Spec) -> Associations:
    """The planted pairs of ``spec`` (cached per spec within a process)."""
    return cached_per_spec("associations", spec, build_associations)


def expected_mixed_pairs(
    exclusivity: float, first_share: np.ndarray, later: np.ndarray, later_pairs: np.ndarray
) -> np.ndarray:
    """Expected pairs of different members among the lines of each substitute pair in
    baskets, given per pair ``later`` = sum over baskets of (m - 1) and ``later_pairs`` =
    sum of (m - 1)(m - 2) / 2, m the basket's lines of the pair. The first line's member M
    is the first with probability q; a later line is M with probability
    a_M = s + (1 - s) q_M, so a basket holds (m - 1)(1 - a_M) + C(m - 1, 2) 2 a_M (1 - a_M)
    mixed pairs."""
    q = np.asarray(first_share, dtype=np.float64)
    stay_first = exclusivity + (1.0 - exclusivity) * q
    stay_second = exclusivity + (1.0 - exclusivity) * (1.0 - q)
    with_first = 1.0 - stay_first
    with_second = 1.0 - stay_second
    among_first = 2.0 * stay_first * (1.0 - stay_first)
    among_second = 2.0 * stay_second * (1.0 - stay_second)
    return np.asarray(
        later * (q * with_first + (1.0 - q) * with_second)
        + later_pairs * (q * among_first + (1.0 - q) * among_second)
    )
