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
    "customers/part-00000.parquet": "eb8fbbb65464c2dce4d797a9ecccefc27b79d92707014848a75320e6ec52b916",
    "customers/part-00001.parquet": "14fcda94de4fae1dedc9ba533bfcbb10eee29d45d63a0ee5dd8f3ed737f989f7",
    "line_items/month=2024-01/part-00000.parquet": "10049129591f7d703d72dcf32631cc21b3a9067e65422541368fadb4d06cb463",
    "line_items/month=2024-01/part-00001.parquet": "1b29f530d382a70b198804208fa9ebece8a5d59055d25c175b36b4879412af39",
    "line_items/month=2024-02/part-00000.parquet": "59acc36605c5fb47713717fc10aaf46cedc4f8aa0b8e0521cf21e9c8e328823a",
    "line_items/month=2024-02/part-00001.parquet": "ed8b0c2745e8cf861982310f929cba085627b8bb0c3790f01610bd9d5856a435",
    "products/part-00000.parquet": "890d35695362b567050ec804dbbe39729026fa6d3f85c78bfdfac7a6589611fc",
    "stores/part-00000.parquet": "463d982c906114a5da8b4e4e4c0c74afcdb87c14021239134887691da4bf41b4",
    "transactions/month=2024-01/part-00000.parquet": "39db308cbd11a27ece474c5f67208697958fb484d1acbf6f0ca175a4ce438a97",
    "transactions/month=2024-01/part-00001.parquet": "0382f9d130b56d6e738915937317587212fd21fe0fd6e8f490e397fbbb0a2098",
    "transactions/month=2024-02/part-00000.parquet": "4335e655b62575b051a6b853f0463b16b7dd4cf1ff0a81aa6f5175d4daa96f36",
    "transactions/month=2024-02/part-00001.parquet": "4cd86c7fd9681bcb21656537a46ec4c1003c4c68d32b92df68fd9c7532bc6210",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "7282ac0eb92e68250c0b9c4fd7c4d1d8a97fe8dd8955b9eb34b6ab403527ef1d"


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
