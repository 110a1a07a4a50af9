"""The checks of the fidelity report: one module per family, found here by the package.

Each module (other than ``base``, and ``shoppers``, whose checks ``volume`` runs) defines
``FAMILY``, a ``CheckFamily``: the function that judges the merged statistics, and a
``CheckInfo`` for every check it emits (name, group, what it tests, the statistics it
reads). ``evaluate`` runs the families in their
order; ``declared_checks`` is what ``synthpipe validate --list`` prints and what the docs
site's page of every check is written from. Adding a check is adding it to its family's
judge and its declaration, in one module; adding a family is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from synthpipe.validate.checks.base import CheckFamily, CheckInfo
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import Check
from synthpipe.validate.listing import Listing
from synthpipe.validate.statistics import Stats

# modules of checks that a family runs and declares among its own
NOT_FAMILIES = frozenset({"base", "shoppers"})


def _discover() -> dict[str, CheckFamily]:
    """Every family module's FAMILY, by module name, in the families' order."""
    found = {
        module.name: importlib.import_module(f"{__name__}.{module.name}").FAMILY
        for module in pkgutil.iter_modules(__path__)
        if module.name not in NOT_FAMILIES
    }
    return dict(sorted(found.items(), key=lambda item: item[1].order))


FAMILIES: dict[str, CheckFamily] = _discover()


def declared_checks() -> list[CheckInfo]:
    """Every check the report can hold (bar the reference comparison's), in report order."""
    return [check for family in FAMILIES.values() for check in family.checks]


def evaluate(ctx: ValidationContext, stats: Stats, listing: Listing) -> list[Check]:
    """All checks of a dataset, family by family."""
    checks: list[Check] = []
    for family in FAMILIES.values():
        checks += family.judge(ctx, stats, listing)
    return checks
