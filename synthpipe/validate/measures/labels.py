"""The observed fraud labels of a sales partition: reports per fraud type and of
legitimate sales (friendly fraud), the delays of the reports, and the label columns'
consistency."""

from __future__ import annotations

import numpy as np

from synthpipe.clock import MICROS_PER_DAY
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame
from synthpipe.validate.measures.integrity import count_problems
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import FRAUD_TYPES, SALE

# Log10 of a report's delay in days, fixed bins (1 minute to 10 years).
LOG_DELAY_EDGES = np.linspace(-3.2, 3.6, 137)


def labels(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Reports per fraud type and of legitimate sales, a histogram of report delays per
    group (the fraud types, then friendly fraud), and rows whose labels disagree."""
    txn = frame.txn
    stats: Stats = {}
    reported, fraud = txn.reported, txn.fraud
    types = len(FRAUD_TYPES)
    is_fraud = fraud >= 0
    stats[st.LABELS_FRAUD_REPORTED] = np.bincount(fraud[is_fraud & reported], minlength=types)
    stats[st.LABELS_FRAUD_ROWS] = np.bincount(fraud[is_fraud], minlength=types)
    legit_sale = ~txn.is_fraud & (txn.kind == SALE)
    stats[st.LABELS_FRIENDLY_REPORTED] = int(np.count_nonzero(legit_sale & reported))
    stats[st.LABELS_LEGIT_SALES] = int(np.count_nonzero(legit_sale))
    delay_days = np.where(reported, txn.reported_at - txn.ts, 1) / MICROS_PER_DAY
    group = np.where(is_fraud, fraud, np.where(legit_sale, types, -1))  # friendly: last row
    counted = reported & (group >= 0) & (delay_days > 0)
    size = LOG_DELAY_EDGES.shape[0] + 1
    cell = np.searchsorted(LOG_DELAY_EDGES, np.log10(delay_days[counted]), side="right")
    stats[st.LABELS_DELAY_HIST] = np.bincount(
        group[counted] * size + cell, minlength=(types + 1) * size
    ).reshape(types + 1, size)
    count_problems(
        stats,
        st.LABELS_INCONSISTENT,
        (reported == txn.reported_null)
        | (reported & (txn.reported_at < txn.ts))
        | (reported & (txn.kind != SALE) & ~is_fraud),
        frame.transactions_path,
        "observed labels without their time, reported before the transaction, or on a"
        " legitimate refund",
    )
    return stats
