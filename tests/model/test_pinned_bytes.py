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
    "customers/part-00000.parquet": "3938a7332c805fa7f0fc80550929347549d1348f313299d616af977abdeaf51c",
    "customers/part-00001.parquet": "fdc4e12d41d0758abb8a0d80cbe2b139e809d918b5ae847dadc58454b349aee5",
    "line_items/month=2024-01/part-00000.parquet": "b50ded6e37ef956d2e73ce69d6fb3ad370d8904a4f3c3c9c6f8303da28c82351",
    "line_items/month=2024-01/part-00001.parquet": "b60559f9d68e3d6ebb9cf7c94dad8123524735e7a29d1d91b6b5dc1f3d500246",
    "line_items/month=2024-02/part-00000.parquet": "2250e0130246bb5bcab7d7f5166b09886278696cd79a8539136c030f3b82db08",
    "line_items/month=2024-02/part-00001.parquet": "d11bb57717c2e914315fb98bf1d137aeb001d7d524200182e111b2fadc184260",
    "products/part-00000.parquet": "d514ada9a09899514f62d3f915d9067b79345e678ec52fcbf0e3aab3123e090b",
    "stores/part-00000.parquet": "57d4bfae10e7ee6949bef3984086bbc74985d92704f0783176fcc1a5bc6e6fa1",
    "transactions/month=2024-01/part-00000.parquet": "4f5c5e4d96c0ca8b42a19e859cb7dc7d78e5c0b72347e6e9d2e7789b7f990fe8",
    "transactions/month=2024-01/part-00001.parquet": "0d7a1548c4a81febaac070e9e2a064ed6938f6c54467ec548f89da7cc9aeef1b",
    "transactions/month=2024-02/part-00000.parquet": "fbf1d2963e28a52cdd3675ca2e28b054bc7bd7b00d04845454dbd5bf34431e3e",
    "transactions/month=2024-02/part-00001.parquet": "03be87a61e99709e5f92f6b5b85485193413e181f82ba6f46cb8d9c0c59e28fe",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "e65d209a5ca97dfb17e315a84920f3d92a37ae70b30592aee6ae48366baf9c19"


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
