"""One way to run a batch of tasks: in this process, or as one Dask task per item.

Every engine stage (generation, truth, file checks, validation, the reference comparison)
runs through ``run_batch``, so retries, broadcast arguments, task keys, progress and the
order of results are handled in one place, the same way in process and on a cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from distributed import Client, as_completed

Progress = Callable[[int, int], None]
R = TypeVar("R")
Finished = Callable[[R], None]  # told each result as its task finishes, in any order


def no_progress(done: int, total: int) -> None:
    """A progress callback that says nothing."""


def run_batch(
    client: Client | None,
    function: Callable[..., R],
    items: Sequence[Any],
    *,
    shared: Mapping[str, Any] | None = None,
    broadcast: Mapping[str, Any] | None = None,
    keys: Sequence[str] | None = None,
    retries: int = 0,
    progress: Progress = no_progress,
    fail_fast: bool = False,
    groups: Sequence[int] | None = None,
    finished: Finished[R] | None = None,
) -> Iterator[R]:
    """``function(item, **shared, **broadcast)`` for every item, results in item order.

    On a cluster the tasks are submitted before this returns (so the caller can work while
    they run); ``broadcast`` values are scattered to every worker once (large arguments
    such as the spec), ``shared`` ones travel with each task. Results come back in order as
    they are ready, each task released once read; with ``fail_fast`` progress counts tasks
    as they finish, whatever their order, and the first failure is raised at once.
    ``client`` None runs the items here, one after the other, lazily. ``groups`` (one
    number per item) asks for the items of a group to run on one worker, where per-group
    state is cached (a customer block): group g prefers worker g mod n, and an idle worker
    still takes (steals) others' items, so the load stays balanced. ``finished`` is
    called in this process with each result as soon as it is read (with ``fail_fast``: as
    its task finishes), before the results are returned.
    """
    arguments = {**(shared or {}), **(broadcast or {})}
    if client is None:
        return _in_process(function, items, arguments, progress, finished)
    if broadcast:
        scattered = client.scatter(list(broadcast.values()), broadcast=True, hash=False)
        arguments.update(zip(broadcast, scattered, strict=True))
    names = list(keys) if keys is not None else None
    if groups is None:
        futures = client.map(
            function, list(items), key=names, retries=retries, pure=False, **arguments
        )
    else:
        futures = _map_by_group(client, function, list(items), groups, names, retries, arguments)
    if fail_fast:
        return _finished_then_ordered(client, futures, progress, finished)
    return _ordered(futures, progress, finished)


def _map_by_group(
    client: Client,
    function: Callable[..., Any],
    items: list[Any],
    groups: Sequence[int],
    keys: list[str] | None,
    retries: int,
    arguments: dict[str, Any],
) -> list[Any]:
    """``client.map`` with each item preferring the worker of its group; the futures in
    item order."""
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:  # none yet: let the scheduler place them
        return list(client.map(function, items, key=keys, retries=retries, pure=False, **arguments))
    chosen: dict[str, list[int]] = {}
    for index, group in enumerate(groups):
        chosen.setdefault(workers[group % len(workers)], []).append(index)
    futures: list[Any] = [None] * len(items)
    for worker, indices in chosen.items():
        mapped = client.map(
            function,
            [items[i] for i in indices],
            key=[keys[i] for i in indices] if keys is not None else None,
            retries=retries,
            pure=False,
            workers=[worker],
            allow_other_workers=True,
            **arguments,
        )
        for index, future in zip(indices, mapped, strict=True):
            futures[index] = future
    return futures


def _in_process(
    function: Callable[..., R],
    items: Sequence[Any],
    arguments: dict[str, Any],
    progress: Progress,
    finished: Finished[R] | None,
) -> Iterator[R]:
    total = len(items)
    progress(0, total)
    for done, item in enumerate(items, 1):
        result = function(item, **arguments)
        if finished is not None:
            finished(result)
        yield result
        progress(done, total)


def _ordered(futures: list[Any], progress: Progress, finished: Finished[R] | None) -> Iterator[R]:
    total = len(futures)
    progress(0, total)
    for done, future in enumerate(futures, 1):
        result: R = future.result()
        future.release()
        if finished is not None:
            finished(result)
        yield result
        progress(done, total)


def _finished_then_ordered(
    client: Client, futures: list[Any], progress: Progress, finished: Finished[R] | None
) -> Iterator[R]:
    total = len(futures)
    progress(0, total)
    for done, future in enumerate(as_completed(futures), 1):
        result = future.result()  # raise the first failure at once
        if finished is not None:
            finished(result)
        progress(done, total)
    results: list[R] = client.gather(futures)
    yield from results
