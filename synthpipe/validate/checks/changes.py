"""Checks of customers that change (``synthpipe.model.changes``): the history is a valid
SCD type 2 table whose current versions are the customers snapshot; the change feed
holds exactly the history's changes, each in its month's partition; and the changes of
each kind happen at the spec's rates, the income steps with the spec's spread."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as distributions

from synthpipe.validate import statistics as st
from synthpipe.validate.changes import CHANGE_KINDS, JOIN, LEAVE
from synthpipe.validate.checks.base import CheckFamily, CheckInfo, fidelity, integrity, stat
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import GATE_SIGMAS, Check, at_most, zero
from synthpipe.validate.merge import Stats

RATE_SLACK = 0.01  # relative: the expectation is exact; this covers float sums only
MIN_INCOME_STEPS = 30  # fewer income revisions than this: their spread is not judged
# the spec parameter behind each kind's check, as the report names it
RATE_PARAMETERS = {
    "move": "move_rate",
    "income": "income_change_rate",
    "loyalty_join": "loyalty_join_rate",
    "loyalty_leave": "loyalty_leave_rate",
    "email": "email_change_rate",
}


def rate_check(kind: int, stats: Stats) -> Check:
    """Changes of one kind, all blocks: observed against sum P (per customer-month), the
    gate GATE_SIGMAS x sqrt(sum P (1 - P)) (a Poisson-binomial count)."""
    name = CHANGE_KINDS[kind]
    zeros = np.zeros(len(CHANGE_KINDS))
    observed = float(np.asarray(stat(stats, st.CUSTOMER_CHANGES_OBSERVED, zeros))[kind])
    expected = float(np.asarray(stat(stats, st.CUSTOMER_CHANGES_EXPECTED, zeros))[kind])
    variance = float(np.asarray(stat(stats, st.CUSTOMER_CHANGES_VARIANCE, zeros))[kind])
    gate = GATE_SIGMAS * math.sqrt(max(variance, 1.0)) + RATE_SLACK * expected
    return at_most(
        f"customer_history.{name}_rate",
        "fidelity",
        "|observed - expected| / tolerance",
        abs(observed - expected) / gate,
        1.0,
        f"{name} changes: {observed:,.0f} observed vs {expected:,.1f} expected from"
        f" customers.changes.{RATE_PARAMETERS[name]}",
    )


def income_step_check(ctx: ValidationContext, stats: Stats) -> Check | None:
    """The log income steps' mean square against sigma^2: n S / sigma^2 ~ chi-squared(n).
    Rounding to whole currency units adds a little; the gate is two-sided at 1e-9."""
    count, squares = np.asarray(stat(stats, st.CUSTOMER_INCOME_STEPS, np.zeros(2)), float)
    sigma = ctx.spec.customers.changes.income_change_sigma
    if count < MIN_INCOME_STEPS or sigma <= 0:
        return None
    tail = distributions.norm.sf(GATE_SIGMAS)
    low = distributions.chi2.ppf(tail, count) / count
    high = distributions.chi2.isf(tail, count) / count
    ratio = squares / count / (sigma * sigma)
    distance = max(low - ratio, ratio - high, 0.0) / (high - low)
    return at_most(
        "customer_history.income_step",
        "fidelity",
        "distance outside the chi-squared band / its width",
        distance,
        0.0,
        f"mean squared log income step {squares / count:.5f} vs"
        f" customers.changes.income_change_sigma^2 = {sigma * sigma:.5f} over {count:,.0f}"
        f" revisions (band {low:.3f}..{high:.3f} x sigma^2)",
    )


def feed_check(stats: Stats) -> Check:
    """The feed's updates by kind and its new rows, summed over months, against the
    history's changes and the customers signed up by calendar.end."""
    zeros = np.zeros(len(CHANGE_KINDS))
    history = np.asarray(stat(stats, st.CUSTOMER_CHANGES_OBSERVED, zeros), float).copy()
    history[JOIN] += history[LEAVE]  # the feed names the column, not the direction
    history[LEAVE] = 0.0
    fed = np.asarray(stat(stats, st.CUSTOMER_CHANGES_FED, zeros), float)
    new_rows = int(stat(stats, st.CUSTOMER_CHANGES_NEW_ROWS))
    new_expected = int(stat(stats, st.CUSTOMER_CHANGES_NEW_EXPECTED))
    missing = int(np.abs(history - fed).sum()) + abs(new_rows - new_expected)
    return zero(
        "customer_changes.matches_history",
        missing,
        f"feed updates by kind {fed.astype(int).tolist()} vs history"
        f" {history.astype(int).tolist()}; snapshot and insert rows {new_rows:,} vs"
        f" {new_expected:,} customers signed up",
    )


