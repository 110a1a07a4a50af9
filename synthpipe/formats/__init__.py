"""Output formats: one module each, found here by the package.

Each module (other than ``base``) defines ``FORMAT``, an ``OutputFormat``: file
extension, encode, decode for validation, publish. Parquet (with a ``_SUCCESS`` marker)
is the only one today and the default; the sink (which names every file, ground truth
included) and the validation ask this registry instead of naming a format.
"""

from __future__ import annotations

import importlib
import pkgutil

from synthpipe.formats.base import OutputFormat, TableWriter

DEFAULT_FORMAT = "parquet"
NOT_FORMATS = frozenset({"base"})


def _discover() -> dict[str, OutputFormat]:
    found: dict[str, OutputFormat] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in NOT_FORMATS:
            continue
        declared: OutputFormat = importlib.import_module(f"{__name__}.{module.name}").FORMAT
        found[declared.name] = declared
    return found


FORMATS: dict[str, OutputFormat] = _discover()


def output_format(name: str = DEFAULT_FORMAT) -> OutputFormat:
    """The output format called ``name``."""
    return FORMATS[name]


__all__ = ["FORMATS", "OutputFormat", "TableWriter", "output_format"]
