"""Publishing: the output format's publish step (for Parquet, ``_SUCCESS``) is written
last, and only when the fidelity report passed."""

from __future__ import annotations

from synthpipe.formats import output_format
from synthpipe.sink.manifest import Manifest
from synthpipe.storage import Location


def is_published(location: Location) -> bool:
    """True when the dataset is published."""
    return output_format().is_published(location)


def unpublish(location: Location) -> None:
    """Withdraw publication before the dataset changes, so no reader trusts a partial state."""
    output_format().unpublish(location)


def publish(location: Location, manifest: Manifest) -> None:
    """Publish with a small summary; call after the manifest is final."""
    summary = {
        "spec_sha256": manifest.spec_sha256,
        "tables": {name: info.rows for name, info in manifest.tables.items()},
        "updated_at": manifest.updated_at,
    }
    output_format().publish(location, summary)
