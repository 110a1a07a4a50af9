"""What a family of checks declares, and the helpers several families share.

A family is one module of ``synthpipe.validate.checks`` that defines ``FAMILY``: the
function that judges merged statistics, and a ``CheckInfo`` for every check it can emit
(its name, group, one line of what it tests, and the statistics it reads). The package
finds the modules itself; ``evaluate`` runs the families in order, ``synthpipe validate
--list`` prints the declarations, and the tests hold the two to each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthpipe.model.fraud import fraud_schedule
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import Check, at_most, chi_square_p, tvd, tvd_threshold
from synthpipe.validate.listing import Listing
from synthpipe.validate.statistics import StatKey, Stats

# Slack added to sampling tolerances, for parts of an expectation that are approximate.
PROFILE_SLACK = 0.004  # weekday / month / hour shapes: expectation exact up to activity noise
DAILY_SLACK = 0.01  # 366 daily cells: activity noise of customers signing up mid-year
MIX_SLACK = 0.002  # categorical mixes with exact expectations
MIN_COUNT_TOLERANCE = 1.0  # a gate on a count of lines is never tighter than one line
KS_SLACK = 0.002
MEDIAN_SLACK = 0.01  # relative: the median is read from a histogram of 0.01 log10 bins
VOLUME_SLACK = 0.01  # relative error of total volume: rounding of the calendar's parts
MIN_SIGNATURE_EVENTS = 10  # fewer transactions than this: the signature is not judged

GROUPS = ("integrity", "fidelity", "fraud", "signature", "leakage", "reference")
Judge = Callable[[ValidationContext, Stats, Listing], list[Check]]


@dataclass(frozen=True)
class CheckInfo:
    """One check as declared: the name it reports under, its group, one line of what it
    tests, and the statistics it reads."""

    name: str
    group: str
    summary: str
    reads: tuple[StatKey, ...] = ()
    only_when: str = ""  # the condition for the check to be judged, when it has one


@dataclass(frozen=True)
class CheckFamily:
    """A module's checks: ``judge`` emits Check results for the declared ``checks``."""

    order: int  # families run, and the report lists them, in this order
    judge: Judge
    checks: tuple[CheckInfo, ...]

    def reads(self) -> set[StatKey]:
        """Every statistic the family's checks read."""
        return {key for check in self.checks for key in check.reads}


def integrity(name: str, summary: str, *reads: StatKey, only_when: str = "") -> CheckInfo:
    """Declare an integrity check (a count of violations that must be zero)."""
    return CheckInfo(name, "integrity", summary, reads, only_when)


def fidelity(name: str, summary: str, *reads: StatKey, only_when: str = "") -> CheckInfo:
    """Declare a fidelity check (the data against the spec's distributions)."""
    return CheckInfo(name, "fidelity", summary, reads, only_when)


def fraud(name: str, summary: str, *reads: StatKey, only_when: str = "") -> CheckInfo:
    """Declare a fraud-rate check."""
    return CheckInfo(name, "fraud", summary, reads, only_when)


def stat(stats: Stats, key: StatKey, default: Any = 0) -> Any:
    """A merged statistic, or ``default`` when no file contributed it."""
    return stats.get(key, default)


def ordinary_daily(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(days, channels, types) legitimate transactions of the ordinary processes: all
    legitimate ones less the staples' reorders (sales), which have checks of their own."""
    daily = np.asarray(stat(stats, st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    reorders = np.asarray(stat(stats, st.TRANSACTIONS_DAILY_REORDERS, np.zeros((ctx.days, 2))))
    ordinary = daily.astype(np.float64).copy()
    ordinary[:, :, 0] -= reorders
    return ordinary


def expected_fraud_daily(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(days, types) fraud transactions the events are placed on: each day's legitimate
    transactions x rate / (1 - rate) x the mix in force that day (``fraud.drift``)."""
    fraud = ctx.spec.fraud
    daily = np.asarray(stat(stats, st.TRANSACTIONS_DAILY_LEGIT, np.zeros((ctx.days, 2, 2))))
    odds = fraud.odds()
    schedule = fraud_schedule(ctx.spec, ctx.dates)
    return np.asarray(daily.sum(axis=(1, 2))[:, None] * odds * schedule.shares)


def tvd_check(
    name: str,
    observed: np.ndarray,
    expected: np.ndarray,
    n: float,
    slack: float,
    explanation: str,
    group: str = "fidelity",
) -> Check:
    """Total variation distance of observed counts from expected weights, gated at the
    sample size (chi-squared p-value beside)."""
    value = tvd(observed, expected)
    return at_most(
        name,
        group,
        "TVD",
        value,
        tvd_threshold(n, expected, slack),
        explanation,
        chi_square_p(observed, expected),
    )


def histogram_median(hist: np.ndarray, edges: np.ndarray) -> float:
    """Median of a binned sample, interpolated within its bin (under/overflow cells ends)."""
    return histogram_quantile(hist, edges, 0.5)


def histogram_quantile(hist: np.ndarray, edges: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a binned sample, interpolated within its bin."""
    cumulative = np.cumsum(hist)
    half = cumulative[-1] * q
    cell = int(np.searchsorted(cumulative, half, side="left"))
    if cell == 0 or cell >= edges.shape[0]:
        return float(edges[min(max(cell - 1, 0), edges.shape[0] - 1)])
    below = cumulative[cell - 1]
    fraction = (half - below) / max(hist[cell], 1)
    return float(edges[cell - 1] + fraction * (edges[cell] - edges[cell - 1]))
