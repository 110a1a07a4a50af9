"""The base of every spec model and the constrained number types they share.

Kept apart from ``synthpipe.spec.models`` so that a fraud typology module (``synthpipe.fraud``)
can declare its own spec model without importing the whole spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Annotated

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class StrictModel(BaseModel):
    """Base of every spec model: unknown keys are an error, and a validated spec is frozen
    (its hashes are computed once per object; see ``synthpipe.spec.loader``)."""

    model_config = ConfigDict(
        extra="forbid", validate_default=True, frozen=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_yes_no_numbers(cls, value: object, info: ValidationInfo) -> object:
        """YAML reads ``true``/``yes``/``on`` as booleans, which pydantic would quietly take
        as 1 for a count or a rate: refuse them where the field is not a boolean."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and field.annotation is not bool:
            raise ValueError(
                f"is the YAML boolean {str(value).lower()}: write a number, or put text in"
                " quotes (YAML reads unquoted yes/no/on/off as booleans)"
            )
        return value


def profile_values(values: list[float], length: int) -> list[float]:
    """A profile's values as given, checked: ``length`` of them, none negative, one positive."""
    if len(values) != length:
        raise ValueError(f"must have exactly {length} values, got {len(values)}")
    if any(v < 0 for v in values):
        raise ValueError("must not contain negative values")
    if sum(values) <= 0:
        raise ValueError("must contain at least one positive value")
    return values


def positive_weights(values: dict[str, float]) -> dict[str, float]:
    """Weights by name as given, checked: some, none negative, one positive."""
    if not values:
        raise ValueError("must not be empty")
    if any(v < 0 for v in values.values()):
        raise ValueError("must not contain negative weights")
    if sum(values.values()) <= 0:
        raise ValueError("must contain at least one positive weight")
    return values


@dataclass(frozen=True)
class Bounds:
    """The range a spec field accepts, as its model declares it (``Field(ge=..., le=...)``
    or a constrained type): an open end (``gt``, ``lt``) admits no value equal to it."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def inside(self, margin: float = 0.0) -> tuple[float, float]:
        """The closed range of values to use: an open end is kept ``margin`` inside it (the
        spec refuses the end itself)."""
        low = self.low + margin if self.low_open else self.low
        high = self.high - margin if self.high_open else self.high
        return low, high

    def clip(self, value: float, margin: float = 0.0) -> float:
        """``value`` brought inside the range (``inside``)."""
        low, high = self.inside(margin)
        return min(max(value, low), high)


def field_bounds(model: type[BaseModel], name: str) -> Bounds:
    """The bounds the model declares on its field ``name``, read from the field's metadata:
    whoever needs a spec limit (``synthpipe fit`` clipping an estimate) reads it here rather
    than restating it."""
    bounds = Bounds()
    for limit in model.model_fields[name].metadata:
        if isinstance(limit, annotated_types.Ge):
            bounds = replace(bounds, low=_number(limit.ge), low_open=False)
        elif isinstance(limit, annotated_types.Gt):
            bounds = replace(bounds, low=_number(limit.gt), low_open=True)
        elif isinstance(limit, annotated_types.Le):
            bounds = replace(bounds, high=_number(limit.le), high_open=False)
        elif isinstance(limit, annotated_types.Lt):
            bounds = replace(bounds, high=_number(limit.lt), high_open=True)
    return bounds


def _number(limit: object) -> float:
    """A declared limit as a float (the spec's limits are all numbers)."""
    assert isinstance(limit, int | float), f"a spec limit must be a number, got {limit!r}"
    return float(limit)
