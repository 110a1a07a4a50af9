"""Checks of the observed labels (``fraud_reported``, ``fraud_reported_at``): each
typology's report rate and delay, friendly fraud's, and the columns' consistency. See
``synthpipe.model.labels`` for the process."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.fraud.base import ReportDelay
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    KS_SLACK,
    CheckFamily,
    CheckInfo,
    fidelity,
    fraud,
    integrity,
    stat,
)
from synthpipe.validate.checks.fraud import rate_check
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import (
    Check,
    at_most,
    ks_distance,
    ks_p_value,
    ks_threshold,
    normal_cdf,
    zero,
)
from synthpipe.validate.measures.labels import LOG_DELAY_EDGES
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import FRAUD_TYPES

MIN_REPORTS = 20  # fewer reports than this in a group: its delay is not judged
FRIENDLY = "friendly"  # the delay histogram's last row: legitimate sales disputed
LN_10 = math.log(10.0)


def label_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Consistency, report rates and report delays against the spec."""
    fraud_spec = ctx.spec.fraud
    types = len(FRAUD_TYPES)
    reported = np.asarray(stat(stats, st.LABELS_FRAUD_REPORTED, np.zeros(types)), np.float64)
    rows = np.asarray(stat(stats, st.LABELS_FRAUD_ROWS, np.zeros(types)), np.float64)
    hist = np.asarray(
        stat(stats, st.LABELS_DELAY_HIST, np.zeros((types + 1, LOG_DELAY_EDGES.shape[0] + 1)))
    )
    checks = [zero(CONSISTENT.name, stat(stats, st.LABELS_INCONSISTENT), CONSISTENT.summary)]
    for t, name in enumerate(FRAUD_TYPES):
        if rows[t] <= 0:
            continue
        params = getattr(fraud_spec.types, name)
        checks.append(
            rate_check(
                f"labels.report_rate_{name}",
                reported[t],
                rows[t],
                params.report_rate,
                f"{name} transactions ever reported",
                1.0,
            )
        )
    checks.append(
        rate_check(
            "labels.friendly_rate",
            float(stat(stats, st.LABELS_FRIENDLY_REPORTED)),
            float(stat(stats, st.LABELS_LEGIT_SALES)),
            fraud_spec.friendly_rate,
            "legitimate sales disputed as fraud (friendly fraud)",
            1.0,
        )
    )
    delays = [(name, getattr(fraud_spec.types, name).report_delay) for name in FRAUD_TYPES]
    for row, (name, delay) in enumerate([*delays, (FRIENDLY, fraud_spec.friendly_delay)]):
        if hist[row].sum() >= MIN_REPORTS:
            checks.append(_delay_check(name, hist[row], delay))
    return checks


def delay_cdf(delay: ReportDelay, log10_days: np.ndarray) -> np.ndarray:
    """P(delay <= 10^x days) of the log-normal report delay."""
    if delay.sigma <= 0:
        return np.asarray(log10_days >= math.log10(delay.median_days), dtype=np.float64)
    z = (log10_days * LN_10 - math.log(delay.median_days)) / delay.sigma
    return normal_cdf(z)


def _delay_check(name: str, hist: np.ndarray, delay: ReportDelay) -> Check:
    n = float(hist.sum())
    distance = ks_distance(hist, delay_cdf(delay, LOG_DELAY_EDGES))
    return at_most(
        f"labels.report_delay_{name}",
        "fidelity",
        "KS D",
        distance,
        ks_threshold(n, KS_SLACK),
        f"report delays of {name} vs log-normal, median {delay.median_days:g} days,"
        f" sigma {delay.sigma:g}",
        ks_p_value(distance, n),
    )


_RATES = (st.LABELS_FRAUD_REPORTED, st.LABELS_FRAUD_ROWS)
CONSISTENT = integrity(
    "labels.consistent",
    "fraud_reported_at is set exactly when fraud_reported, never before ts, and no"
    " legitimate refund is reported",
    st.LABELS_INCONSISTENT,
)
CHECKS: tuple[CheckInfo, ...] = (
    CONSISTENT,
    *(
        fraud(
            f"labels.report_rate_{name}", f"share of {name} ever reported vs report_rate", *_RATES
        )
        for name in FRAUD_TYPES
    ),
    fraud(
        "labels.friendly_rate",
        "share of legitimate sales disputed as fraud vs fraud.friendly_rate",
        st.LABELS_FRIENDLY_REPORTED,
        st.LABELS_LEGIT_SALES,
    ),
    *(
        fidelity(
            f"labels.report_delay_{name}",
            f"report delays of {name} vs the spec's log-normal",
            st.LABELS_DELAY_HIST,
            only_when=f"at least {MIN_REPORTS} reports",
        )
        for name in (*FRAUD_TYPES, FRIENDLY)
    ),
)

FAMILY = CheckFamily(
    order=65,
    judge=lambda ctx, stats, _listing: label_checks(ctx, stats),
    checks=CHECKS,
)
