"""Exceptions that carry their meaning to the command line.

``InputError`` is bad input (spec, flag, path): the CLI prints its one-line message and
exits with status 2. Anything else is a failure of the run and exits with status 1.
"""

from __future__ import annotations

import os

DEBUG_ENV = "SYNTHPIPE_DEBUG"  # "1": tracebacks and every library's log lines


def debugging() -> bool:
    """True when the user asked for tracebacks and library logs (SYNTHPIPE_DEBUG=1)."""
    return os.environ.get(DEBUG_ENV) == "1"


class InputError(Exception):
    """Bad user input: one clear line, exit status 2, nothing written."""


class SpecError(InputError):
    """A spec field is missing, unknown or out of range."""


class OutputError(InputError):
    """The output location cannot be used (a file, a lock held, a different spec)."""


class StorageError(Exception):
    """The output's storage refused a write for good (full, over quota, read-only): not
    worth retrying; the message names the path. Exit status 1."""


class FidelityError(Exception):
    """The fidelity report has failing tests; the dataset is left unpublished."""

    def __init__(self, message: str, report_path: str) -> None:
        super().__init__(message)
        self.report_path = report_path
