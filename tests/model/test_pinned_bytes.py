# ruff: noqa: E501  (pinned SHA-256 values are long by nature)
"""The bytes of a small run are pinned: a change that alters any generated file (a new
draw, a reordered stream, another encoding, a version bump) fails here, so it is made on
purpose and the pins are updated with it, saying why in the commit."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers import file_hashes, small_spec

from synthpipe.engine.generate import generate
from synthpipe.plan import make_plan
from synthpipe.spec import Spec
from synthpipe.storage import Location

PINNED_SEED_11 = {
    "customers/part-00000.parquet": "64266d3cb514f9b4dbb85dba52b7730c8b6e3f74fbde45f6edc72d11ceeb65de",
    "customers/part-00001.parquet": "0522962e9ceec70d59273da053ca3150a5e9605db71d514d978ada3857b57baf",
    "line_items/month=2024-01/part-00000.parquet": "031e3cd827950b81dde34b0070ca1f80e3bf92891d5c8e9cad05209f49571ee4",
    "line_items/month=2024-01/part-00001.parquet": "c02ae7f013fa3a5fe58162eb22777ff664143d7b94151878321f2178653f4cca",
    "line_items/month=2024-02/part-00000.parquet": "c5867d467d07dd920a77c7c320962a1f689e005ffad8ac65b71fa5b19822c652",
    "line_items/month=2024-02/part-00001.parquet": "193af7d6c2a004d857a107a06ad37dfeb0d46a4295d4c8b0759cbf9102824ccd",
    "products/part-00000.parquet": "713946252cca9d96c59570d4521ae8d3b827b342a81028caa7f216c61d755b1a",
    "stores/part-00000.parquet": "468a01a0c1715e93641ab24c567a597dbd30a6efb70c80626542191171df30e0",
    "transactions/month=2024-01/part-00000.parquet": "8ecbb0bb3e40f6ed5db588672084debdda117e8c0ddd9ff42cebbbfc18cea491",
    "transactions/month=2024-01/part-00001.parquet": "404168f0e9cad1a28a5ea573ce8081bf00ad2c505fc0b5f46920b3f6619c82d9",
    "transactions/month=2024-02/part-00000.parquet": "cce552c7d13a5776fcf27c2b9c1cb5e794bd976b5af0a3ac493c736a5fd3bd1c",
    "transactions/month=2024-02/part-00001.parquet": "152e8a50c992656a7c16027de3553d862a86a56a84e0b80362412c1443007af1",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "52575737bfa82f724ea6f74b2ad5457e75ef9e554bb21cff5b06ddf5223c057c"


def _pinned_world(seed: int) -> Spec:
    return small_spec(seed=seed, **{"customers.count": 1_500, "calendar.end": "2024-02-29"})


def _written(spec: Spec, out: Path) -> dict[str, str]:
    generate(None, spec, make_plan(spec), Location(str(out)))
    return file_hashes(out)


def test_every_file_of_a_small_run_has_its_pinned_bytes(tmp_path: Path) -> None:
    assert _written(_pinned_world(11), tmp_path) == PINNED_SEED_11


@pytest.mark.parametrize("seed", [4242])
def test_another_seed_has_its_pinned_digest(tmp_path: Path, seed: int) -> None:
    hashes = _written(_pinned_world(seed), tmp_path)
    digest = hashlib.sha256(
        "".join(f"{path}={sha}\n" for path, sha in sorted(hashes.items())).encode()
    ).hexdigest()
    assert digest == PINNED_SEED_4242
