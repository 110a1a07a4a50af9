# ruff: noqa: E501  (pinned SHA-256 values are long by nature)
"""The bytes of a small run are pinned: a change that alters any generated file (a new
draw, a reordered stream, another encoding, a version bump) fails here, so it is made on
purpose and the pins are updated with it, saying why in the commit. On a mismatch, the
seed-11 run is compared with its reference copy (tests/data/pinned_seed_11, the pinned
files themselves) so that the failure names the first table, row and column that moved;
update that copy with the pins."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers import file_hashes, small_spec
from table_diff import first_difference

from synthpipe.engine.generate import generate
from synthpipe.plan import make_plan
from synthpipe.spec import Spec
from synthpipe.storage import Location

PINNED_SEED_11 = {
    "customer_changes/month=2024-01/part-00000.parquet": "973ae2eb0cb20e98ccf9b108b125e4ca47cae1f54122c4f5f6b55fd1b3f5d2a8",
    "customer_changes/month=2024-01/part-00001.parquet": "014931484f8fd38d3fe6a3aefadbf8c8b3f7b3a7da187e8c1084e6b329c885e9",
    "customer_changes/month=2024-02/part-00000.parquet": "6379ea755efd8aca47fde7ce53a4ebda5bafb284ef0f05f218654cbef8afd431",
    "customer_changes/month=2024-02/part-00001.parquet": "ad1a2f4ddb7b376fe2638b9dac9735db5887e6dd63d4b84e2d9d685a16041799",
    "customer_history/part-00000.parquet": "9201ca0695ff0358db97960a0db5c7b18eb20b7cd5809b8b8778123a3b248e30",
    "customer_history/part-00001.parquet": "1a953755b57a2b9aadb0fa98895341e95a205ff4b81bd9e63dea01b6831b9850",
    "customers/part-00000.parquet": "81a27a3bd2cb6730d2a1c9c8c3bf9401ee4b8c5f88f0e6bcc03ef998edc5c222",
    "customers/part-00001.parquet": "7d85d47a77aa6802fcbdcd1963118d86ad7d4128c60b997e08ece5aaddf296fc",
    "line_items/month=2024-01/part-00000.parquet": "203eb6996cdf2fd58bf0207c3e93920fca3ac2fe85b5d3bbe1eaef40595ef87b",
    "line_items/month=2024-01/part-00001.parquet": "3489ea9c40196cb1956b0b930458016e7658790a596695368ced3363d2969779",
    "line_items/month=2024-02/part-00000.parquet": "349ab797bd753cca94ce61cb3e7eb4ab517b666adba6d0904e8e15b46767c265",
    "line_items/month=2024-02/part-00001.parquet": "b1101106394ddf846ccd776c8bd41596a477d42fcdd14e6191db17532d095849",
    "products/part-00000.parquet": "4258b1f271f377f576713ddc90d67cd88d1341b3519a0c2d9200e78facab3cef",
    "stores/part-00000.parquet": "8448c521e0542181a94be8ab70d6afa6c344d957a2160591e2fb52eb1608fbec",
    "transactions/month=2024-01/part-00000.parquet": "0122b01e2f18b978334b4cf14f1abaf4bbe15ebd5c97a9863011f09c8870445a",
    "transactions/month=2024-01/part-00001.parquet": "5896f591f678c24e540b642729890e3e11745e7e579a5aa66eb83e522c4ffbad",
    "transactions/month=2024-02/part-00000.parquet": "d6e656bf7bb11399f7365425c97d6d632568acd87855097814b9e3b7bcdf54ff",
    "transactions/month=2024-02/part-00001.parquet": "8534c339c0b33e226b2a10a82486f3bd3fa4145191a656e9558c82ec57e35e18",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
REFERENCE_SEED_11 = Path(__file__).parents[1] / "data" / "pinned_seed_11"
PINNED_SEED_4242 = "9b92704a0a678e33e627bd4ed083e9a9ff0e89c47b586fe4eafca9e9e50bc752"


def _pinned_world(seed: int) -> Spec:
    return small_spec(seed=seed, **{"customers.count": 1_500, "calendar.end": "2024-02-29"})


def _written(spec: Spec, out: Path) -> dict[str, str]:
    generate(None, spec, make_plan(spec), Location(str(out)))
    return file_hashes(out)


def test_every_file_of_a_small_run_has_its_pinned_bytes(tmp_path: Path) -> None:
    assert _written(_pinned_world(11), tmp_path) == PINNED_SEED_11, first_difference(
        REFERENCE_SEED_11, tmp_path
    )


def test_the_reference_copy_is_the_pinned_run() -> None:
    assert file_hashes(REFERENCE_SEED_11) == PINNED_SEED_11


@pytest.mark.parametrize("seed", [4242])
def test_another_seed_has_its_pinned_digest(tmp_path: Path, seed: int) -> None:
    hashes = _written(_pinned_world(seed), tmp_path)
    digest = hashlib.sha256(
        "".join(f"{path}={sha}\n" for path, sha in sorted(hashes.items())).encode()
    ).hexdigest()
    assert digest == PINNED_SEED_4242
