"""The base of every spec model and the constrained number types they share.

Kept apart from ``synthpipe.spec.models`` so that a fraud typology module (``synthpipe.fraud``)
can declare its own spec model without importing the whole spec.
"""

from __future__ import annotations

from typing import Annotated

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
