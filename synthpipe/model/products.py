"""Products: a category tree with brands, log-normal list prices with charm endings, costs
below price, and Zipf popularity within each category."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.model.cache import cached_per_spec
from synthpipe.model.money import CENTS, PRICE_PRECISION, cents_to_decimal
from synthpipe.model.sampling import InverseCdf, group_offsets
from synthpipe.model.schema import PRODUCTS_SCHEMA, dictionary_array
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.spec.models import Spec

FIRST_PRODUCT_ID = 1
# Charm pricing: under 10 prices end in 9 cents at 10-cent steps (3.49), under 100 they
# end in .99 (26.99), above that in 9.99 (129.99). The smallest price is MIN_PRICE_CENTS.
SMALL_PRICE_LIMIT = 10.0
MEDIUM_PRICE_LIMIT = 100.0
MIN_PRICE_CENTS = 49
BRAND_SYLLABLES = (
    "al", "bel", "cor", "dan", "el", "fin", "gar", "hal", "is", "jor", "kel", "lum", "mar",
    "nor", "or", "pel", "quin", "ros", "sol", "tor", "ul", "ver", "wen", "xan", "yor", "zel",
)  # fmt: skip
BRAND_SUFFIXES = ("", "", "", " Co", " Labs", " & Sons", " Works", " Home", " Goods")
DESCRIPTORS = (
    "Classic", "Essential", "Premium", "Everyday", "Pro", "Select", "Original", "Signature",
    "Deluxe", "Basic", "Ultra", "Smart", "Fresh", "Natural", "Compact", "Studio",
)  # fmt: skip
MODEL_NUMBER_MAX = 1_000  # model numbers run 100..999 in steps of ten
MODEL_NUMBER_MIN = 100
MODEL_NUMBER_STEP = 10


@dataclass(frozen=True)
class ProductWorld:
    """The catalogue as numpy arrays, for the basket generator (not a table)."""

    count: int
    category: np.ndarray  # category index per product; products are grouped by category
    category_offsets: np.ndarray  # products of category k are [offsets[k], offsets[k+1])
    price_cents: np.ndarray
    cost_cents: np.ndarray
    popularity: np.ndarray  # relative demand within the category (Zipf weight)
    popularity_search: InverseCdf  # over the cumulative popularity, products in id order
    brand: np.ndarray  # brand index per product (category x brands_per_category + k)
    by_brand: np.ndarray  # product indices sorted by (brand, id)
    brand_offsets: np.ndarray  # by_brand[brand_offsets[b]:brand_offsets[b + 1]]: brand b
    brand_search: InverseCdf  # over the cumulative popularity in by_brand order

    def ids(self) -> np.ndarray:
        """Product ids (1-based) in index order."""
        return np.arange(FIRST_PRODUCT_ID, FIRST_PRODUCT_ID + self.count, dtype=np.int32)


def products_per_category(spec: Spec) -> np.ndarray:
    """Split products.count by catalog share (largest remainder, at least one each)."""
    categories = spec.products.categories
    shares = np.asarray([c.catalog_share for c in categories], dtype=np.float64)
    spare = spec.products.count - len(categories)
    exact = shares / shares.sum() * spare
    counts = np.floor(exact).astype(np.int64)
    remainder = spare - int(counts.sum())
    order = np.lexsort((np.arange(len(categories)), -(exact - counts)))
    counts[order[:remainder]] += 1
    return np.asarray(counts + 1)


def charm_price_cents(price: np.ndarray) -> np.ndarray:
    """Round raw prices up to charm endings (3.49, 26.99, 129.99), in cents."""
    small = np.ceil(price * 10.0) * 10 - 1
    medium = np.ceil(price) * CENTS - 1
    large = np.ceil(price / 10.0) * 10 * CENTS - 1
    cents = np.where(
        price < SMALL_PRICE_LIMIT, small, np.where(price < MEDIUM_PRICE_LIMIT, medium, large)
    )
    return np.maximum(cents, MIN_PRICE_CENTS).astype(np.int64)


def charm_upper_bound(cents: np.ndarray) -> np.ndarray:
    """The largest raw price (in currency units) that ``charm_price_cents`` rounds to at
    most ``cents``; so P(charm price <= c) = P(raw price <= charm_upper_bound(c))."""
    c = np.asarray(cents, dtype=np.float64) + 1.0
    small = np.floor(c / 10.0) / 10.0
    medium = np.floor(c / CENTS)
    large = 10.0 * np.floor(c / (10 * CENTS))
    bound = np.where(
        small < SMALL_PRICE_LIMIT, small, np.where(medium < MEDIUM_PRICE_LIMIT, medium, large)
    )
    return np.asarray(np.where(np.asarray(cents) < MIN_PRICE_CENTS, 0.0, bound))


def charm_support(top_cents: int) -> np.ndarray:
    """Every price (cents) ``charm_price_cents`` can produce up to ``top_cents``."""
    small = np.arange(MIN_PRICE_CENTS + 1, int(SMALL_PRICE_LIMIT * CENTS) + 1, 10) - 1
    medium = (
        np.arange(int(SMALL_PRICE_LIMIT + 1) * CENTS, int(MEDIUM_PRICE_LIMIT) * CENTS + 1, CENTS)
        - 1
    )
    large = (
        np.arange(
            int(MEDIUM_PRICE_LIMIT + 10) * CENTS, max(top_cents, 0) + 10 * CENTS + 1, 10 * CENTS
        )
        - 1
    )
    support = np.concatenate([[MIN_PRICE_CENTS], small[small > MIN_PRICE_CENTS], medium, large])
    return np.unique(support[support <= max(top_cents, MIN_PRICE_CENTS)])


def _prices(spec: Spec, category: np.ndarray) -> np.ndarray:
    rng = generator(spec.seed, Entity.PRODUCTS, Stream.PRICE)
    uniforms = rng.random((category.shape[0], 2))
    normal = _normal_from_uniform(uniforms[:, 0])
    cents = np.zeros(category.shape[0], dtype=np.int64)
    for k, cat in enumerate(spec.products.categories):
        rows = category == k
        if cat.price.values:
            points = np.round(np.asarray(cat.price.values) * CENTS).astype(np.int64)
            pick = np.minimum((uniforms[rows, 1] * len(points)).astype(np.int64), len(points) - 1)
            cents[rows] = points[pick]
        else:
            raw = cat.price.median * np.exp(cat.price.sigma * normal[rows])
            cents[rows] = charm_price_cents(raw)
    return cents


def _normal_from_uniform(u: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return np.asarray(ndtri(np.clip(u, 1e-12, 1 - 1e-12)))


def build_product_world(spec: Spec) -> ProductWorld:
    """Generate the catalogue's numeric attributes: category, price, cost, popularity."""
    counts = products_per_category(spec)
    offsets = group_offsets(counts)
    category = np.repeat(np.arange(counts.shape[0], dtype=np.int16), counts)
    price = _prices(spec, category)
    margins = np.asarray([[c.margin.min, c.margin.max] for c in spec.products.categories])
    u = generator(spec.seed, Entity.PRODUCTS, Stream.MARGIN).random(category.shape[0])
    margin = margins[category, 0] + u * (margins[category, 1] - margins[category, 0])
    cost = np.round(price * (1.0 - margin)).astype(np.int64)
    # Popularity: a random rank within the category, weight 1 / rank ** exponent (Zipf).
    keys = generator(spec.seed, Entity.PRODUCTS, Stream.POPULARITY).random(category.shape[0])
    order = np.lexsort((keys, category))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0]) - np.repeat(offsets[:-1], counts)
    popularity = 1.0 / (rank + 1.0) ** spec.products.popularity_exponent
    brand = product_brands(spec, category)
    by_brand = np.argsort(brand, kind="stable")
    brands = len(spec.products.categories) * spec.products.brands_per_category
    return ProductWorld(
        count=int(category.shape[0]),
        category=category,
        category_offsets=offsets,
        price_cents=price,
        cost_cents=cost,
        popularity=popularity,
        popularity_search=InverseCdf.build(np.cumsum(popularity)),
        brand=brand,
        by_brand=by_brand,
        brand_offsets=group_offsets(np.bincount(brand, minlength=brands)),
        brand_search=InverseCdf.build(np.cumsum(popularity[by_brand])),
    )


