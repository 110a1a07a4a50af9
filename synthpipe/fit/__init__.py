"""``synthpipe fit``: estimate a spec's parameters from a real transaction sample.

Only aggregates leave the sample: the estimators (``synthpipe.fit.estimators``) see dense
customer codes and numbers, payment methods are matched to the spec's own names, and a
group (a channel, a payment method) seen by fewer than ``min_customers`` customers keeps
the default. Each estimate has an interval from a bootstrap over customers (Poisson(1)
weights per customer, from a seeded generator).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import yaml
from scipy import special

from synthpipe.clock import UNIX_EPOCH_DATE
from synthpipe.fit.estimators import ESTIMATORS, NOT_ESTIMATED, Estimator, Values
from synthpipe.fit.judge import JUDGE_CUSTOMERS, Comparison, compare, verdict, world_sample
from synthpipe.fit.sample import Sample, read_sample
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.spec.loader import set_dotted
from synthpipe.spec.models import ID_EPOCH, LAST_SUPPORTED_DAY

INTERVAL_LEVEL = 0.975  # a two-sided 95% interval
BOOTSTRAP_STREAM = 0x66697421  # "fit!": the bootstrap's generator, keyed by the seed
CYCLE_YEARS = 28  # the Gregorian calendar's weekdays repeat every 28 years (1901-2099)
CYCLE_DAYS = CYCLE_YEARS * 365 + CYCLE_YEARS // 4


@dataclass(frozen=True)
class Estimate:
    """One fitted spec field: its value, interval, source columns and method."""

    field: str
    value: object
    low: object
    high: object
    columns: tuple[str, ...]
    method: str


@dataclass
class FitResult:
    """The fitted spec, its estimates and the fields left at their defaults (and why)."""

    spec: Spec
    document: dict[str, Any]
    estimates: list[Estimate] = field(default_factory=list)
    defaults: dict[str, str] = field(default_factory=dict)
    customers: int = 0
    rows: int = 0
    privacy: dict[str, Any] | None = None  # what --epsilon released and spent
    notes: list[str] = field(default_factory=list)  # how the sample was read (offsets)
    judgement: list[Comparison] = field(default_factory=list)  # sample and world side by side
    verdict: str | None = None  # None: not judged (--epsilon, or judge=False)
    world_customers: int = 0  # customers of the world judged


def _normal(value: float, replicates: np.ndarray) -> tuple[float, float]:
    """value -/+ t(0.975, B - 1) x the replicates' standard deviation: the normal bootstrap
    interval, with Student's t for the few replicates a costly estimator affords (the
    percentiles of 10 replicates are little more than their extremes)."""
    spread = float(replicates.std(ddof=1)) * float(
        special.stdtrit(len(replicates) - 1, INTERVAL_LEVEL)
    )
    return value - spread, value + spread


def _bounds(value: object, replicates: list[object]) -> tuple[object, object]:
    """The 95% interval of an estimate (a number, a list or a dict of numbers) from its
    bootstrap replicates (``_normal`` per number)."""
    if isinstance(value, list):
        table = np.asarray(replicates, dtype=np.float64)
        pairs = [_normal(float(v), table[:, i]) for i, v in enumerate(value)]
        return [round(lo, 5) for lo, _ in pairs], [round(hi, 5) for _, hi in pairs]
    if isinstance(value, dict):
        keys = list(value)
        table = np.asarray(
            [[r.get(k, 0.0) for k in keys] for r in replicates if isinstance(r, dict)],
            dtype=np.float64,
        )
        pairs = [_normal(float(value[k]), table[:, i]) for i, k in enumerate(keys)]
        return (
            {k: round(lo, 5) for k, (lo, _) in zip(keys, pairs, strict=True)},
            {k: round(hi, 5) for k, (_, hi) in zip(keys, pairs, strict=True)},
        )
    if isinstance(value, (int, float)) and len(replicates) > 1:
        low, high = _normal(float(value), np.asarray(replicates, dtype=np.float64))
        return round(low, 6), round(high, 6)
    return value, value


def _run(
    estimator: Estimator, sample: Sample, spec: Spec, min_customers: int, rng: np.random.Generator
) -> tuple[Values, dict[str, list[object]]]:
    ones = np.ones(sample.customers)
    values = estimator.estimate(sample, ones, spec, min_customers)
    draws: dict[str, list[object]] = {k: [] for k in values}
    for _ in range(estimator.replicates):
        weights = rng.poisson(1.0, sample.customers).astype(np.float64)
        replicate = estimator.estimate(sample, weights, spec, min_customers)
        for key, value in replicate.items():
            if key in draws:
                draws[key].append(value)
    return values, draws


def fit(
    path: str,
    mapping: dict[str, str],
    overrides: list[str],
    min_customers: int,
    seed: int,
    epsilon: float | None = None,
    judge: bool = True,
) -> FitResult:
    """Read the sample at ``path``, estimate what it informs, and return a valid spec
    (with ``epsilon``, the count-based estimates only, under differential privacy). With
    ``judge`` (and no ``epsilon``: the comparison is of the sample's own aggregates), a
    small world of the fitted spec is generated and set beside the sample
    (``synthpipe.fit.judge``)."""
    sample = shifted_into_range(read_sample(path, mapping, min_customers))
    start = np.datetime64(int(sample.day.min()), "D")
    end = np.datetime64(int(sample.day.max()), "D")
    document: dict[str, Any] = {
        "seed": seed,
        "calendar": {"start": str(start), "end": str(end)},
        "customers": {"count": int(sample.customers)},
        "sales": {"replenishment": {"share": 0.0}},  # NOT_ESTIMATED says why
    }
    # the user's --set fields are known, not estimated: the estimators read them (a world
    # with holidays off divides out no holiday uplift), and they win in the written spec
    base = spec_from_dict(_overridden(copy.deepcopy(document), overrides))
    rng = np.random.Generator(np.random.PCG64([seed, BOOTSTRAP_STREAM]))
    result = FitResult(
        base, document, customers=sample.customers, rows=sample.rows, notes=list(sample.notes)
    )
    result.defaults.update(NOT_ESTIMATED)
    if epsilon is not None:
        _private(result, sample, base, epsilon, min_customers)
        return _finish(result, document, overrides)
    stage, staged = 0, base
    for estimator in sorted(ESTIMATORS, key=lambda e: e.stage):
        if estimator.stage != stage:
            # the estimates so far, with the user's --set, are what a later stage starts from
            stage = estimator.stage
            staged = spec_from_dict(_overridden(copy.deepcopy(document), overrides))
        if not estimator.applies(sample):
            missing = ", ".join(estimator.columns)
            for name in estimator.fields:
                result.defaults[name] = f"default: not in the sample (needs {missing})"
            continue
        values, draws = _run(estimator, sample, staged, min_customers, rng)
        for name in estimator.fields:
            if not any(_matches(name, key) for key in values):
                result.defaults[name] = (
                    f"default: not informed (fewer than {min_customers} customers, or too few days)"
                )
        if estimator.stage:  # it refines what an earlier one estimated: its value stands
            result.estimates = [e for e in result.estimates if e.field not in values]
        for key, value in values.items():
            set_dotted(document, key, value)
            low, high = _bounds(value, draws[key]) if draws.get(key) else (value, value)
            result.estimates.append(
                Estimate(key, value, low, high, estimator.columns, estimator.name)
            )
    estimated = [e.field for e in result.estimates]
    for name in [n for n in result.defaults if any(_matches(n, f) for f in estimated)]:
        del result.defaults[name]  # another estimator set it
    result = _finish(result, document, overrides)
    if judge:
        world = world_sample(result.spec)
        result.judgement = compare(sample, world)
        result.verdict = verdict(result.judgement)
        result.world_customers = min(result.spec.customers.count, JUDGE_CUSTOMERS)
    return result


def shifted_into_range(sample: Sample) -> Sample:
    """The sample with its dates moved by whole 28-year cycles into the calendar's range
    (2000-01-01 on: transaction ids count days from there) when they lie outside it, and
    a note saying so. 28 years keep every date's weekday and every leap day (within
    1901-2099), so weekdays, holidays fixed by date or by weekday, and months are those
    of the sample; the world's dates are the sample's plus the shift."""
    first, last = int(sample.day.min()), int(sample.day.max())
    low = (ID_EPOCH - UNIX_EPOCH_DATE).days
    high = (LAST_SUPPORTED_DAY - UNIX_EPOCH_DATE).days
    if low <= first and last <= high:
        return sample
    if last - first > high - low:
        return sample  # no shift fits it: the spec's own error names the range
    cycles = -(-(low - first) // CYCLE_DAYS) if first < low else -(-(last - high) // CYCLE_DAYS)
    shift = cycles * CYCLE_DAYS if first < low else -cycles * CYCLE_DAYS
    years = shift // CYCLE_DAYS * CYCLE_YEARS
    note = (
        f"the sample's dates ({np.datetime64(first, 'D')} to {np.datetime64(last, 'D')}) lie"
        f" outside the calendar's range ({ID_EPOCH} to {LAST_SUPPORTED_DAY}, where transaction"
        f" ids count their days): the fitted calendar is the sample's moved {years:+d} years"
        " (whole 28-year cycles, which keep every weekday and leap day); subtract them from"
        " the world's dates to compare"
    )
    return replace(
        sample,
        day=sample.day + shift,
        signup=None if sample.signup is None else sample.signup + shift,
        notes=(*sample.notes, note),
    )


def _overridden(document: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``document`` with the --set overrides (KEY=YAML) applied in place."""
    for override in overrides:
        key, _, raw = override.partition("=")
        set_dotted(document, key.strip(), yaml.safe_load(raw))
    return document


