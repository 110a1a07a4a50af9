"""Publishing: ``_SUCCESS`` is written last, and only when the fidelity report passed."""

from __future__ import annotations

import json
from typing import Any

from synthpipe.sink.files import write_atomic
from synthpipe.storage import Location

SUCCESS_NAME = "_SUCCESS"


def is_published(location: Location) -> bool:
    """True when the dataset carries its ``_SUCCESS`` marker."""
    fs, _ = location.filesystem()
    return bool(fs.exists(location.join(SUCCESS_NAME)))


def unpublish(location: Location) -> None:
    """Remove ``_SUCCESS`` before the dataset changes, so no reader trusts a partial state."""
    fs, _ = location.filesystem()
    path = location.join(SUCCESS_NAME)
    if fs.exists(path):
        fs.rm(path)


def publish(location: Location, manifest: dict[str, Any]) -> None:
    """Write ``_SUCCESS`` (a small JSON summary); call after the manifest is final."""
    fs, _ = location.filesystem()
    summary = {
        "spec_sha256": manifest["spec_sha256"],
        "tables": {name: info["rows"] for name, info in manifest["tables"].items()},
        "updated_at": manifest["updated_at"],
    }
    write_atomic(fs, location.join(SUCCESS_NAME), (json.dumps(summary) + "\n").encode("utf-8"))
