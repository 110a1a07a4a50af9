"""A small per-process cache of world objects keyed by the spec's data hash.

Workers generate many partitions of the same spec; the stores, products and day factors
they all need are built once per process instead of once per partition.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from synthpipe.spec import Spec, data_hash

T = TypeVar("T")
CACHE_ENTRIES = 32  # a worker rarely sees more than a couple of specs at once

_CACHE: OrderedDict[tuple[str, str, tuple[Any, ...]], Any] = OrderedDict()


def cached_per_spec(name: str, spec: Spec, build: Callable[..., T], *args: Any) -> T:
    """Return ``build(spec, *args)``, computed once per (name, spec, args) in this process."""
    key = (name, data_hash(spec), args)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]  # type: ignore[no-any-return]
    value = build(spec, *args)
    _CACHE[key] = value
    if len(_CACHE) > CACHE_ENTRIES:
        _CACHE.popitem(last=False)
    return value
