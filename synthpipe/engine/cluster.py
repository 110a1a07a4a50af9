"""Dask clients: an embedded LocalCluster sized to the machine, or an existing scheduler."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import Client, LocalCluster

from synthpipe.errors import InputError

SCHEDULER_ADDRESS = re.compile(r"^(tcp|tls|inproc|ws|wss)://[^\s/]+(:\d+)?/?$")
CONNECT_TIMEOUT = "30s"
# Each worker is one process with one thread: generation is CPU-bound numpy, so threads
# would only contend for the GIL between numpy calls.
THREADS_PER_WORKER = 1
# Keep BLAS/OpenMP pools to one thread inside each worker process.
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also turns off glibc's
# adaptive mmap threshold: every array over 128 KiB then gets fresh pages from the kernel,
# and generation (many large temporaries) runs about 1.7x slower. Arrays up to 64 MiB come
# from the heap instead, and up to 256 MiB of freed heap is kept for reuse per worker.
WORKER_MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(64 * 2**20),
    "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20),
}


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
    os.environ.update({k: os.environ.get(k, v) for k, v in SINGLE_THREAD_ENV.items()})
    # The LocalCluster's scheduler lives in this process: keep its INFO chatter quiet.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_MALLOC_ENV}):
        cluster = LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=THREADS_PER_WORKER,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
