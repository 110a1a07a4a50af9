"""The spec: strict pydantic models of the YAML world description, and their loader.

The names below are imported on first use, so that importing ``synthpipe.spec.base``
(which the fraud typologies build their spec models from) does not load the spec models,
which in turn read the typologies: either package may then be imported first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "Spec": "synthpipe.spec.models",
    "data_hash": "synthpipe.spec.loader",
    "load_spec": "synthpipe.spec.loader",
    "public_document": "synthpipe.spec.loader",
    "spec_changes": "synthpipe.spec.loader",
    "spec_document": "synthpipe.spec.loader",
    "spec_from_dict": "synthpipe.spec.loader",
    "world_hash": "synthpipe.spec.loader",
}


def __getattr__(name: str) -> Any:
    """Each public name from its module, on first use."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


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
