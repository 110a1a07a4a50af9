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
    "customer_changes/month=2024-01/part-00000.parquet": "e27a9a7f63114a44ec1a9f5865fc22b250f5f5606d1b0d5757f6876af55e983b",
    "customer_changes/month=2024-01/part-00001.parquet": "a45c4fe9f7e88048b25fa642256171a79bfeb8d216c875558a4cc842d3a6c355",
    "customer_changes/month=2024-02/part-00000.parquet": "e2bf6d58006814b07abee25fea16c2bf1a7df17ec3b7c34b6325af1e40e22f6a",
    "customer_changes/month=2024-02/part-00001.parquet": "422b1f3ed16b173f21a9abff0433686c2f05059419567741e85a92a1a5029573",
    "customer_history/part-00000.parquet": "61561a56db1ea09145b7d251377fbc50f31a1ed106d65bc3bb9d04c1e2aa79c8",
    "customer_history/part-00001.parquet": "09fa057f11febb11ad6b143c7f9a999e09bba0f0d54b8f9f3cba66bcff6648c0",
    "customers/part-00000.parquet": "d24638e84d47fb885ab5b45b325dbf6c07e4c2e8e01c780602b9f447a65171cc",
    "customers/part-00001.parquet": "453d9927e0e5cab7b961f827fdbbf8eb11eceabfc65ed4a42f1eb61e8ae00160",
    "line_items/month=2024-01/part-00000.parquet": "dfe94756fc9f1f7fd6ebd747e62c448c803bb951205b3d900106ee6fec33d497",
    "line_items/month=2024-01/part-00001.parquet": "1412028303fc6d9d344917223ef925de756d1567e5a2342f52ca211fe3543229",
    "line_items/month=2024-02/part-00000.parquet": "82d77e67cfa94c4f9e7fa03d90a4f2a4f6277a90153bc71dfa8ba4c4e6df32b0",
    "line_items/month=2024-02/part-00001.parquet": "a48a05f75105c52a71898138e3c17f6c263a0ecff775e1cad40dd6d3780a091f",
    "products/part-00000.parquet": "cb54a3bc4014237e20dd0c3b2ac83f7f77f6ee394dd5fda02df62e5b059b805e",
    "stores/part-00000.parquet": "28f638174136e473a966aae67f98a9e95bf749e6070d7fb8f2dd51d28f3e552b",
    "transactions/month=2024-01/part-00000.parquet": "f807ca9dd20c755988feb08c3de0ba5f60f0fef09a2b17a674b8112bc178d96b",
    "transactions/month=2024-01/part-00001.parquet": "fa49e109fa6041f83a7155b7f751790d50771f1bba30e025a54fc5e366fbb377",
    "transactions/month=2024-02/part-00000.parquet": "0d7f532ab29c2a438d4c2029183f1cd07985f32b539bfa62dba9eb1809656d1d",
    "transactions/month=2024-02/part-00001.parquet": "b9c9f8f653ba2055acdb00a6a3ff1c58051ffd3796441500a7e3596a6a43db3c",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
PINNED_SEED_4242 = "fa512f8adeedfc7a0dacc57fdcce11ad58223c9fc99ba19fe4f22bf1430d7fee"


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
