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
    "customers/part-00000.parquet": "de12e6a5804fa59117a2a7a9d6cd1a356cfa9f138500255a237cc0bb91acd6ab",
    "customers/part-00001.parquet": "445842994925d44029ec4334e065798f1cecbbbd87035691cd33107535f294df",
    "line_items/month=2024-01/part-00000.parquet": "8ea80abdfc899c979951b31b2482d04f1c8cf7f8f0be6be6fcb662a9280cdcab",
    "line_items/month=2024-01/part-00001.parquet": "91eea2350afde1e9506f8fa01aa737e9e3abc20681a3f70d49b9576f45c56d51",
    "line_items/month=2024-02/part-00000.parquet": "d474a017d7ba1b55d60d87d1e1c50b49b221399fe918047e33acc031502326bd",
    "line_items/month=2024-02/part-00001.parquet": "965988ae404f4d8c2c3c2c8fa82d7923f189d40d88b3671733ad4a7b7a5e46f4",
    "products/part-00000.parquet": "e9609207576d58707d2bfcc5ec6fecc90b2658872f9b2aec63472ff416fc5447",
    "stores/part-00000.parquet": "cb547438c5479c73c8070a70a2d8a1802a2683ef08e88dd54957febddf818e9f",
    "transactions/month=2024-01/part-00000.parquet": "39b7b4cf1fc82d74e1060db194e7473fd73ebb4f37fc0248410330d20e07f8e4",
    "transactions/month=2024-01/part-00001.parquet": "06ae5062c3e98eb2f87e52a9ba0351bf2a7ee0081faad60d7a0d358e7f83b5be",
    "transactions/month=2024-02/part-00000.parquet": "e49852d85ba9cce912d53319bdbf873a390cca2e947c8826e2759058ec1cc1e7",
    "transactions/month=2024-02/part-00001.parquet": "8ce828cefd5982c1f599c8fff97a36d4130a4a55cff0d2a68a29d8e79cd157cb",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "03d30f292ebfb3b49b92864f2a459e00525d41717f534697be19fb823b7b39f0"


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
