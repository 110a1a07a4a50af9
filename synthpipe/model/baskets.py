"""Baskets: how many lines, which category and product on each, quantities and discounts.

Category choice depends on the customer's age band and gender (affinities) and on the day
(category seasonality, promotions, back-to-school); the product within a category follows
Zipf popularity. Every function consumes a fixed number of draws per line, in line order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synthpipe.model.associations import Associations, associations
from synthpipe.model.cache import cached_per_spec
from synthpipe.model.products import ProductWorld, brand_shares, product_world, share_in_category
from synthpipe.model.sampling import grouped_categorical, poisson_by_group, poisson_table
from synthpipe.model.seasonality import DayFactors
from synthpipe.seeds import Stream
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import GENDERS

# per line, when complements attach: whether it brings its partner, and the partner's
# quantity, markdown and markdown depth
COMPLEMENT_UNIFORMS = 4


@dataclass(frozen=True)
class Lines:
    """Line items of a set of transactions, in transaction order."""

    transaction: np.ndarray  # index of the owning transaction within its set
    product: np.ndarray  # product index (0-based)
    quantity: np.ndarray  # int64 units (negative on refunds)
    price: np.ndarray  # int64 cents per unit
    discount: np.ndarray  # int64 cents on the whole line

    @property
    def size(self) -> int:
        """Number of lines."""
        return int(self.product.shape[0])

    def net(self) -> np.ndarray:
        """quantity x price - discount, in cents."""
        return np.asarray(self.quantity * self.price - self.discount)


def empty_lines() -> Lines:
    """A set of zero lines."""
    z = np.zeros(0, dtype=np.int64)
    return Lines(z, z, z, z, z)


def concat_lines(parts: list[Lines], offsets: list[int]) -> Lines:
    """Concatenate line sets whose transactions start at ``offsets`` in the combined set."""
    if not parts:
        return empty_lines()
    return Lines(
        transaction=np.concatenate(
            [p.transaction + o for p, o in zip(parts, offsets, strict=True)]
        ),
        product=np.concatenate([p.product for p in parts]),
        quantity=np.concatenate([p.quantity for p in parts]),
        price=np.concatenate([p.price for p in parts]),
        discount=np.concatenate([p.discount for p in parts]),
    )


def audience_group(band: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """Group index of (age band, gender): band x number of genders + gender."""
    return np.asarray(band.astype(np.int64) * len(GENDERS) + gender.astype(np.int64))


def affinity_table(spec: Spec) -> np.ndarray:
    """(groups, categories) product of age-band and gender affinities."""
    bands = spec.customers.age_pyramid
    categories = spec.products.categories
    table = np.ones((len(bands) * len(GENDERS), len(categories)))
    for k, category in enumerate(categories):
        for b, band in enumerate(bands):
            for g, gender in enumerate(GENDERS):
                age = category.age_affinity.get(band.label, 1.0)
                sex = category.gender_affinity.get(gender, 1.0)  # type: ignore[call-overload]
                table[b * len(GENDERS) + g, k] = age * sex
    return table


def category_weights(spec: Spec, factors: DayFactors, base: np.ndarray | None = None) -> np.ndarray:
    """(days x groups, categories) weights of the line's category on each day for each group.

    ``base`` is the per-category base weight (default: the spec's ``demand``).
    """
    demand = np.asarray([c.demand for c in spec.products.categories]) if base is None else base
    affinity = cached_per_spec("affinity_table", spec, affinity_table)  # (G, K)
    daily = factors.category  # (D, K)
    weights = daily[:, None, :] * affinity[None, :, :] * demand[None, None, :]
    return np.asarray(weights.reshape(-1, weights.shape[-1]))


def extra_lines_mean(spec: Spec, segment: np.ndarray, channel: int) -> np.ndarray:
    """Mean number of lines beyond the first, by segment and channel."""
    basket = np.asarray([s.basket for s in spec.customers.segments.values()])
    channels = spec.sales.channels
    factor = channels.of(channel).basket_factor
    return np.asarray((spec.sales.basket_mean_items - 1.0) * basket[segment] * factor)


def products_by_popularity(world: ProductWorld, category: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Product within each line's category, drawn by Zipf popularity."""
    cumulative = world.popularity_search.cumulative
    start = world.category_offsets[category]
    end = world.category_offsets[category + 1]
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + u * (cumulative[end - 1] - before)
    pick = world.popularity_search.search(target)
    return np.asarray(np.clip(pick, start, end - 1))


def quantities(
    spec: Spec, world: ProductWorld, product: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """1 + Poisson(quantity_mean of the product's category) units per line (one uniform
    per line, by inverse CDF)."""
    means = np.asarray([c.quantity_mean for c in spec.products.categories])
    table = poisson_table(means)
    uniforms = np.asarray(rng.random(product.shape[0]))
    return 1 + poisson_by_group(uniforms, world.category[product], table)


def extra_lines(
    spec: Spec, segment: np.ndarray, channel: int, rng: np.random.Generator
) -> np.ndarray:
    """Lines beyond the first: Poisson((basket_mean_items - 1) x segment x channel factors),
    one uniform per basket, by inverse CDF."""
    segments = np.arange(len(spec.customers.segments))
    table = poisson_table(extra_lines_mean(spec, segments, channel))
    return poisson_by_group(np.asarray(rng.random(segment.shape[0])), segment, table)


def discounts(
    spec: Spec,
    factors: DayFactors,
    category: np.ndarray,
    day: np.ndarray,
    gross: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """Discount cents per line: the larger of the promotion in force and a random markdown.

    ``u`` holds two uniforms per line: markdown yes/no, and the markdown depth.
    """
    markdown = spec.sales.markdown
    promo = factors.discount[day, category]
    depth = markdown.min + u[:, 1] * (markdown.max - markdown.min)
    rate = np.maximum(promo, np.where(u[:, 0] < markdown.rate, depth, 0.0))
    return np.asarray(np.round(gross * rate).astype(np.int64))


@dataclass(frozen=True)
class Shoppers:
    """Whose baskets they are: each transaction's customer (a row of ``favourite``) and
    the block's favourite-brand uniforms, (customers, categories)."""

    customer: np.ndarray
    favourite: np.ndarray


@dataclass(frozen=True)
class LineWorld:
    """What every line is drawn against: the spec, its products and the range's day
    factors (seasonality, promotions)."""

    spec: Spec
    products: ProductWorld
    factors: DayFactors


@dataclass(frozen=True)
class Baskets:
    """The transactions to fill with lines: each one's day index, audience group
    (``audience_group``) and number of lines; with ``shoppers``, whose they are (for
    their favourite brands)."""

    day: np.ndarray
    group: np.ndarray
    counts: np.ndarray
    shoppers: Shoppers | None = None


@dataclass(frozen=True)
class BasketDraws:
    """The generators a basket's lines draw from, one per purpose, so that adding a
    feature never shifts another's draws. Each consumes a fixed number of draws per line,
    in line order."""

    category: np.random.Generator  # one uniform a line: its category
    product: np.random.Generator  # one a line: the product (also within the favourite brand)
    quantity: np.random.Generator  # one a line: its units
    discount: np.random.Generator  # two a line: whether marked down, and how deep
    substitute: np.random.Generator  # one a line: whether it keeps to its basket's pair member
    loyalty: np.random.Generator  # one a line, with shoppers: whether of the favourite brand
    complement: np.random.Generator  # COMPLEMENT_UNIFORMS a line, with complements

    @classmethod
    def of(cls, stream: Callable[[Stream], np.random.Generator]) -> BasketDraws:
        """The bundle whose generators ``stream`` gives for each purpose's stream."""
        return cls(
            category=stream(Stream.LINE_CATEGORY),
            product=stream(Stream.LINE_PRODUCT),
            quantity=stream(Stream.QUANTITY),
            discount=stream(Stream.DISCOUNT),
            substitute=stream(Stream.LINE_SUBSTITUTE),
            loyalty=stream(Stream.LINE_LOYALTY),
            complement=stream(Stream.LINE_COMPLEMENT),
        )


def favourite_brands(
    spec: Spec, world: ProductWorld, category: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """The favourite brand in each line's category, drawn by the brands' popularity
    shares from the customer's uniform for that category."""
    local = grouped_categorical(u, category, brand_shares(world, spec))
    return np.asarray(category * spec.products.brands_per_category + local)


def products_of_brand(world: ProductWorld, brand: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A product of each brand, by popularity within the brand."""
    cumulative = world.brand_search.cumulative
    start = world.brand_offsets[brand]
    end = world.brand_offsets[brand + 1]
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    target = before + u * (cumulative[np.maximum(end - 1, 0)] - before)
    pick = np.clip(world.brand_search.search(target), start, np.maximum(end - 1, start))
    return np.asarray(world.by_brand[pick])


def basket_substitutes(
    spec: Spec, planted: Associations, transaction: np.ndarray, product: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """A basket keeps to one member of a substitute pair: each later line of the pair
    becomes the member of the basket's first line of it with probability
    ``products.substitutes.exclusivity`` (``u``: one uniform per line). Lines are drawn
    alike, so either member moves to the other as often: every product keeps its chance."""
    pair = planted.substitute_pair[product]
    rows = np.flatnonzero(pair >= 0)
    if rows.size == 0:
        return product
    key = transaction[rows] * np.int64(planted.substitutes) + pair[rows]
    order = np.argsort(key, kind="stable")  # within a key, lines stay in basket order
    sorted_key = key[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]]))
    sizes = np.diff(np.append(starts, sorted_key.shape[0]))
    first_row = np.empty_like(rows)
    first_row[order] = rows[order][np.repeat(starts, sizes)]
    moved = rows[(u[rows] < spec.products.substitutes.exclusivity) & (first_row != rows)]
    product = product.copy()
    product[moved] = product[first_row[np.searchsorted(rows, moved)]]
    return product


def interleave(lines: Lines, after: np.ndarray, extra: Lines) -> Lines:
    """``lines`` with ``extra[j]`` inserted right after line ``after[j]`` (``after``
    sorted, distinct)."""
    n, m = lines.size, int(after.shape[0])
    before = np.searchsorted(after, np.arange(n), side="left")  # extras ahead of line i
    own = np.arange(n) + before
    added = after + np.arange(m) + 1

    def woven(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = np.empty(n + m, dtype=old.dtype)
        out[own] = old
        out[added] = new
        return out

    return Lines(
        woven(lines.transaction, extra.transaction),
        woven(lines.product, extra.product),
        woven(lines.quantity, extra.quantity),
        woven(lines.price, extra.price),
        woven(lines.discount, extra.discount),
    )


def category_line_shares(spec: Spec) -> np.ndarray:
    """Each category's expected share of basket lines over a year, ignoring promotions:
    demand x affinity x mean seasonality, normalised per audience group and weighted by
    the groups' population shares. Depends on the spec's world, not its calendar."""
    season = np.asarray([np.mean(c.seasonality) for c in spec.products.categories])
    demand = np.asarray([c.demand for c in spec.products.categories])
    weights = affinity_table(spec) * (demand * season)[None, :]
    per_group = weights / weights.sum(axis=1, keepdims=True)
    return np.asarray(audience_shares(spec) @ per_group)


def audience_shares(spec: Spec) -> np.ndarray:
    """Each audience group's (age band x gender, ``audience_group`` order) share of the
    population: the pyramid's band weights times the gender shares."""
    bands = np.asarray([b.weight for b in spec.customers.age_pyramid], dtype=np.float64)
    genders = np.asarray([spec.customers.gender.get(g, 0.0) for g in GENDERS])  # type: ignore[call-overload]
    return np.asarray(np.outer(bands / bands.sum(), genders / genders.sum()).ravel())


def complement_attach(spec: Spec) -> np.ndarray:
    """Per complement pair, the attach probability that gives the spec's lift:
    P(B | A) / P(B) = (a + (1 - a) pi) / pi = lift, so a = pi (lift - 1) / (1 - pi), where
    pi = 1 - exp(-n p_B) is the partner's basket share (n: mean lines a sale,
    p_B: its category's line share x its popularity share there). At most 1."""
    planted = associations(spec)
    world = product_world(spec)
    partner = planted.partner
    category = world.category[partner].astype(np.int64)
    line_share = category_line_shares(spec)[category] * share_in_category(world, partner)
    habits = spec.sales.habits
    lines = spec.sales.basket_mean_items + habits.splurge * habits.splurge_extra_lines
    basket_share = -np.expm1(-lines * line_share)
    lift = spec.products.complements.lift
    return np.asarray(np.clip(basket_share * (lift - 1.0) / (1.0 - basket_share), 0.0, 1.0))


def attach_complements(
    spec: Spec,
    world: ProductWorld,
    factors: DayFactors,
    lines: Lines,
    line_day: np.ndarray,
    rng: np.random.Generator,
) -> Lines:
    """A line of a complement pair's anchor brings, with the pair's probability
    (``complement_attach``), a line of its partner right after it: COMPLEMENT_UNIFORMS a
    line, drawn for every line, so that a day's draws do not depend on the days after it."""
    planted = associations(spec)
    pair = planted.pair_of_anchor[lines.product]
    attach = cached_per_spec("complement_attach", spec, complement_attach)
    u = rng.random((lines.size, COMPLEMENT_UNIFORMS))
    after = np.flatnonzero(pair >= 0)
    after = after[u[after, 0] < attach[pair[after]]]
    extra_u = u[after, 1:]
    product = planted.partner[pair[after]]
    category = world.category[product].astype(np.int64)
    means = np.asarray([c.quantity_mean for c in spec.products.categories])
    quantity = 1 + poisson_by_group(extra_u[:, 0], category, poisson_table(means))
    price = world.price_cents[product]
    discount = discounts(spec, factors, category, line_day[after], quantity * price, extra_u[:, 1:])
    extra = Lines(lines.transaction[after], product, quantity, price, discount)
    return interleave(lines, after, extra)


def basket_lines(
    world: LineWorld,
    baskets: Baskets,
    draws: BasketDraws,
    category_base: np.ndarray | None = None,
    complements: bool = False,
) -> Lines:
    """Lines for ``baskets``, from ``draws`` (``loyalty`` used only with shoppers,
    ``complement`` only with ``complements``); ``category_base``: the per-category base
    weight (default: demand). With shoppers, a line is of the customer's favourite brand
    in its category with probability ``products.brand_loyalty`` (by popularity within
    the brand), else as anyone's: the favourite is drawn by brand share, so every product
    keeps its overall chance. A basket then keeps mostly to one member of a substitute
    pair (``basket_substitutes``); with ``complements``, anchor lines bring their
    partners (``attach_complements``).
    """
    spec, products, factors = world.spec, world.products, world.factors
    transaction = np.repeat(np.arange(baskets.counts.shape[0], dtype=np.int64), baskets.counts)
    n = transaction.shape[0]
    line_day = baskets.day[transaction]
    n_groups = len(spec.customers.age_pyramid) * len(GENDERS)
    weights = category_weights(spec, factors, category_base)
    key = line_day * n_groups + baskets.group[transaction]
    category = grouped_categorical(draws.category.random(n), key, weights)
    product_u = draws.product.random(n)
    product = products_by_popularity(products, category, product_u)
    shoppers = baskets.shoppers
    if shoppers is not None:
        loyal = draws.loyalty.random(n) < spec.products.brand_loyalty
        chosen = np.flatnonzero(loyal)
        owner = shoppers.customer[transaction[chosen]]
        brand = favourite_brands(
            spec, products, category[chosen], shoppers.favourite[owner, category[chosen]]
        )
        product[chosen] = products_of_brand(products, brand, product_u[chosen])
    product = basket_substitutes(
        spec,
        associations(spec),
        transaction,
        product,
        np.asarray(draws.substitute.random(product.shape[0])),
    )
    quantity = quantities(spec, products, product, draws.quantity)
    price = products.price_cents[product]
    discount = discounts(
        spec, factors, category, line_day, quantity * price, draws.discount.random((n, 2))
    )
    lines = Lines(transaction, product, quantity, price, discount)
    if complements:
        lines = attach_complements(spec, products, factors, lines, line_day, draws.complement)
    return lines
