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
    "customers/part-00000.parquet": "6a0d6aa6e734561224497f28490b070e9784aa1b05caeb4af14a34d3303beba3",
    "customers/part-00001.parquet": "961757bb4e6aad57a12cc23c45210b4582c5f4f8fa63e70d0190841f8bf8c298",
    "line_items/month=2024-01/part-00000.parquet": "43a8f82455a3bce883ae84330880897fe458c79c78e11b2999714f6186874bca",
    "line_items/month=2024-01/part-00001.parquet": "33e28e39e20880d4e04f11624fffcea92441a7bc9b2b3027865d139342ded8c1",
    "line_items/month=2024-02/part-00000.parquet": "a18f48fe2a8fe4ee1481b3ac1ac4367629076d77137b7f2e38598f7b044850e7",
    "line_items/month=2024-02/part-00001.parquet": "a155d8f2f8f23cc6f53d6b5f6472f92aaa2bdd1ced85c25856aef858454dff0a",
    "products/part-00000.parquet": "13832196dfc93a197cafca95fde120feb6034f00a5973befc02fe7dcc752f8eb",
    "stores/part-00000.parquet": "e2f732947bfe4619c8e1d445143dff8f560a0c8c2ff8afaf7e73fcd5f269bc85",
    "transactions/month=2024-01/part-00000.parquet": "19802d837040535d08f2a41a9e5ca598dfd0346a1b0959b06d8649a3c1a9c842",
    "transactions/month=2024-01/part-00001.parquet": "e507d79bb4eba85d13b27daef7fb4ec5bdccf4a085f633e5bda0c55b7f094823",
    "transactions/month=2024-02/part-00000.parquet": "46bc30d7b1225379db7ac14c27ac5647abb35631980b09e70c207c63ee290b15",
    "transactions/month=2024-02/part-00001.parquet": "86facc1928be735321ee53aefde87dedd0706b60c2898d0e6da465ccf8e5f1eb",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "247fdaef8dd465f1fe98ac85c791c98c5bb20a9f3bb8432014d9bf4e9171a2b2"


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
