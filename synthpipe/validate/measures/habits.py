"""Same-day repeats of a sales partition: each customer's second sale of a day, and its
gap to the first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthpipe.clock import MICROS_PER_MINUTE
from synthpipe.model.ids import LEGIT_SUBRANGE
from synthpipe.model.sales import MAX_REPEAT_GAP_MINUTES
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame, TransactionFrame
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import CHANNELS, SALE

REPEAT_SUBRANGE = np.asarray([LEGIT_SUBRANGE[f"repeat_{c}"] for c in CHANNELS])
GAP_CELLS = MAX_REPEAT_GAP_MINUTES + 2  # whole minutes 0..cap, and none within the cap
NO_GAP = np.iinfo(np.int64).max


@dataclass(frozen=True)
class OrdinarySales:
    """The ordinary processes' sales on known channels and days: rows, and which are a
    same-day repeat (the id's sub-range says which, given the seed)."""

    rows: np.ndarray
    repeat: np.ndarray


def ordinary_sales(txn: TransactionFrame) -> OrdinarySales:
    """The ordinary sales of the partition, first sales and repeats told apart."""
    rows = np.flatnonzero(txn.ordinary & (txn.kind == SALE) & (txn.channel >= 0) & (txn.day >= 0))
    repeat = txn.subrange.take(rows) == REPEAT_SUBRANGE.take(txn.channel.take(rows))
    return OrdinarySales(rows, repeat)


def habits(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Ordinary sales per channel, first sales and repeats apart, and the repeats' gaps."""
    txn = frame.txn
    sales = ordinary_sales(txn)
    channels = len(CHANNELS)
    channel = txn.channel.take(sales.rows)
    return {
        st.HABITS_SALES_BY_KIND: np.bincount(
            channel * 2 + sales.repeat, minlength=channels * 2
        ).reshape(channels, 2),
        st.HABITS_REPEAT_GAP_HIST: repeat_gap_hist(
            txn.customer.take(sales.rows),
            txn.ts.take(sales.rows),
            txn.day.take(sales.rows),
            sales.repeat,
        ),
    }


def repeat_gap_hist(
    customer: np.ndarray, ts: np.ndarray, day: np.ndarray, repeat: np.ndarray
) -> np.ndarray:
    """A histogram of each repeat's gap in whole minutes to its own first sale (the last
    cell: none within the cap), taken on the customer-days of just the two: the other
    sale is then the repeat's own, and whether a customer buys anything else that day is
    independent of the gap (its other first sales are the rest of a Poisson draw), so the
    gap keeps its law however often it buys."""
    if customer.size == 0:
        return np.zeros(GAP_CELLS, dtype=np.int64)
    order = np.lexsort((ts, customer))
    c, t, d = customer[order], ts[order], day[order]
    same = (c[1:] == c[:-1]) & (d[1:] == d[:-1])
    gap = np.where(same, t[1:] - t[:-1], NO_GAP)
    nearest = np.minimum(np.concatenate([[NO_GAP], gap]), np.concatenate([gap, [NO_GAP]]))
    group = np.cumsum(np.concatenate([[True], ~same])) - 1  # customer-day of each sale
    pair = np.bincount(group)[group] == 2
    cap = GAP_CELLS - 1
    minutes = np.minimum(nearest[repeat[order] & pair] // MICROS_PER_MINUTE, cap)
    return np.bincount(minutes, minlength=GAP_CELLS)