def product_brands(spec: Spec, category: np.ndarray) -> np.ndarray:
    """Each product's brand: one of its category's ``brands_per_category``, uniformly."""
    per = spec.products.brands_per_category
    u = generator(spec.seed, Entity.PRODUCTS, Stream.BRAND, 1).random(int(category.shape[0]))
    return np.asarray(
        category.astype(np.int64) * per + np.minimum((u * per).astype(np.int64), per - 1)
    )


def brand_shares(world: ProductWorld, spec: Spec) -> np.ndarray:
    """(categories, brands_per_category): each brand's share of its category's popularity,
    the chance it is a customer's favourite there."""
    per = spec.products.brands_per_category
    categories = len(spec.products.categories)
    mass = np.bincount(world.brand, weights=world.popularity, minlength=categories * per)
    mass = mass.reshape(categories, per)
    totals = mass.sum(axis=1, keepdims=True)
    return np.asarray(np.divide(mass, totals, out=np.zeros_like(mass), where=totals > 0))


def share_in_category(world: ProductWorld, product: np.ndarray) -> np.ndarray:
    """Each product's share of its category's popularity: its chance as a drawn line of
    that category (brand loyalty keeps it)."""
    in_category = np.bincount(world.category, weights=world.popularity)
    return np.asarray(world.popularity[product] / in_category[world.category[product]])


