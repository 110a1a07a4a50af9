"""Fraud volume of a sales partition: the fraud transactions per day and type."""

from __future__ import annotations

import numpy as np

from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame
from synthpipe.validate.measures.volume import calendar_rows
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import FRAUD_TYPES


def fraud(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Transactions labelled with a fraud type per (day, type)."""
    txn = frame.txn
    types = len(FRAUD_TYPES)
    chosen = calendar_rows(ctx, txn) & (txn.fraud >= 0)
    cell = txn.day * types + txn.fraud
    daily = np.bincount(cell[chosen], minlength=ctx.days * types).reshape(ctx.days, types)
    return {st.TRANSACTIONS_DAILY_FRAUD: daily}
