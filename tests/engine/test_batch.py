"""run_batch: the same results in the same order in process and on a cluster, broadcast
and shared arguments reach every task, progress counts every task, failures surface."""

from __future__ import annotations

import pytest

from synthpipe.engine.batch import run_batch
from synthpipe.engine.cluster import dask_client

ITEMS = list(range(-3, 12))


def _expected() -> list[int]:
    return [pow(item, 3, 7) for item in ITEMS]


def test_in_process_and_on_a_cluster_agree_in_item_order() -> None:
    seen: list[tuple[int, int]] = []
    here = run_batch(
        None,
        pow,
        ITEMS,
        shared={"exp": 3},
        broadcast={"mod": 7},
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == []  # in process the items run lazily, as results are read
    assert list(here) == _expected()
    assert seen == [(i, len(ITEMS)) for i in range(len(ITEMS) + 1)]
    with dask_client(workers=2) as client:
        for fail_fast in (False, True):
            counted: list[int] = []
            results = run_batch(
                client,
                pow,
                ITEMS,
                shared={"exp": 3},
                broadcast={"mod": 7},
                keys=[f"pow-{fail_fast}-{i}" for i in range(len(ITEMS))],
                progress=lambda d, t, c=counted: c.append(d),
                fail_fast=fail_fast,
            )
            assert list(results) == _expected()
            assert counted == list(range(len(ITEMS) + 1))
        with pytest.raises(ZeroDivisionError):
            list(run_batch(client, pow, [2, 0, 3], shared={"exp": -1}, fail_fast=True))
    with pytest.raises(ZeroDivisionError):
        list(run_batch(None, pow, [2, 0, 3], shared={"exp": -1}))