def product_world(spec: Spec) -> ProductWorld:
    """The catalogue of ``spec`` (cached per spec within a process)."""
    return cached_per_spec("products", spec, build_product_world)


def brand_names(spec: Spec) -> list[str]:
    """Synthetic brand names, ``brands_per_category`` per category, all distinct."""
    rng = generator(spec.seed, Entity.PRODUCTS, Stream.BRAND, 0)
    wanted = spec.products.brands_per_category * len(spec.products.categories)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < wanted:  # a few hundred names at most: built once per catalogue
        syllables = rng.integers(0, len(BRAND_SYLLABLES), size=2 + int(rng.integers(0, 2)))
        suffix = BRAND_SUFFIXES[int(rng.integers(0, len(BRAND_SUFFIXES)))]
        stem = "".join(BRAND_SYLLABLES[s] for s in syllables).capitalize()
        name = stem + suffix
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def generate_products(spec: Spec) -> pa.Table:
    """The products table."""
    world = product_world(spec)
    categories = spec.products.categories
    n = world.count
    sub_names = [s for c in categories for s in c.subcategories]
    sub_offsets = group_offsets(np.asarray([len(c.subcategories) for c in categories]))
    sub_counts = np.diff(sub_offsets)[world.category]
    u = generator(spec.seed, Entity.PRODUCTS, Stream.SUBCATEGORY).random(n)
    subcategory = sub_offsets[world.category] + np.minimum(
        (u * sub_counts).astype(np.int64), sub_counts - 1
    )
    brand = world.brand
    brands = brand_names(spec)
    name_draws = generator(spec.seed, Entity.PRODUCTS, Stream.PRODUCT_NAME).random((n, 2))
    descriptor = np.minimum(
        (name_draws[:, 0] * len(DESCRIPTORS)).astype(np.int64), len(DESCRIPTORS) - 1
    )
    model_steps = (MODEL_NUMBER_MAX - MODEL_NUMBER_MIN) // MODEL_NUMBER_STEP
    model = MODEL_NUMBER_MIN + MODEL_NUMBER_STEP * (name_draws[:, 1] * model_steps).astype(np.int64)
    name = pc.binary_join_element_wise(
        pc.take(pa.array(brands), pa.array(brand)),
        pc.take(pa.array(DESCRIPTORS), pa.array(descriptor)),
        pc.take(pa.array(sub_names), pa.array(subcategory)),
        pc.cast(pa.array(model), pa.string()),
        " ",
    )
    columns = {
        "product_id": pa.array(world.ids(), pa.int32()),
        "name": name,
        "category": dictionary_array(world.category, [c.name for c in categories]),
        "subcategory": dictionary_array(subcategory, sub_names),
        "brand": dictionary_array(brand, brands),
        "list_price": cents_to_decimal(world.price_cents, PRICE_PRECISION),
        "unit_cost": cents_to_decimal(world.cost_cents, PRICE_PRECISION),
    }
    return pa.Table.from_pydict(columns, schema=PRODUCTS_SCHEMA)
