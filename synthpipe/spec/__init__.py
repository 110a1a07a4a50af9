"""The spec: strict pydantic models of the YAML world description, and their loader."""

from synthpipe.spec.loader import (
    data_hash,
    load_spec,
    public_document,
    spec_changes,
    spec_document,
    spec_from_dict,
    world_hash,
)
from synthpipe.spec.models import Spec

__all__ = [
    "Spec",
    "data_hash",
    "load_spec",
    "public_document",
    "spec_changes",
    "spec_document",
    "spec_from_dict",
    "world_hash",
]
