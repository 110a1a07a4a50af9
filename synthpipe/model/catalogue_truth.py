"""The catalogue's ground truth: brand loyalty per category and brand, the planted basket
pairs, and the staples' table with its category labels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synthpipe.model.associations import associations
from synthpipe.model.baskets import (
    complement_attach,
)
from synthpipe.model.products import (
    brand_names,
    brand_shares,
    product_world,
)
from synthpipe.model.schema import dictionary_array
from synthpipe.spec.models import Spec

ASSOCIATION_KINDS = ("complement", "substitute")


def brand_loyalty_truth(spec: Spec) -> pa.Table:
    """Per category and brand: its share of the category's popularity (the chance it is a
    customer's favourite there), and per category the chance two lines of one customer
    share a brand, rho^2 + (1 - rho^2) x sum of squared shares."""
    world = product_world(spec)
    shares = brand_shares(world, spec)
    categories, per = shares.shape
    rho = spec.products.brand_loyalty
    same = rho**2 + (1.0 - rho**2) * (shares * shares).sum(axis=1)
    names = [c.name for c in spec.products.categories]
    return pa.table(
        {
            "category": dictionary_array(np.repeat(np.arange(categories), per), names),
            "brand": dictionary_array(np.arange(categories * per), brand_names(spec)),
            "favourite_share": pa.array(shares.ravel(), pa.float64()),
            "same_brand_pair_share": pa.array(np.repeat(same, per), pa.float64()),
        }
    )


def basket_associations_truth(spec: Spec) -> pa.Table:
    """The planted pairs: per complement pair (anchor, partner), the probability an anchor
    line brings its partner and the lift it aims at; per substitute pair (first, second),
    the exclusivity and the first member's share of the pair's popularity."""
    planted = associations(spec)
    world = product_world(spec)
    ids = world.ids()
    complements, substitutes = planted.anchor.shape[0], planted.substitutes
    first = np.concatenate([planted.anchor, planted.first])
    second = np.concatenate([planted.partner, planted.second])
    names = [c.name for c in spec.products.categories]
    nothing = np.full(substitutes, np.nan)
    return pa.table(
        {
            "kind": dictionary_array(
                np.repeat([0, 1], [complements, substitutes]), list(ASSOCIATION_KINDS)
            ),
            "product_a": pa.array(ids[first], pa.int32()),
            "product_b": pa.array(ids[second], pa.int32()),
            "category_a": dictionary_array(world.category[first].astype(np.int64), names),
            "category_b": dictionary_array(world.category[second].astype(np.int64), names),
            "attach_probability": pa.array(
                np.concatenate([complement_attach(spec), nothing]), pa.float64(), from_pandas=True
            ),
            "target_lift": pa.array(
                np.concatenate([np.full(complements, spec.products.complements.lift), nothing]),
                pa.float64(),
                from_pandas=True,
            ),
            "exclusivity": pa.array(
                np.concatenate(
                    [
                        np.full(complements, np.nan),
                        np.full(substitutes, spec.products.substitutes.exclusivity),
                    ]
                ),
                pa.float64(),
                from_pandas=True,
            ),
            "first_share": pa.array(
                np.concatenate([np.full(complements, np.nan), planted.first_share]),
                pa.float64(),
                from_pandas=True,
            ),
        }
    )


def staples_with_categories(spec: Spec, table: pa.Table) -> pa.Table:
    """The staples' table with the category as its label."""
    names = [c.name for c in spec.products.categories]
    index = table.column("category_index").to_numpy().astype(np.int64)
    return table.drop_columns(["category_index"]).add_column(
        2, "category", dictionary_array(index, names)
    )
