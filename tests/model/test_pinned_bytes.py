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
    "customers/part-00000.parquet": "f14a9357bb0e8bf1b67a31e9be67e83b204ea8918f1f2e189d34edf40c8ed5f0",
    "customers/part-00001.parquet": "ad94d38d98fdd95ff125e0c18f2285fca7f3a5f00262e08266d4f2cd5e23852c",
    "line_items/month=2024-01/part-00000.parquet": "593b525676f00c197214118c9f5d50a03fa29515689f6caa6d100af8c3744bf3",
    "line_items/month=2024-01/part-00001.parquet": "9ae997c9e7df2b38688db73d2cfba9861444a69c7370b07d5a5dbd2502804326",
    "line_items/month=2024-02/part-00000.parquet": "c37c3253cdcf65a9a705bf3e6da7d370fec2c862416e89748a011ae6db774797",
    "line_items/month=2024-02/part-00001.parquet": "9ba0a9898c400793040fcf7186c236e59f1b695b812f55b9a2bca84c21ed51d7",
    "products/part-00000.parquet": "08d71fb470e10a1359b9a523b84aa2b559b34ce4de21683d943113c0423a6ce5",
    "stores/part-00000.parquet": "cf20373ca098dfae05be3d664872f902711d93d14c6712a10f7712420e68c2f0",
    "transactions/month=2024-01/part-00000.parquet": "badd260404aca7454928df40303f5fb2d7e6d9f759d45514e9a5ffd7c59b46a4",
    "transactions/month=2024-01/part-00001.parquet": "471ba4574cacdf5f5a98bcfb247fe3bac4fa5fb553643fa2050e21b888627f8a",
    "transactions/month=2024-02/part-00000.parquet": "289677fbe87d1eabd25ab3189d78d7ab0af3f8efe0650199bb24d7fc0f9bc1e2",
    "transactions/month=2024-02/part-00001.parquet": "26998cb5f2159cc9a8083da88d7dcd8bbcf3ab789b2eab71bbd183e1397f3ee5",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "437bf3dc21f5ac157ff1005b73ba997b1feb6cf08cb132addf226557a3b73312"


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
