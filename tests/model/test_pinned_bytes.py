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
    "customers/part-00000.parquet": "94949763f800b77572dbe7cdadb8373bd12855124e5507a321b17680e96270fe",
    "customers/part-00001.parquet": "5541c39a41f2b0789b914afad5539640d48e9d6e508e06eb931eae34417ca848",
    "line_items/month=2024-01/part-00000.parquet": "acc98415a2a1ba3df69843fcfd3ee21785afd78f336e71da18c23cb9e06dd3c4",
    "line_items/month=2024-01/part-00001.parquet": "69ab253f1187deed52f4fc3cc854cbf7143163431a95f31f1b952292457625db",
    "line_items/month=2024-02/part-00000.parquet": "dcda488b5d260b802c6bbd3eca0fb8e2cd03dcce99ca29fe203950b05faf91bb",
    "line_items/month=2024-02/part-00001.parquet": "b6b1dc08e8484dfe604be04f3dd0b70ccd09b48551c34f7a646ae350fe119fe2",
    "products/part-00000.parquet": "4b6aaaa5aa2d508aeb2343215def4cce0abecd8911d0caea7f21a04fc8d1f793",
    "stores/part-00000.parquet": "270645bead9ed425f5ea3a652cea7c9535d55068516fecfe698b953ae36f1b73",
    "transactions/month=2024-01/part-00000.parquet": "634799f219bfe745b2b7fe41419d48cbbca3563f74ebcc99b45411cf09613bc0",
    "transactions/month=2024-01/part-00001.parquet": "4f073c0df4c63d4586a67d9c414e3fe9badf66bb05751dfcf5c5b700c642472b",
    "transactions/month=2024-02/part-00000.parquet": "d33ecb06f3f8916b7fd746d5a27a9dc6763fdb68d7b8f35cf37f302f385cf2c2",
    "transactions/month=2024-02/part-00001.parquet": "5e1310ba67314c3066b093e47344e71c6e2d05a4bba103c098b2f215a1611c10",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "fac2002609d2a972c20d388e56a65487b4fdbde197ce860d182b8e5071ba7604"


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
