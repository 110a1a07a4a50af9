"""Volume and profiles of a sales partition: transactions per day, channel and type, the
staples' reorders apart, and the hours and payment methods of legitimate sales."""

from __future__ import annotations

import numpy as np

from synthpipe.clock import HOURS_PER_DAY
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.measures.frame import SalesFrame, TransactionFrame
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import CHANNELS, IN_STORE, SALE, TRANSACTION_TYPES


def calendar_rows(ctx: ValidationContext, txn: TransactionFrame) -> np.ndarray:
    """Per transaction: on a calendar day, with a known channel and type."""
    day = txn.day
    return np.asarray((day >= 0) & (day < ctx.days) & (txn.channel >= 0) & (txn.kind >= 0))


def volume(ctx: ValidationContext, frame: SalesFrame) -> Stats:
    """Legitimate transactions per (day, channel, type), reorders per (day, channel), and
    the ordinary sales per (channel, hour) and (channel, payment method)."""
    txn = frame.txn
    stats: Stats = {}
    day = txn.day
    legit = calendar_rows(ctx, txn) & ~txn.is_fraud
    channels, kinds = len(CHANNELS), len(TRANSACTION_TYPES)
    cell = (day * channels + txn.channel) * kinds + txn.kind
    stats[st.TRANSACTIONS_DAILY_LEGIT] = np.bincount(
        cell[legit], minlength=ctx.days * channels * kinds
    ).reshape(ctx.days, channels, kinds)
    reorder = legit & txn.replenish
    stats[st.TRANSACTIONS_DAILY_REORDERS] = np.bincount(
        (day * channels + txn.channel)[reorder], minlength=ctx.days * channels
    ).reshape(ctx.days, channels)
    sales = legit & ~txn.replenish & (txn.kind == SALE)
    hour_cell = txn.channel * HOURS_PER_DAY + txn.hour  # hour is 0..23 by construction
    stats[st.TRANSACTIONS_HOURS] = np.bincount(
        hour_cell[sales], minlength=channels * HOURS_PER_DAY
    ).reshape(channels, HOURS_PER_DAY)
    payments = len(ctx.payments)
    payment_ok = sales & (txn.payment >= 0)
    pay_cell = txn.channel * payments + txn.payment
    stats[st.TRANSACTIONS_PAYMENTS] = np.bincount(
        pay_cell[payment_ok], minlength=channels * payments
    ).reshape(channels, payments)
    in_store = sales & (txn.channel == IN_STORE) & ~txn.store_null
    stats[st.TRANSACTIONS_IN_STORE_SALES] = int(np.count_nonzero(in_store))
    return stats