def _finish(result: FitResult, document: dict[str, Any], overrides: list[str]) -> FitResult:
    """Apply the --set overrides and validate the fitted document."""
    _overridden(document, overrides)
    result.spec = spec_from_dict(document)
    result.document = document
    return result


def _private(
    result: FitResult, sample: Sample, base: Spec, epsilon: float, min_customers: int
) -> None:
    """The --epsilon fit: OpenDP releases for the count-based fields, defaults elsewhere."""
    from synthpipe.fit.private import (
        ITEMS_CAP,
        PRIVATE_FIELDS,
        ROWS_PER_CUSTOMER,
        private_estimates,
    )

    values, releases = private_estimates(sample, base, epsilon, min_customers)
    for key, value in values.items():
        set_dotted(result.document, key, value)
        result.estimates.append(
            Estimate(key, value, None, None, ("private",), "differentially private count")
        )
    for estimator in ESTIMATORS:
        for name in estimator.fields:
            if name not in PRIVATE_FIELDS and not name.startswith("calendar."):
                result.defaults[name] = "default: not released under --epsilon"
            elif name in PRIVATE_FIELDS and name not in values:
                result.defaults[name] = "default: not in the sample, or too few under noise"
    result.privacy = {
        "epsilon": epsilon,
        "spent": round(sum(r.epsilon for r in releases), 9),
        "mechanism": "discrete Laplace (OpenDP), customer-level, sequential composition",
        "rows_per_customer": ROWS_PER_CUSTOMER,
        "items_cap": ITEMS_CAP,
        "releases": [
            {"aggregate": r.name, "l1_sensitivity": r.sensitivity, "epsilon": r.epsilon}
            for r in releases
        ],
        "not_protected": "the sample's first and last dates and its number of customers"
        " (override them with --set to keep them out)",
        "intervals": "none: a bootstrap would spend budget on every replicate",
    }


def _matches(pattern: str, key: str) -> bool:
    """Whether a field pattern (``*`` for a list index) names ``key``."""
    parts, named = pattern.split("."), key.split(".")
    return len(parts) == len(named) and all(
        p in ("*", n) for p, n in zip(parts, named, strict=True)
    )
