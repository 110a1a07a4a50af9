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
    "customers/part-00000.parquet": "4d1eaabf4eab6ed1be22df1fefc34a87822b68e48ca490e7fdfae8990a940ec7",
    "customers/part-00001.parquet": "8ef17c09894b349b88b451a2d3e5aafcf1ef8eb46220cffcc8ddf53706c7a85e",
    "line_items/month=2024-01/part-00000.parquet": "7a48c96cd1e2f9bf935131b249a61ea3fb0b3f6cbf0abe12ab398e8dd9b8d907",
    "line_items/month=2024-01/part-00001.parquet": "e2458c4253f8803cb7a0a237e10b1ebfdf90d04e3573c06cdc19786ba301c7a8",
    "line_items/month=2024-02/part-00000.parquet": "035d3ea0a192bad2f154969a9953a3b1d98aa9159eb78b7c44e75c6ad858a8fc",
    "line_items/month=2024-02/part-00001.parquet": "f60fee9196586406138f8ce446bdf7cf67962defd3b6c9990153702a71c6202c",
    "products/part-00000.parquet": "24e45a814526b7d7ca404198cfd796690c511cac1ee404458e2dfc88114d5101",
    "stores/part-00000.parquet": "a637745475dd0bb8e9bd4d75f6ac71d5335c23cf2156ad618680033d86e7be21",
    "transactions/month=2024-01/part-00000.parquet": "60e1052d4ec9f36c0b87c74a6cfeacd6979f68fe80927253231c05182783a4f1",
    "transactions/month=2024-01/part-00001.parquet": "410ca95537dcef88392b20b78e4d966202e023e66daea005be1ead359c7f77bf",
    "transactions/month=2024-02/part-00000.parquet": "da39fad24cde5002d40158a3822328d86c9a97216715e3dbf431f3553693ad6b",
    "transactions/month=2024-02/part-00001.parquet": "b4a8c8132a46f5f266d07d62f3b631741d4625ee57f2b28d43ec1b255f6f1369",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "4a7c8aab64245d7bd268ee74f329245bb57fd577fd6eff0fd636a8a266954c58"


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
