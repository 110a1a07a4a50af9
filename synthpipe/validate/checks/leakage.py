"""The leakage audit's checks: no artefact of how a column was written (an id's bits and
moduli, a timestamp's sub-second parts, the cents of money) predicts ``is_fraud``. One
check per audited column; each gates its worst artefact's target-encoded ROC AUC on the
later part of the calendar (see ``synthpipe.validate.leakage``) and names it. The
behavioural signals are listed in the report's ``leakage`` section, never gated."""

from __future__ import annotations

import math
from typing import Any

from synthpipe.validate import statistics as st
from synthpipe.validate.checks.base import CheckFamily, CheckInfo, stat
from synthpipe.validate.gates import Check, at_most
from synthpipe.validate.leakage import AUC_GATE, MIN_POSITIVES, NOISE_SES
from synthpipe.validate.leakage_transforms import ARTEFACT, TRANSFORMS
from synthpipe.validate.merge import Stats

GROUP = "leakage"
STATISTIC = "ROC AUC"
SHOWN = 3  # artefacts named in a check's explanation


def audited_column(column: str) -> str:
    """The check a transform's column belongs to (line items' columns share one)."""
    return column.split(".")[0]


COLUMNS = tuple(dict.fromkeys(audited_column(t.column) for t in TRANSFORMS if t.kind == ARTEFACT))


def _describe(record: dict[str, Any]) -> str:
    how = "" if record["gated_value"] == record["roc_auc"] else f" (less {NOISE_SES:g} SE)"
    return (
        f"{record['name']} {record['roc_auc']:.3f} ± {record['se']:.3f}{how},"
        f" {record['later_fraud']} later fraud rows ({record['effective_fraud']:.0f} effective)"
    )


def leakage_checks(stats: Stats) -> list[Check]:
    """One check per audited column: its artefacts' highest gated AUC against AUC_GATE."""
    section = stat(stats, st.LEAKAGE_AUDIT, {}) or {}
    if "note" in section:  # the sample could not be read: a leak is not ruled out
        return [_check(column, math.nan, f"not audited: {section['note']}") for column in COLUMNS]
    records = [r for r in section.get("transforms", []) if r["kind"] == ARTEFACT]
    checks = []
    for column in COLUMNS:
        mine = [r for r in records if audited_column(r["column"]) == column]
        scored = sorted(
            (r for r in mine if r["gated_value"] is not None),
            key=lambda r: -float(r["gated_value"]),
        )
        if not scored:
            continue
        failing = [r for r in scored if not r["passed"]]
        shown = failing or scored
        explanation = ("above the gate: " if failing else "highest: ") + "; ".join(
            _describe(r) for r in shown[:SHOWN]
        )
        if len(shown) > SHOWN:  # the other failing ones by name, else how many passed
            rest = [r["name"] for r in shown[SHOWN:]]
            explanation += f"; also {', '.join(rest)}" if failing else f"; {len(rest)} more"
        checks.append(_check(column, float(scored[0]["gated_value"]), explanation))
    return checks


def _check(column: str, value: float, explanation: str) -> Check:
    """A column's verdict (a NaN value, nothing audited, fails)."""
    return at_most(f"leakage.{column}", GROUP, STATISTIC, value, AUC_GATE, explanation)


CHECKS: tuple[CheckInfo, ...] = tuple(
    CheckInfo(
        f"leakage.{column}",
        GROUP,
        f"no artefact of {column} ("
        + ", ".join(
            t.name.split(".", 1)[-1]
            for t in TRANSFORMS
            if t.kind == ARTEFACT and audited_column(t.column) == column
        )
        + f") predicts is_fraud: target-encoded ROC AUC on the later calendar <= {AUC_GATE:g}",
        (st.LEAKAGE_AUDIT,),
        only_when=f"at least {MIN_POSITIVES} fraud rows in the sample's earlier and later parts",
    )
    for column in COLUMNS
)

FAMILY = CheckFamily(
    order=75,
    judge=lambda _ctx, stats, _listing: leakage_checks(stats),
    checks=CHECKS,
)
