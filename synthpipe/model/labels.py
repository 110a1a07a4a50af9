"""Labels as a process: which transactions are ever reported as fraud, and when.

``is_fraud`` is the truth. ``fraud_reported`` is what a detection team would learn: a
fraud transaction of type t is reported with probability ``report_rate_t``; a legitimate
sale is disputed by its own customer with probability ``fraud.friendly_rate`` ("friendly
fraud", reported but not fraud); refunds never are. A report arrives
``median_days x exp(sigma x Z)`` days after the transaction (Z standard normal: a
log-normal delay with that median), as ``fraud_reported_at``. Each process (a channel's
sales, refunds, each fraud type) draws from its own streams keyed by its id sub-range, so
adding a typology moves no other transaction's label.
"""

from __future__ import annotations

import numpy as np

from synthpipe.clock import MICROS_PER_DAY
from synthpipe.fraud.base import ReportDelay
from synthpipe.model.blockmonth import NOT_FRAUD, BlockMonth, TransactionSet
from synthpipe.seeds import Entity, Stream
from synthpipe.vocabulary import FRAUD_TYPES, SALE


def report_parameters(ctx: BlockMonth, part: TransactionSet) -> tuple[float, ReportDelay]:
    """Report probability and delay of a process: its typology's, or friendly fraud's for
    legitimate sales (refunds: never reported)."""
    fraud = ctx.spec.fraud
    code = int(part.fraud[0])
    if code != NOT_FRAUD:
        params = getattr(fraud.types, FRAUD_TYPES[code])
        return float(params.report_rate), params.report_delay
    if int(part.kind[0]) == SALE:
        return float(fraud.friendly_rate), fraud.friendly_delay
    return 0.0, fraud.friendly_delay


def report_labels(ctx: BlockMonth, parts: list[TransactionSet]) -> tuple[np.ndarray, np.ndarray]:
    """Per transaction, in the parts' order: reported or not, and the report's delay in
    microseconds (0 when not reported)."""
    reported, delays = [], []
    for part in parts:
        key = int(part.subrange[0])
        rate, delay = report_parameters(ctx, part)
        u = ctx.stream(Entity.FRAUD, Stream.LABEL_REPORT, key).random(part.size)
        z = ctx.stream(Entity.FRAUD, Stream.LABEL_DELAY, key).standard_normal(part.size)
        is_reported = u < rate
        days = delay.median_days * np.exp(delay.sigma * z)
        reported.append(is_reported)
        delays.append(np.where(is_reported, np.round(days * MICROS_PER_DAY), 0).astype(np.int64))
    if not reported:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    return np.concatenate(reported), np.concatenate(delays)
