"""Dask clients: an embedded LocalCluster sized to the machine, or an existing scheduler."""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dask
from distributed import Client, LocalCluster
from distributed.core import Status

from synthpipe.engine.workers import (
    PRELOAD_MODULE,
    WORKER_MALLOC_ENV,
    start_worker_server,
    thread_environment,
    worker_start_method,
)
from synthpipe.errors import InputError, debugging
from synthpipe.machine import available_cores
from synthpipe.stopping import before_stopping

SCHEDULER_ADDRESS = re.compile(
    r"^(?P<protocol>tcp|tls|inproc|ws|wss)://(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+)"
    r"(?::(?P<port>\d+))?/?$"
)
DEFAULT_SCHEDULER_PORT = 8786  # Dask's
MAX_PORT = 65535
PROBE_SECONDS = 3.0  # a scheduler answers a TCP connect at once; a dead host does not
PROBED_PROTOCOLS = ("tcp", "tls", "ws", "wss")
CONNECT_TIMEOUT = "30s"
# Each worker is one process with one thread: generation is CPU-bound numpy, so threads
# would only contend for the GIL between numpy calls.
THREADS_PER_WORKER = 1
SCHEDULER_HTTP_ADDRESS = (
    "127.0.0.1:0"  # the scheduler's HTTP routes (health, metrics) on a free port
)


def default_workers() -> int:
    """One worker per CPU core available to this process."""
    return available_cores()


def check_scheduler_address(address: str, probe: bool = True) -> str:
    """Validate a scheduler address such as ``tcp://10.0.0.5:8786`` and, with ``probe``,
    that something accepts connections there (InputError naming the cause, in seconds
    instead of Dask's 30 s connect timeout)."""
    match = SCHEDULER_ADDRESS.match(address)
    if match is None:
        raise InputError(f"--scheduler must look like tcp://HOST:PORT, got {address!r}")
    port = int(match.group("port") or DEFAULT_SCHEDULER_PORT)
    if not 1 <= port <= MAX_PORT:
        raise InputError(f"--scheduler port must be between 1 and {MAX_PORT}, got {port}")
    if probe and match.group("protocol") in PROBED_PROTOCOLS:
        _probe(address, match.group("host").strip("[]"), port)
    return address


def _probe(address: str, host: str, port: int) -> None:
    try:
        with socket.create_connection((host, port), timeout=PROBE_SECONDS):
            return
    except ConnectionRefusedError:
        reason = "nothing listens there (connection refused)"
    except socket.gaierror:
        reason = f"the host {host!r} is not known"
    except TimeoutError:
        reason = f"no answer within {PROBE_SECONDS:g} s"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    raise InputError(f"--scheduler {address}: {reason}")


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A Dask client: on ``scheduler`` if given, else on a new LocalCluster of ``workers``."""
    if scheduler:
        client = Client(check_scheduler_address(scheduler, probe=False), timeout=CONNECT_TIMEOUT)
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
            # The scheduler serves its HTTP routes even without a dashboard, on port 8787
            # by default, and warns on stderr when another cluster holds that port: any
            # free port will do.
            scheduler_kwargs={"dashboard_address": SCHEDULER_HTTP_ADDRESS},
            # a worker's failure reaches the command as its task's exception, said in one
            # line; its own log lines (heartbeats lost at Ctrl-C, a task's error before a
            # retry) are tracebacks over that line, shown only when debugging
            silence_logs=logging.ERROR if debugging() else logging.CRITICAL,
            # A forked worker starts with the fork server's environment, which may be older
            # than this process's (credentials set since, for one): hand it the current one.
            env=dict(os.environ),
            preload=[PRELOAD_MODULE],  # its dask_setup: workers leave Ctrl-C to the command
        )
    client = Client(cluster)
    try:
        with before_stopping(lambda: _no_more_workers(cluster)):
            yield client
    finally:
        client.close()
        cluster.close()


def _no_more_workers(cluster: LocalCluster) -> None:
    """Tell the cluster's nannies (which run in this process) that they are closing, so
    that a worker stopped by a stop signal is not replaced by a new one."""
    for nanny in list(cluster.workers.values()):
        nanny.status = Status.closing


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
