"""Checks of the signature family: each fraud typology shows its declared signature next to
legitimate traffic (the signatures themselves are declared in ``synthpipe.fraud``)."""

from __future__ import annotations

import math

import numpy as np

from synthpipe.fraud import TYPOLOGIES
from synthpipe.model.fraud import fraud_schedule
from synthpipe.validate import statistics as st
from synthpipe.validate.binning import LOG_AMOUNT_EDGES
from synthpipe.validate.checks.base import (
    MIN_SIGNATURE_EVENTS,
    CheckFamily,
    CheckInfo,
    expected_fraud_daily,
    histogram_quantile,
    stat,
)
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import (
    GATE_SIGMAS,
    Check,
    at_least,
)
from synthpipe.validate.merge import Stats
from synthpipe.vocabulary import FRAUD_TYPES

# --- fraud -----------------------------------------------------------------------------------


def share_gate(target: float, n: float) -> float:
    """A share gate at the sample's size: ``target`` less GATE_SIGMAS binomial errors."""
    return max(0.0, target - GATE_SIGMAS * math.sqrt(target * (1.0 - target) / max(n, 1.0)))


def signature_checks(ctx: ValidationContext, stats: Stats) -> list[Check]:
    """Each enabled fraud type shows its signature next to legitimate traffic.

    Share gates are the documented signature share less the sampling tolerance of the
    observed count; amount ratios compare means. A type with fewer than
    MIN_SIGNATURE_EVENTS transactions is not judged (stated in the report by its absence).
    """
    fraud = ctx.spec.fraud
    expected = expected_fraud_daily(ctx, stats)
    difficulty = fraud_schedule(ctx.spec, ctx.dates).difficulty
    multi_region = len(ctx.regions) > 1

    def mean_difficulty(kind: str) -> float:
        """The difficulty a type's transactions met on average (``fraud.drift``)."""
        weight = expected[:, FRAUD_TYPES.index(kind)]
        return float((weight * difficulty).sum() / weight.sum()) if weight.sum() > 0 else 0.0

    def get(group: str, feature: str) -> float:
        return float(stat(stats, st.signature(group, feature)))

    def share(group: str, feature: str) -> float:
        return get(group, feature) / max(get(group, "n"), 1.0)

    def median_amount(group: str, q: float = 0.5) -> float:
        hist = np.asarray(
            stat(stats, st.signature(group, "amount_hist"), np.zeros(LOG_AMOUNT_EDGES.shape[0] + 1))
        )
        if hist.sum() <= 0:
            return 0.0
        return float(10 ** histogram_quantile(hist, LOG_AMOUNT_EDGES, q))

    judged = {
        name: fraud.rate > 0
        and expected[:, FRAUD_TYPES.index(name)].sum() > 0
        and get(name, "n") >= MIN_SIGNATURE_EVENTS
        for name, typology in TYPOLOGIES.items()
        # a typology without signatures (fraud rings: ordinary one order at a time) reads none
        if typology.share_signatures or typology.amount_signatures
    }
    checks: list[Check] = []
    for kind, typology in TYPOLOGIES.items():
        params = getattr(fraud.types, kind)
        for signature in typology.share_signatures:
            if not judged[kind] or not signature.applies(params):
                continue
            if signature.needs_regions and not multi_region:
                continue
            feature, legit = signature.feature, signature.baseline
            # camouflaged events (fraud.difficulty) need not show it: a lower bound
            target = signature.target * (1.0 - mean_difficulty(kind))
            checks.append(
                at_least(
                    f"signature.{signature.name}",
                    "signature",
                    "share",
                    share(kind, feature),
                    share_gate(target, get(kind, "n")),
                    f"{kind}: {signature.what} (target {target:.2f};"
                    f" legitimate: {share(legit, feature):.3f})",
                )
            )
    for kind, typology in TYPOLOGIES.items():
        for amount in typology.amount_signatures:
            # camouflaged events buy ordinary goods, whose share moves the median by an
            # amount the check does not model: judged on uncamouflaged fraud only
            if not judged[kind] or difficulty.max(initial=0.0) > 0:
                continue
            legit = amount.baseline
            checks.append(
                at_least(
                    f"signature.{amount.name}",
                    "signature",
                    "median amount ratio",
                    median_amount(kind) / max(median_amount(legit), 1.0),
                    amount.ratio,
                    f"median {amount.what} vs median legitimate ({median_amount(legit) / 100:.2f})",
                )
            )
    return checks


_JUDGED = f"the type is enabled and has at least {MIN_SIGNATURE_EVENTS} transactions"
REGIONS = "; the country has several regions"
CHECKS: tuple[CheckInfo, ...] = (
    *(
        CheckInfo(
            f"signature.{signature.name}",
            "signature",
            f"{kind}: {signature.what} (share at least {signature.target:.2f} x (1 - difficulty))",
            (
                st.signature(kind, "n"),
                st.signature(kind, signature.feature),
                st.signature(signature.baseline, "n"),
                st.signature(signature.baseline, signature.feature),
                st.TRANSACTIONS_DAILY_LEGIT,
            ),
            only_when=_JUDGED + (REGIONS if signature.needs_regions else ""),
        )
        for kind, typology in TYPOLOGIES.items()
        for signature in typology.share_signatures
    ),
    *(
        CheckInfo(
            f"signature.{amount.name}",
            "signature",
            f"median {amount.what} at least {amount.ratio:g} x the median legitimate one",
            (
                st.signature(kind, "n"),
                st.signature(kind, "amount_hist"),
                st.signature(amount.baseline, "amount_hist"),
                st.TRANSACTIONS_DAILY_LEGIT,
            ),
            only_when=_JUDGED + "; fraud.difficulty 0 throughout the calendar",
        )
        for kind, typology in TYPOLOGIES.items()
        for amount in typology.amount_signatures
    ),
)

FAMILY = CheckFamily(
    order=70,
    judge=lambda ctx, stats, _listing: signature_checks(ctx, stats),
    checks=CHECKS,
)
