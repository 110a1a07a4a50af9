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
    "customer_changes/month=2024-01/part-00000.parquet": "3f7e04e0b04c0b0fdea0cf82e12c1b42a84006ed681b4a41d61acb4d8dc41684",
    "customer_changes/month=2024-01/part-00001.parquet": "9ec72a988e282167880b873dcf09e870cdf4fd0e3d7b25900394f1258665cb26",
    "customer_changes/month=2024-02/part-00000.parquet": "f889819ad2b11a9b5c0611c0529623cc3a87e5225885f96d32bcc96b8c2c65b2",
    "customer_changes/month=2024-02/part-00001.parquet": "748970134597bd84fae60b434e587a15b2bd0a02ab326924ca49d55cb90b6c40",
    "customer_history/part-00000.parquet": "b52964305e2074ff1dcdc886d624d97f19dfdd7c15b1a5d2e15f698651f57986",
    "customer_history/part-00001.parquet": "7cdaeda066564c156f5ddf3b6d735369f97e674480777d9f7b2232d6ddeb42da",
    "customers/part-00000.parquet": "603dfd23627facb67825cb04fe9d3011e8a0b86c5c0b14eb57ee83ebb9545109",
    "customers/part-00001.parquet": "664f45886838044da439627f90db97433255fd893770cd07dbcd7c23be53aa8b",
    "line_items/month=2024-01/part-00000.parquet": "36337d33280017261c5cfb3a53bd5157124f174866e2140f3813367f226c15c7",
    "line_items/month=2024-01/part-00001.parquet": "7fd37804c6cb4093ed51c665cbba26051fb4c13a65753f8e05405ca6d83ab64e",
    "line_items/month=2024-02/part-00000.parquet": "0476e66c6eb84c8e92c2ab7ff43f5178d1a82adb33e562caf61797f9eedcbb71",
    "line_items/month=2024-02/part-00001.parquet": "bc0da65c801ed537de21fbae3024f51b9636d7bc679f4736f154b5bda8d0e4f4",
    "products/part-00000.parquet": "c5667b56cf35eecb99d4417ee46f80e84fa2ddfd6f712f7a37ae5fbe1dd9eeec",
    "stores/part-00000.parquet": "bfcbffe902ba5f32b4f0f0a188c9274746ebe1d3fbd94309168887503d4f959e",
    "transactions/month=2024-01/part-00000.parquet": "8ada9b0ba9a4c9455b35acc0d91f47c323c7e68bfcd825961edb2a898ffdb20f",
    "transactions/month=2024-01/part-00001.parquet": "b94b5d01c4b2cdcdab19f93766108b410bffffeb6815080cfb3ddba40d9169bc",
    "transactions/month=2024-02/part-00000.parquet": "43345b8d07c29a089da66edb786766a8eac33ca824eddb515f035dfaf507bec8",
    "transactions/month=2024-02/part-00001.parquet": "ce90e146a3d5b271b61e834409792909e5989de7ba8175812c19e6372e2b5b35",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "2a22de8cd03648e72ae46c308ec617f5e09e7b8291314dc5988d28267f982de3"


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
