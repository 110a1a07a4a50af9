"""Checks of the associations family: the planted basket pairs
(``synthpipe.model.associations``). Complements: how often an anchor line brings its
partner. Substitutes: how often a basket holding a pair twice holds both members."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.model.associations import expected_mixed_pairs
from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import MIX_SLACK, CheckFamily, CheckInfo, fidelity, stat
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import GATE_SIGMAS, Check, at_most, two_sided_normal_p
from synthpipe.validate.merge import Stats

MIN_ANCHOR_LINES = 100  # fewer anchor lines than this: the attach rate is not judged
MIN_SUBSTITUTE_BASKETS = 20  # fewer baskets with a pair twice: not judged


def complement_check(ctx: ValidationContext, stats: Stats) -> Check | None:
    """Anchor lines followed by their partner, against a + (1 - a) r per pair, a its
    attach probability (from ``products.complements.lift``) and r the partner's rate
    right after any other drawn line (it can follow by itself)."""
    k = ctx.pairs.complements
    anchors = np.asarray(stat(stats, st.ASSOCIATIONS_ANCHOR_LINES, np.zeros(k)), float)
    brought = np.asarray(stat(stats, st.ASSOCIATIONS_ANCHOR_BROUGHT, np.zeros(k)), float)
    others = float(stat(stats, st.ASSOCIATIONS_OTHER_LINES, 0))
    followed = np.asarray(stat(stats, st.ASSOCIATIONS_OTHER_FOLLOWED, np.zeros(k)), float)
    n = float(anchors.sum())
    if k == 0 or n < MIN_ANCHOR_LINES:
        return None
    attach = ctx.pairs.attach
    by_itself = followed / max(others, 1.0)
    probability = attach + (1.0 - attach) * by_itself
    expected = float((anchors * probability).sum()) / n
    observed = float(brought.sum()) / n
    spread = math.sqrt(float((anchors * probability * (1.0 - probability)).sum())) / n
    return at_most(
        "line_items.complement_attach",
        "fidelity",
        "|observed - expected| share",
        abs(observed - expected),
        GATE_SIGMAS * spread + MIX_SLACK,
        f"anchor lines followed by their partner: {observed:.4f} observed vs {expected:.4f}"
        f" expected ({n:,.0f} anchor lines, {k} pairs; attach {attach.min():.3f} to"
        f" {attach.max():.3f} for lift {ctx.spec.products.complements.lift:g})",
        two_sided_normal_p((observed - expected) / spread) if spread > 0 else 1.0,
    )


def substitute_check(ctx: ValidationContext, stats: Stats) -> Check | None:
    """Pairs of different members among a basket's lines of a substitute pair, against
    ``expected_mixed_pairs``; a basket's pairs share its first member, so the spread is
    counted per basket."""
    k = ctx.pairs.substitutes
    later = np.asarray(stat(stats, st.ASSOCIATIONS_SUBSTITUTE_LATER, np.zeros(k)), float)
    later_pairs = np.asarray(
        stat(stats, st.ASSOCIATIONS_SUBSTITUTE_LATER_PAIRS, np.zeros(k)), float
    )
    mixed = float(np.sum(stat(stats, st.ASSOCIATIONS_SUBSTITUTE_MIXED, np.zeros(k))))
    baskets = float(np.sum(stat(stats, st.ASSOCIATIONS_SUBSTITUTE_BASKETS, np.zeros(k))))
    if k == 0 or baskets < MIN_SUBSTITUTE_BASKETS:
        return None
    pairs = float((later + later_pairs).sum())
    exclusivity = ctx.spec.products.substitutes.exclusivity
    expected_pairs = expected_mixed_pairs(exclusivity, ctx.pairs.first_share, later, later_pairs)
    expected = float(expected_pairs.sum()) / pairs
    observed = mixed / pairs
    spread = math.sqrt(expected * (1.0 - expected) / baskets)
    return at_most(
        "line_items.substitute_mixed_share",
        "fidelity",
        "|observed - expected| share",
        abs(observed - expected),
        GATE_SIGMAS * spread + MIX_SLACK,
        f"line pairs of a substitute pair in one basket that mix its members: {observed:.4f}"
        f" observed vs {expected:.4f} expected ({pairs:,.0f} pairs in {baskets:,.0f} baskets,"
        f" exclusivity {exclusivity})",
        two_sided_normal_p((observed - expected) / spread) if spread > 0 else 1.0,
    )


def association_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """The complement and substitute checks that have enough lines to judge."""
    found = (complement_check(ctx, stats), substitute_check(ctx, stats))
    return [check for check in found if check is not None]


CHECKS: tuple[CheckInfo, ...] = (
    fidelity(
        "line_items.complement_attach",
        "anchor lines of the planted complement pairs followed by their partner vs"
        " the attach probability of products.complements.lift (plus the partner's own chance"
        " to follow)",
        st.ASSOCIATIONS_ANCHOR_LINES,
        st.ASSOCIATIONS_ANCHOR_BROUGHT,
        st.ASSOCIATIONS_OTHER_LINES,
        st.ASSOCIATIONS_OTHER_FOLLOWED,
        only_when=f"complement pairs and at least {MIN_ANCHOR_LINES} anchor lines",
    ),
    fidelity(
        "line_items.substitute_mixed_share",
        "pairs of a basket's lines of a planted substitute pair that mix its members vs"
        " products.substitutes.exclusivity",
        st.ASSOCIATIONS_SUBSTITUTE_LATER,
        st.ASSOCIATIONS_SUBSTITUTE_LATER_PAIRS,
        st.ASSOCIATIONS_SUBSTITUTE_MIXED,
        st.ASSOCIATIONS_SUBSTITUTE_BASKETS,
        only_when=f"substitute pairs and at least {MIN_SUBSTITUTE_BASKETS} baskets holding"
        " one twice",
    ),
)

FAMILY = CheckFamily(
    order=55,
    judge=lambda ctx, stats, _listing: association_checks(ctx, stats),
    checks=CHECKS,
)
