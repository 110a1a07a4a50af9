"""The followed customers' purchases in a sales partition, for the checks that follow a
customer across months."""

from __future__ import annotations

import numpy as np

from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame
from synthpipe.validate.measures.habits import ordinary_sales
from synthpipe.validate.merge import Stats


def purchases(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """The followed customers' ordinary first sales: customer id, day and time."""
    txn = frame.txn
    sales = ordinary_sales(txn)
    first = sales.rows[~sales.repeat]
    chosen = first[txn.customer.take(first) % ctx.sample_modulus == 0]
    sample = np.stack(
        [txn.customer.take(chosen), txn.unix_day.take(chosen), txn.ts.take(chosen)], axis=1
    )
    return {st.TRANSACTIONS_SAMPLE: [sample]}
