"""Staples' reorders in a sales partition."""

from __future__ import annotations

import numpy as np

from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame
from synthpipe.validate.merge import Stats


def replenishment(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Staples' reorders: their lines per category, and the sampled customers' orders
    (customer id, product id, day) for the checks that follow a staple across months."""
    txn, line, owners = frame.txn, frame.lines, frame.owners
    reorder = owners.spread(txn.replenish & ~txn.is_fraud, 0).astype(bool)
    category = line.category
    counted = reorder & (category >= 0)
    customer = owners.spread(txn.customer, -1)
    day = owners.spread(txn.unix_day, -1)
    sampled = reorder & (customer >= 0) & (customer % ctx.sample_modulus == 0)
    return {
        st.REPLENISH_ORDERS: np.bincount(category[counted], minlength=len(ctx.categories)),
        st.REPLENISH_SAMPLE: [
            np.stack([customer[sampled], line.product[sampled], day[sampled]], axis=1)
        ],
    }
