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

_CACHES: dict[str, OrderedDict[tuple[str, tuple[Any, ...]], Any]] = {}


def cached_per_spec(
    name: str, spec: Spec, build: Callable[..., T], *args: Any, capacity: int = CACHE_ENTRIES
) -> T:
    """Return ``build(spec, *args)``, computed once per (name, spec, args) in this process;
    each name keeps its ``capacity`` most recently used values."""
    cache = _CACHES.setdefault(name, OrderedDict())
    key = (data_hash(spec), args)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]  # type: ignore[no-any-return]
    value = build(spec, *args)
    cache[key] = value
    while len(cache) > capacity:
        cache.popitem(last=False)
    return value
