"""Dask clients: an embedded LocalCluster sized to the machine, or an existing scheduler."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dask
from distributed import Client, LocalCluster

from synthpipe.engine.workers import (
    PRELOAD_MODULE,
    WORKER_MALLOC_ENV,
    start_worker_server,
    thread_environment,
    worker_start_method,
)
from synthpipe.errors import InputError

SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|inproc|ws|wss)://[^\s/]+(:\d+)?/?$")
CONNECT_TIMEOUT = "30s"
# Each worker is one process with one thread: generation is CPU-bound numpy, so threads
# would only contend for the GIL between numpy calls.
THREADS_PER_WORKER = 1


def default_workers() -> int:
    """One worker per CPU core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_scheduler_address(address: str) -> str:
    """Validate a scheduler address such as ``tcp://10.0.0.5:8786``."""
    if not SCHEDULER_ADDRESS.match(address):
        raise InputError(f"--scheduler must look like tcp://HOST:PORT, got {address!r}")
    return address


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A Dask client: on ``scheduler`` if given, else on a new LocalCluster of ``workers``."""
    if scheduler:
        client = Client(check_scheduler_address(scheduler), timeout=CONNECT_TIMEOUT)
        try:
            yield client
        finally:
            client.close()
        return
    os.environ.update(thread_environment())
    # The LocalCluster's scheduler lives in this process: keep its INFO chatter quiet.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    start_worker_server()  # at once when a command started it early (engine.workers)
    settings = {
        "distributed.worker.multiprocessing-method": worker_start_method(),
        "distributed.nanny.pre-spawn-environ": WORKER_MALLOC_ENV,  # for spawned workers
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=THREADS_PER_WORKER,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            # A forked worker starts with the fork server's environment, which may be older
            # than this process's (credentials set since, for one): hand it the current one.
            env=dict(os.environ),
            preload=[PRELOAD_MODULE],  # its dask_setup: workers leave Ctrl-C to the command
        )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


class DaskSession:
    """A ``dask_client`` whose closing can start early, in a thread: the worker processes
    then exit while this process does its last, Dask-free work (publishing, about 0.5 s
    of each that closing takes otherwise). Leaving the ``with`` block waits for the close.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self._context = dask_client(workers, scheduler)
        self._closer: threading.Thread | None = None
        self._close_error: BaseException | None = None

    def __enter__(self) -> Client:
        return self._context.__enter__()

    def close_in_background(self) -> None:
        """Start closing the client (and the cluster); the client must not be used after."""
        if self._closer is None:
            self._closer = threading.Thread(
                target=self._close, name="synthpipe-cluster-close", daemon=True
            )
            self._closer.start()

    def _close(self) -> None:
        try:
            self._context.__exit__(None, None, None)
        except BaseException as exc:  # re-raised by __exit__, in the caller's thread
            self._close_error = exc

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> None:
        if self._closer is None:
            self._context.__exit__(kind, value, traceback)
            return
        self._closer.join()
        if self._close_error is not None and kind is None:
            raise self._close_error
