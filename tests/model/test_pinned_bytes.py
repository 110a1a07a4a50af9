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
    "customer_changes/month=2024-01/part-00000.parquet": "7e358aa200f1c78330fa1e3600bcecd4a8bdec96fb285e9d289ab589bc9440bf",
    "customer_changes/month=2024-01/part-00001.parquet": "9ea0a9d4f2ce6e809d8d62933bdab98fd141296ff4a21f289644373fd7bc9580",
    "customer_changes/month=2024-02/part-00000.parquet": "6d9a0a42675cc36d30481c37962e284451b5c21d2c18c0ff1a559f4f0c4e3540",
    "customer_changes/month=2024-02/part-00001.parquet": "38366efecd732d820be49dd472b980bc1e6feca7449713630ab26bec763deeb3",
    "customer_history/part-00000.parquet": "a4172f924fdce655426dd50e61fe533d00de32a0cd6e52d9f7771df68a56424a",
    "customer_history/part-00001.parquet": "1eabb1b55d7636b699a3aa84437966bd6cb5ce249eb821a2fe607b4fd42f25e1",
    "customers/part-00000.parquet": "52daf862cb722f60e7bd4c79f1e2fa6e269ac5018185e78891350ab4ebd76304",
    "customers/part-00001.parquet": "e3893e9d5dc629045a356f01cd83b2f4ec78ae3ddd30e1f2530347abfb7d4da4",
    "line_items/month=2024-01/part-00000.parquet": "ab2d001665d4637ceb84b069db56db00a55ad84be49fe831f38ba9fc35df3484",
    "line_items/month=2024-01/part-00001.parquet": "92cb0118844620a580b21d2068734334cb93746ebab14ee250ba45f5ee03b59a",
    "line_items/month=2024-02/part-00000.parquet": "500a075f16d81c3b1c251ef1c8a05cfbcc291c9c15c118b2be6dbf3ebb423a2e",
    "line_items/month=2024-02/part-00001.parquet": "9f45d03e8be8dd70c520635b5aafe37b4c3e53f9ea89ee5c0c635c486c3add1f",
    "products/part-00000.parquet": "e1f42da3370271a9c771d9c7067edd037f5564441298fffcb4877c627089cb7a",
    "stores/part-00000.parquet": "eed38c431191d49768e988d319713972af5d2c5b9d144a2b3d38ef3bcf9465cc",
    "transactions/month=2024-01/part-00000.parquet": "2c45ec5b7479ac337e1647523de1080495a65dac1a9c0211809cfa34b3db4b60",
    "transactions/month=2024-01/part-00001.parquet": "6d4c8d06e5bbcc641864d9d3bc11bce4b6d4579afc79129efea37614d1277b81",
    "transactions/month=2024-02/part-00000.parquet": "209fe5f84e59c040f02664cc25b2e29184def55d5149bed7c80dabc2a8c20543",
    "transactions/month=2024-02/part-00001.parquet": "fe8e3c2bf7675766953a92e3a9d70aae581abe12fd99db7c5507082013dd39db",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "87879c60960d06d448ba739d902eaa544fd3595cc4270686a41315eea260c1f3"


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
