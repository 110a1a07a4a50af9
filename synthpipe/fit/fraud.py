"""Estimators of the fraud section: the labelled rate and the mix of types."""

from __future__ import annotations

import numpy as np

from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import Values
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import FRAUD_TYPES


def fraud_rate(sample: Sample, weights: np.ndarray, _spec: Spec, _min: int) -> Values:
    """fraud.rate: the labelled share of transactions."""
    assert sample.fraud is not None
    row = np.asarray(weights[sample.customer], dtype=np.float64)
    return {"fraud.rate": round(float(row[sample.fraud].sum()) / float(row.sum()), 6)}


def fraud_mix(sample: Sample, weights: np.ndarray, _spec: Spec, min_customers: int) -> Values:
    """fraud.types.<type>.share: each of the spec's fraud types' share of the labelled fraud
    transactions (the spec's mix is per transaction), counting a type only when
    min_customers customers have it (a type absent or suppressed gets 0; labels that are
    not our type names never leave the sample)."""
    assert sample.fraud is not None
    assert sample.fraud_type is not None
    row = np.asarray(weights[sample.customer], dtype=np.float64)
    counts: dict[str, float] = {}
    for name in FRAUD_TYPES:
        if name not in sample.fraud_type_labels:
            continue
        rows = sample.fraud & (sample.fraud_type == sample.fraud_type_labels.index(name))
        if np.unique(sample.customer[rows]).shape[0] >= min_customers:
            counts[name] = float(row[rows].sum())
    total = sum(counts.values())
    if total <= 0:
        return {}
    return {
        f"fraud.types.{name}.share": round(counts.get(name, 0.0) / total, 5) for name in FRAUD_TYPES
    }
