"""Estimators of who the customers are: the gender mix and the age pyramid."""

from __future__ import annotations

import numpy as np

from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import Values
from synthpipe.spec.models import Spec
from synthpipe.vocabulary import GENDERS


def _customer_shares(
    groups: np.ndarray, count: int, weights: np.ndarray, min_customers: int
) -> np.ndarray | None:
    """Each group's weighted share of the customers (``groups``: a group index per
    customer, -1 for none); a group of fewer than min_customers customers counts 0. None
    when no group is left."""
    known = groups >= 0
    seen = np.bincount(groups[known], minlength=count)
    weighted = np.bincount(groups[known], weights=weights[known], minlength=count)
    weighted = np.where(seen >= min_customers, weighted, 0.0)
    total = float(weighted.sum())
    return None if total <= 0 else np.asarray(weighted / total)


def gender_mix(sample: Sample, weights: np.ndarray, _spec: Spec, min_customers: int) -> Values:
    """customers.gender: the share of the sample's customers of each gender (labels read
    as female, male or nonbinary; others left out)."""
    assert sample.gender is not None
    shares = _customer_shares(sample.gender, len(GENDERS), weights, min_customers)
    if shares is None:
        return {}
    return {
        f"customers.gender.{g}": round(float(v), 5) for g, v in zip(GENDERS, shares, strict=True)
    }


def age_pyramid(sample: Sample, weights: np.ndarray, spec: Spec, min_customers: int) -> Values:
    """customers.age_pyramid.<band>.weight: the share of the sample's customers (with an
    age) in each of the spec's age bands."""
    assert sample.age is not None
    bands = spec.customers.age_pyramid
    band = np.full(sample.customers, -1, dtype=np.int64)
    for i, b in enumerate(bands):
        band[(sample.age >= b.min) & (sample.age < b.max + 1)] = i
    shares = _customer_shares(band, len(bands), weights, min_customers)
    if shares is None:
        return {}
    return {f"customers.age_pyramid.{i}.weight": round(float(v), 5) for i, v in enumerate(shares)}
