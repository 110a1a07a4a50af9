"""The bytes of every output file are identical whatever the number of workers, the order
in which partitions run, or whether Dask runs them at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import file_hashes, small_spec

from synthpipe.engine.cluster import dask_client
from synthpipe.engine.generate import generate
from synthpipe.plan import make_plan
from synthpipe.sink.manifest import build_manifest
from synthpipe.storage import Location


@pytest.mark.parametrize(
    "overrides",
    [{}, {"customers.lifetime.reactivation.probability": 0.6}],
    ids=["first_lives", "with_returns"],
)
def test_one_worker_two_workers_and_in_process_write_identical_bytes(
    tmp_path: Path, overrides: dict[str, float]
) -> None:
    spec = small_spec(**overrides)
    tasks = make_plan(spec)
    manifests = {}
    for name, workers in (("one", 1), ("two", 2)):
        with dask_client(workers=workers) as client:
            assert len(client.scheduler_info()["workers"]) == workers
            results = generate(client, spec, tasks, Location(str(tmp_path / name)))
        manifests[name] = build_manifest(spec, results).document()["files"]
    # In process, partitions in reverse order.
    results = generate(None, spec, list(reversed(tasks)), Location(str(tmp_path / "reversed")))
    manifests["reversed"] = build_manifest(spec, results).document()["files"]
    one, two, reverse = (file_hashes(tmp_path / n) for n in ("one", "two", "reversed"))
    # per block its customers, their history and their devices, cards and addresses;
    # products, stores; sales and change feed by block-month
    assert len(one) == 5 * 3 + 1 + 1 + 3 * 3 * 3
    assert one == two == reverse
    assert manifests["one"] == manifests["two"] == manifests["reversed"]


def test_same_spec_written_to_two_places_has_the_same_bytes(tmp_path: Path) -> None:
    spec = small_spec()
    moved = small_spec(output__path=str(tmp_path / "elsewhere"))
    tasks = [t for t in make_plan(spec) if t.kind != "sales" or t.block == 0]
    generate(None, spec, tasks, Location(str(tmp_path / "a")))
    generate(None, moved, tasks, Location(str(tmp_path / "b")))
    assert file_hashes(tmp_path / "a") == file_hashes(tmp_path / "b")


def test_a_session_closed_in_the_background_is_closed_when_its_block_ends() -> None:
    import os

    import psutil

    from synthpipe.engine.cluster import DaskSession

    session = DaskSession(workers=1)
    with session as client:
        assert client.submit(sum, [1, 2, 3]).result() == 6
        worker_pids = list(client.run(os.getpid).values())
        assert all(psutil.pid_exists(pid) for pid in worker_pids)
        session.close_in_background()
        other_work = sum(range(1000))  # this thread carries on while the cluster closes
    assert other_work == 499500
    assert client.status == "closed"
    # the worker processes are gone (or zombies of a parent that is gone) once the block ends
    for pid in worker_pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"


def test_workers_are_forked_ready_with_the_worker_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The LocalCluster's workers come from the fork server: before any task, they already
    hold the task modules (no import on the first task), none of the statistical tests, the
    allocator and thread settings every worker must start with, and this process's
    environment as it is now (set after the server started: credentials, for one)."""
    import sys

    from synthpipe.engine.workers import (
        FORKSERVER,
        WORKER_MALLOC_ENV,
        start_worker_server,
        worker_environment,
        worker_start_method,
    )

    if not sys.platform.startswith("linux"):
        pytest.skip("workers are forked on Linux only; they are spawned here")
    assert worker_start_method() == FORKSERVER
    start_worker_server()
    monkeypatch.setenv("SYNTHPIPE_TEST_LATE_VARIABLE", "set after the fork server started")

    def state() -> dict[str, object]:
        import os
        import sys

        return {
            "environment": {key: os.environ.get(key) for key in worker_environment()},
            "late": os.environ.get("SYNTHPIPE_TEST_LATE_VARIABLE"),
            "task modules": {"synthpipe.engine.generate", "synthpipe.validate.units"}
            <= set(sys.modules),
            "scipy.stats": "scipy.stats" in sys.modules,
        }

    with dask_client(workers=2) as client:
        states = list(client.run(state).values())
    assert len(states) == 2
    for worker in states:
        assert worker["task modules"] is True
        assert worker["scipy.stats"] is False
        assert worker["late"] == "set after the fork server started"
        environment = worker["environment"]
        assert isinstance(environment, dict)
        assert {k: environment[k] for k in WORKER_MALLOC_ENV} == WORKER_MALLOC_ENV
        assert environment["OMP_NUM_THREADS"] is not None


def test_a_relative_output_lands_under_the_callers_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forked worker starts in its fork server's working directory unless multiprocessing
    moves it to the caller's (it does, at each fork): a relative location must land where
    the caller is, even after the caller changed directory."""
    from synthpipe.engine.workers import start_worker_server

    start_worker_server()
    monkeypatch.chdir(tmp_path)
    spec = small_spec()
    tasks = [t for t in make_plan(spec) if t.kind != "sales"]
    with dask_client(workers=1) as client:
        results = generate(client, spec, tasks, Location("relative/out"))
    written = {f.path for r in results for f in r.files}
    on_disk = {
        str(p.relative_to(tmp_path / "relative" / "out")) for p in tmp_path.rglob("*.parquet")
    }
    assert written
    assert on_disk == written
