"""The layer contracts hold (pyproject.toml, [tool.importlinter]; `make lint` checks them
too): imports point down only, the model and the plan name no file, synthpipe never
imports prefect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import ROOT


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


SHARED_LAWS = (
    "UNIX_EPOCH_ORDINAL",
    "DAYS_PER_WEEK",
    "THURSDAY_OFFSET",
    "HOURS_PER_DAY",
    "NIGHT_END_HOUR",
    "MICROS_PER_DAY",
)


def test_the_shared_laws_are_defined_once_in_clock() -> None:
    """Generator, validator and fit import one definition of each law of time."""
    import re

    package = Path(__file__).resolve().parent.parent / "synthpipe"
    pattern = re.compile(rf"^({'|'.join(SHARED_LAWS)})\s*=", re.MULTILINE)
    owners = {
        str(path.relative_to(package)): pattern.findall(path.read_text())
        for path in package.rglob("*.py")
    }
    assert {path for path, names in owners.items() if names} == {"clock.py"}


def _code(path: Path) -> str:
    """A module's code as ``ast.unparse`` writes it (one spelling of every expression),
    with its strings emptied: docstrings and messages may state a law, code may not."""
    import ast

    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.unparse(tree)


# Each law of the process, as code that computes it, and the one module allowed to:
# the fraud odds (fraud transactions per legitimate one) on the spec's fraud section;
# a channel's code from its name in the vocabulary; a channel's spec section from its
# code or name on the spec's channels section (by tuple or by getattr, nowhere else).
PROCESS_LAWS = {
    "fraud odds": (r"/ \(1(\.0)? - [\w.]*rate\)", {"spec/models.py"}),
    "channel code": (r"CHANNELS\.index\(", {"vocabulary.py"}),
    # the weekday of a day number: 1970-01-01 was a Thursday (clock.weekday_of)
    "weekday of a day number": (
        r"\+ (3|THURSDAY_OFFSET|\w*WEEKDAY)\) % (7|DAYS_PER_WEEK)",
        {"clock.py"},
    ),
    "channel section by code": (r"getattr\([\w.]*, CHANNELS\[", {"spec/sales.py"}),
    "channel section by tuple": (r"\([\w.]*\bin_store(\.\w+)?, [\w.]*\bonline(\.\w+)?\)", set()),
    "channel section by name": (r"getattr\([\w.]*channels, ", set()),
}


def test_the_process_laws_are_written_once() -> None:
    """Generator, truth, validator and fit import one definition of the fraud odds and of
    the channel lookup (``Fraud.odds``, ``vocabulary.IN_STORE/ONLINE``, ``Channels.of``)."""
    import re

    package = Path(__file__).resolve().parent.parent / "synthpipe"
    code = {str(path.relative_to(package)): _code(path) for path in package.rglob("*.py")}
    for law, (pattern, home) in PROCESS_LAWS.items():
        owners = {path for path, text in code.items() if re.search(pattern, text)}
        assert owners == home, f"{law}: written in {sorted(owners)}, belongs in {sorted(home)}"


# Constants of synthpipe.fit whose value equals a bound of a field fit estimates by
# chance: they are fit's own numbers, not the spec's limits.
FIT_OWN_NUMBERS = {
    "private.py": {"ITEMS_CAP", "RELEASES"},
}


def _estimated_bounds() -> set[float]:
    """Every finite bound the spec declares on a field that ``synthpipe fit`` sets."""
    from pydantic import BaseModel

    from synthpipe.fit.estimators import ESTIMATORS
    from synthpipe.fit.private import PRIVATE_FIELDS
    from synthpipe.spec.base import field_bounds
    from synthpipe.spec.models import Spec

    fields = {f for e in ESTIMATORS for f in e.fields} | set(PRIVATE_FIELDS)
    values: set[float] = set()
    for dotted in fields:
        model: type[BaseModel] = Spec
        *parents, name = dotted.split(".")
        for part in parents:
            inner = model.model_fields[part].annotation if part in model.model_fields else None
            if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
                break
            model = inner
        else:
            if name in model.model_fields:
                bounds = field_bounds(model, name)
                values |= {v for v in (bounds.low, bounds.high) if abs(v) != float("inf")}
    return values


def test_fit_reads_the_spec_bounds_from_the_spec() -> None:
    """``synthpipe fit`` clips its estimates to the ranges the spec's models declare
    (``synthpipe.spec.base.field_bounds``): no module of it restates one as a constant."""
    import ast

    bounds = _estimated_bounds()
    assert bounds, "no bound found on the fields fit estimates"
    package = Path(__file__).resolve().parent.parent / "synthpipe" / "fit"
    restated: list[str] = []
    for path in package.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if not isinstance(target, ast.Name):
                continue
            if target.id in FIT_OWN_NUMBERS.get(path.name, set()):
                continue
            numbers = {
                n.value
                for n in ast.walk(node.value)
                if isinstance(n, ast.Constant) and isinstance(n.value, int | float)
            }
            if isinstance(node.value, ast.UnaryOp | ast.Constant | ast.Tuple) and (
                numbers & bounds
            ):
                restated.append(f"{path.name}: {target.id}")
    assert not restated, f"spec bounds restated in synthpipe.fit: {restated}"