def change_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Every check of the family."""
    checks = [
        zero(
            "customer_history.versions",
            int(stat(stats, st.CUSTOMER_HISTORY_BROKEN)),
            "versions run 0, 1, ... per customer; version 0 begins on the signup day; each"
            " valid_to is the next valid_from; exactly the last version is current",
        ),
        zero(
            "customer_history.current_is_snapshot",
            int(stat(stats, st.CUSTOMER_HISTORY_NOT_SNAPSHOT)),
            "every customer's current version equals its customers row, column by column",
        ),
        feed_check(stats),
        zero(
            "customer_changes.in_month",
            int(stat(stats, st.CUSTOMER_CHANGES_OUTSIDE_MONTH)),
            "every change of the feed is in its month's partition, inside the calendar",
        ),
    ]
    checks += [rate_check(kind, stats) for kind in range(len(CHANGE_KINDS))]
    step = income_step_check(ctx, stats)
    if step is not None:
        checks.append(step)
    return checks


_COUNTS = (
    st.CUSTOMER_CHANGES_OBSERVED,
    st.CUSTOMER_CHANGES_EXPECTED,
    st.CUSTOMER_CHANGES_VARIANCE,
)
CHECKS: tuple[CheckInfo, ...] = (
    integrity(
        "customer_history.versions",
        "customer_history is SCD type 2: versions 0, 1, ... from signup, each valid_to the"
        " next valid_from, exactly the last current",
        st.CUSTOMER_HISTORY_BROKEN,
    ),
    integrity(
        "customer_history.current_is_snapshot",
        "each customer's current version equals its customers row",
        st.CUSTOMER_HISTORY_NOT_SNAPSHOT,
    ),
    integrity(
        "customer_changes.matches_history",
        "the change feed's updates by kind and its snapshot and insert rows equal the"
        " history's changes and the customers signed up",
        st.CUSTOMER_CHANGES_OBSERVED,
        st.CUSTOMER_CHANGES_FED,
        st.CUSTOMER_CHANGES_NEW_ROWS,
        st.CUSTOMER_CHANGES_NEW_EXPECTED,
    ),
    integrity(
        "customer_changes.in_month",
        "each change is in its month's partition",
        st.CUSTOMER_CHANGES_OUTSIDE_MONTH,
    ),
    *(
        fidelity(
            f"customer_history.{name}_rate",
            f"{name} changes vs sum over customer-months of 1 - exp(-customers.changes."
            f"{RATE_PARAMETERS[name]} x days signed up / 365.25)",
            *_COUNTS,
        )
        for name in CHANGE_KINDS
    ),
    fidelity(
        "customer_history.income_step",
        "mean squared log income step vs customers.changes.income_change_sigma^2"
        " (chi-squared band)",
        st.CUSTOMER_INCOME_STEPS,
        only_when=f"{MIN_INCOME_STEPS}+ income revisions and a positive sigma",
    ),
)

FAMILY = CheckFamily(
    order=25,
    judge=lambda ctx, stats, _listing: change_checks(ctx, stats),
    checks=CHECKS,
)
