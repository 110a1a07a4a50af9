"""The ``synthpipe`` console script: stop handlers first, everything heavy after.

Importing the command (Prefect, Dask, numpy, pyarrow, numba) takes a second or two; a
Ctrl-C in that time would otherwise end in a KeyboardInterrupt traceback from the middle
of some import. The handlers of ``synthpipe.stopping`` (standard library and psutil only) are
installed before anything else is imported, so a stop at any moment says one line and
exits 130 or 143.
"""

from __future__ import annotations

from synthpipe.stopping import stop_message, stopping_cleanly


def main() -> None:
    """Entry point of the ``synthpipe`` console script."""
    with stopping_cleanly(stop_message):
        from flows.cli import main as command

        command()


if __name__ == "__main__":
    main()
