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
