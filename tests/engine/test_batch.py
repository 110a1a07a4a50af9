"""run_batch: the same results in the same order in process and on a cluster, broadcast
and shared arguments reach every task, progress counts every task, failures surface."""

from __future__ import annotations

import dask
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
        interleaved = [abs(item) % 3 for item in ITEMS]  # grouped: the order is rebuilt
        for fail_fast, groups in ((False, None), (True, None), (True, interleaved)):
            counted: list[int] = []
            results = run_batch(
                client,
                pow,
                ITEMS,
                shared={"exp": 3},
                broadcast={"mod": 7},
                keys=[f"pow-{fail_fast}-{groups is None}-{i}" for i in range(len(ITEMS))],
                progress=lambda d, t, c=counted: c.append(d),
                fail_fast=fail_fast,
                groups=groups,
            )
            assert list(results) == _expected()
            assert counted == list(range(len(ITEMS) + 1))
        with pytest.raises(ZeroDivisionError):
            list(run_batch(client, pow, [2, 0, 3], shared={"exp": -1}, fail_fast=True))
    with pytest.raises(ZeroDivisionError):
        list(run_batch(None, pow, [2, 0, 3], shared={"exp": -1}))


def _where(item: int) -> tuple[int, str]:
    from distributed import get_worker

    return item, get_worker().address


def test_a_groups_items_prefer_one_worker() -> None:
    """Items of one group go to the group's worker (g mod n of the sorted addresses), so
    what a worker caches for a group (a customer block) is built once. Work stealing (which
    keeps the load balanced in a real run) is off here, so the placement is exact."""
    with (
        dask.config.set({"distributed.scheduler.work-stealing": False}),
        dask_client(workers=2) as client,
    ):
        workers = sorted(client.scheduler_info()["workers"])
        groups = [i % 2 for i in range(8)]
        placed = list(run_batch(client, _where, list(range(8)), groups=groups))
    assert [item for item, _ in placed] == list(range(8))
    ran_on = {group: {w for (i, w) in placed if groups[i] == group} for group in (0, 1)}
    assert ran_on == {0: {workers[0]}, 1: {workers[1]}}
