"""The fraud typologies: one module each, found here by the package itself.

Each module of this package (other than ``base``) defines ``TYPOLOGY``, a
``synthpipe.fraud.base.Typology``: its spec model, its stable key (a member of
``synthpipe.seeds.FraudKey``), its generator, its event-size moments, its expected lines
and its signatures. ``TYPOLOGIES`` maps each name to its typology in key order, which is
the order of the spec's ``fraud.types``, of the ``fraud_type`` dictionary and of the
report. Adding a typology is adding a module and a ``FraudKey`` member (docs/fraud.md,
"Adding a fraud typology").
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from synthpipe.fraud.base import Typology
from synthpipe.seeds import FraudKey

NOT_TYPOLOGIES = frozenset({"base"})


def _discover() -> dict[str, Typology[Any]]:
    """Every typology module's TYPOLOGY, by name in key order; a key without a module,
    or two modules with one key, is an error at import."""
    found: dict[FraudKey, Typology[Any]] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in NOT_TYPOLOGIES:
            continue
        typology = importlib.import_module(f"{__name__}.{module.name}").TYPOLOGY
        if typology.key in found:
            raise ImportError(f"fraud typologies {module.name} and another share {typology.key!r}")
        if typology.name != module.name:
            raise ImportError(f"module {module.name} declares the typology {typology.name}")
        found[typology.key] = typology
    missing = [key.name for key in FraudKey if key not in found]
    if missing:
        raise ImportError(f"FraudKey members without a typology module: {', '.join(missing)}")
    return {found[key].name: found[key] for key in sorted(found)}


TYPOLOGIES: dict[str, Typology[Any]] = _discover()
