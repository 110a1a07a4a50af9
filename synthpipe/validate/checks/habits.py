"""Checks of the habits family: the legitimate behaviour that looks like fraud
(``sales.habits``): same-day repeats and their gaps, and gifts shipped to another region.
Night shopping and splurges are judged inside the hour-profile and basket-size checks,
whose expectations include them."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.model.sales import MAX_REPEAT_GAP_MINUTES
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import (
    MIX_SLACK,
    CheckFamily,
    CheckInfo,
    fidelity,
    stat,
)
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import GATE_SIGMAS, Check, at_most, two_sided_normal_p
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import CHANNELS

MIN_REPEATS = 50  # fewer repeats than this: their gap is not judged
# the gap is measured on the customer-days of a repeat and its own sale alone (another sale
# that day would undercut it), so its law is exact: the slack is for the median read from
# whole-minute cells
GAP_SLACK = 0.01
LEGIT_ONLINE = "legit_online"


def binomial_share_check(name: str, what: str, hits: float, n: float, p: float) -> Check:
    """|hits / n - p| against GATE_SIGMAS binomial errors plus MIX_SLACK."""
    observed = hits / max(n, 1.0)
    spread = math.sqrt(p * (1.0 - p) / max(n, 1.0))
    return at_most(
        name,
        "fidelity",
        "|observed - expected| share",
        abs(observed - p),
        GATE_SIGMAS * spread + MIX_SLACK,
        f"{what}: {observed:.4f} observed vs {p:.4f} expected ({n:,.0f} sales)",
        two_sided_normal_p((observed - p) / spread) if spread > 0 else 1.0,
    )


def median_from_minutes(hist: np.ndarray) -> float:
    """The median of whole-minute counts (cell k: k to k + 1 minutes), interpolated."""
    total = float(hist.sum())
    cumulative = np.cumsum(hist)
    cell = int(np.searchsorted(cumulative, total / 2.0))
    before = float(cumulative[cell - 1]) if cell > 0 else 0.0
    return cell + (total / 2.0 - before) / max(float(hist[cell]), 1.0)


def habit_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Repeat share, repeat gap and gift shipping against ``sales.habits``."""
    habits = ctx.spec.sales.habits
    kinds = np.asarray(stat(stats, st.HABITS_SALES_BY_KIND, np.zeros((len(CHANNELS), 2))))
    first, repeats = float(kinds[:, 0].sum()), float(kinds[:, 1].sum())
    checks = [
        binomial_share_check(
            "transactions.repeat_same_day",
            "repeats per first sale",
            repeats,
            first,
            habits.repeat_same_day,
        )
    ]
    hist = np.asarray(stat(stats, st.HABITS_REPEAT_GAP_HIST, np.zeros(MAX_REPEAT_GAP_MINUTES + 2)))
    if hist.sum() >= MIN_REPEATS:
        expected = habits.repeat_gap_minutes * math.log(2.0)
        observed = median_from_minutes(hist)
        # the median of n exponential draws has a relative spread of 1 / (ln 2 sqrt(n))
        spread = 1.0 / (math.log(2.0) * math.sqrt(float(hist.sum())))
        error = abs(observed / expected - 1.0)
        checks.append(
            at_most(
                "transactions.repeat_gap",
                "fidelity",
                "|observed / expected - 1| median gap",
                error,
                GATE_SIGMAS * spread + GAP_SLACK,
                f"median minutes from a repeat to its sale, on the customer-days of just the"
                f" two ({hist.sum():,.0f} repeats): {observed:.1f} observed vs {expected:.1f}"
                " (repeat_gap_minutes x ln 2)",
                two_sided_normal_p((observed / expected - 1.0) / spread),
            )
        )
    if len(ctx.regions) > 1:
        online = float(stat(stats, st.signature(LEGIT_ONLINE, "n")))
        away = float(stat(stats, st.signature(LEGIT_ONLINE, "ship_away")))
        checks.append(
            binomial_share_check(
                "transactions.gift_shipping",
                "online sales shipped outside the home region",
                away,
                online,
                habits.gift_shipping,
            )
        )
    return checks


CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "transactions.repeat_same_day",
        "same-day repeats per first sale vs sales.habits.repeat_same_day",
        st.HABITS_SALES_BY_KIND,
    ),
    fidelity(
        "transactions.repeat_gap",
        "median minutes from a repeat to its sale, on the customer-days of just the two, vs"
        " repeat_gap_minutes x ln 2",
        st.HABITS_REPEAT_GAP_HIST,
        only_when=f"at least {MIN_REPEATS} repeats",
    ),
    fidelity(
        "transactions.gift_shipping",
        "online sales shipped outside the home region vs sales.habits.gift_shipping",
        st.signature(LEGIT_ONLINE, "n"),
        st.signature(LEGIT_ONLINE, "ship_away"),
        only_when="the country has several regions",
    ),
)

FAMILY = CheckFamily(
    order=45,
    judge=lambda ctx, stats, _listing: habit_checks(ctx, stats),
    checks=CHECKS,
)
