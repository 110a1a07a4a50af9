"""Checks on an output location before anything is written (bad ones exit with status 2)."""

from __future__ import annotations

import posixpath

from synthpipe.errors import OutputError
from synthpipe.sink.files import TEMP_PREFIX
from synthpipe.sink.lock import LOCK_NAME
from synthpipe.sink.manifest import MANIFEST_NAME
from synthpipe.sink.refresh import STAGING
from synthpipe.storage import Location, is_local

OWN_NAMES = (LOCK_NAME, STAGING)


def check_output(location: Location) -> None:
    """Refuse locations that are files, unwritable, or folders holding something else."""
    try:
        fs, root = location.filesystem()
    except (ValueError, ImportError) as exc:
        raise OutputError(f"--out {location.url!r} cannot be opened: {exc}") from None
    if not fs.exists(root):
        if is_local(fs):
            _check_local_parent(root, location.url)
        return
    if not fs.isdir(root):
        raise OutputError(f"--out {location.url!r} is a file, not a folder")
    names = [posixpath.basename(str(e).rstrip("/")) for e in fs.ls(root, detail=False)]
    foreign = [n for n in names if n and n != posixpath.basename(root.rstrip("/")) and not _ours(n)]
    if foreign and not fs.exists(location.join(MANIFEST_NAME)):
        raise OutputError(
            f"--out {location.url!r} is a non-empty folder without a synthpipe dataset"
            f" ({MANIFEST_NAME} missing); choose a new or empty folder"
        )


def _ours(name: str) -> bool:
    """Names a synthpipe run can leave before its manifest exists (a killed first run)."""
    return name in OWN_NAMES or name.startswith(TEMP_PREFIX)


def _check_local_parent(root: str, url: str) -> None:
    import os

    parent = os.path.dirname(os.path.abspath(root))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise OutputError(f"--out {url!r} is below a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out {url!r} cannot be created: {parent!r} is not writable")
