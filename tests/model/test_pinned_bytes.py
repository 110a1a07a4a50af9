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
    "addresses/part-00000.parquet": "12a1d72536ba94f4a094e05f8315ac883a335b3b685c32fde7189199891436d7",
    "addresses/part-00001.parquet": "8a1cc27b2250d0d1ae439722b0a8ab7ad35c75192779a2d4114f86a7d171372b",
    "cards/part-00000.parquet": "465cc29457c4ab7ee912f48f5b8913a97b0ac7188f82d18fbb173f4a8343ad61",
    "cards/part-00001.parquet": "585206affaaf76e9307f4f7a8c6ef9f53b44b478a7100be73f87a16636e5f393",
    "customer_changes/month=2024-01/part-00000.parquet": "408b6adc5b5f23cdd047c75a6b21f14ba9e7a82fe2ee6691d8f7ca235f11fdd6",
    "customer_changes/month=2024-01/part-00001.parquet": "2f8fd238b0203ea7078ef14c79df5b75a2396af5f216ef05f3ee8a5da957201f",
    "customer_changes/month=2024-02/part-00000.parquet": "758f2c0d348b7e5bbb25f63ce776d3ef8e9e9d7ff4ccc3940db3dba42217fe54",
    "customer_changes/month=2024-02/part-00001.parquet": "016dcf73adb2378a2b2cddb58558e47ed457ec19917f9412d46cd257c775dd95",
    "customer_history/part-00000.parquet": "2fa5f0ef7c6d9f4701d5d0c39ceeb64e316f49c3f0653aa89c67464337dc2091",
    "customer_history/part-00001.parquet": "75c532c40f5bd561cc232ed1235679340d63cc99545a5592b38edac3cc6e1fcb",
    "customers/part-00000.parquet": "de5ec46b51edc8cc90bd1e27f6c2a01afb7f31351b83f489a775eba9c3ac877c",
    "customers/part-00001.parquet": "2c1e3c38b821fa9a18e4dd35a1b4435c214d1bd5558f321f0610583def5d6163",
    "devices/part-00000.parquet": "0f098beef181a103042e0f2d8d08a327fa9b48ba943dd5ea27ad5be653fd2b08",
    "devices/part-00001.parquet": "1513397f84b2f3b2163e4128c2e4d3b81d22300a06faf699414f2bb8a2574f5a",
    "line_items/month=2024-01/part-00000.parquet": "f9e236ddd98416af7eaa6baf3c3c4bf6c2e3c5bf79b6976074d6c77411e4b173",
    "line_items/month=2024-01/part-00001.parquet": "fb63bf1ff67d8c46c38a594c34952d33ea8e743b4e5326d0df14f5f6e7dac1b1",
    "line_items/month=2024-02/part-00000.parquet": "c3cab548d645facb459a824ca35b3182e8f9fddcd8a0e87d7187672c6c394a6d",
    "line_items/month=2024-02/part-00001.parquet": "fc9254e099e09dec4a84f84bd3527d1322c30d9dd13da9120215fba430f509f5",
    "products/part-00000.parquet": "bab41e392003c05ee5111845ab4bdbf78ebed435a16dc414fc3d4ed9419fec92",
    "stores/part-00000.parquet": "bec56a6e8486b957185e3edafcd7d58a96da3bcfbde0810d4983ade515c77c3f",
    "transactions/month=2024-01/part-00000.parquet": "95531ee8a208363d548ecc0ce7fc8d62116d626955993febb3bdef83817ca720",
    "transactions/month=2024-01/part-00001.parquet": "a2618212f2480da6b7b7e984c6f9611d184680f2fcdef08550f02a18f4beefe0",
    "transactions/month=2024-02/part-00000.parquet": "b6b378868ed6b7fc6344cf4f5f75bf0e5bf003a49b15f5e9852dbf371c7482ff",
    "transactions/month=2024-02/part-00001.parquet": "8174a49e398adb64aa58a451f19fb482a304a5809d522c81a842047b79dff8a0",
}
# a second seed, pinned as one digest of its sorted "path=sha256" lines
REFERENCE_SEED_11 = Path(__file__).parents[1] / "data" / "pinned_seed_11"
PINNED_SEED_4242 = "1a61b4976471073215cc9a0ff99af52778dea7948485dd11db2680710c7f592d"


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
