"""How the embedded LocalCluster's worker processes start: forked from one server process
that has already imported what the tasks need, rather than spawned as fresh interpreters.

A spawned worker imports distributed, numpy, pyarrow, Faker and synthpipe itself (about
0.8 s of a core each) before it can take a task, and every worker does it again. The fork
server imports them once; each worker is then a fork of it, ready at once. Started early
(``start_worker_server``, at the top of a command), the server imports on another core
while the command imports Prefect, so the cluster is up about as soon as the command is.

This module imports only the standard library (and the leaf ``synthpipe.stopping``), so
that it can run before anything heavy.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from multiprocessing import forkserver

from synthpipe.errors import debugging
from synthpipe.stopping import ignoring_interrupts

FORKSERVER = "forkserver"
POSIX = "posix"
STDERR_FD = 2
SPAWN = "spawn"
LINUX = "linux"
PRELOAD_MODULE = __name__  # Dask runs this module's dask_setup in each LocalCluster worker
# Modules every worker needs: Dask's worker machinery, and the modules of the generation
# and validation tasks (which import numpy, pyarrow, Faker and the world model).
WORKER_MODULES = ("distributed", "synthpipe.engine.generate", "synthpipe.validate.units")
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


def worker_start_method() -> str:
    """``forkserver`` on Linux, else ``spawn``. macOS has a fork server too, but its system
    frameworks (numpy's Accelerate BLAS among them) are not fork-safe, which is why Python
    spawns there by default."""
    linux = sys.platform.startswith(LINUX)
    return FORKSERVER if linux and FORKSERVER in multiprocessing.get_all_start_methods() else SPAWN


def worker_environment() -> dict[str, str]:
    """Variables a worker process must start with: one BLAS thread unless the user chose
    otherwise, and the allocator settings above. glibc reads the latter once, when a
    process starts, so a forked worker has them only if its fork server started with them."""
    return {**thread_environment(), **WORKER_MALLOC_ENV}


def thread_environment() -> dict[str, str]:
    """``SINGLE_THREAD_ENV``, except where the user set one of its variables."""
    return {key: os.environ.get(key, value) for key, value in SINGLE_THREAD_ENV.items()}


def start_worker_server() -> None:
    """Start the fork server the workers will be forked from, with ``worker_environment``
    and ``WORKER_MODULES`` (it imports them in the background; this returns at once).
    Nothing happens when it already runs, or where workers are spawned instead."""
    start_quiet_resource_tracker()
    if worker_start_method() != FORKSERVER:
        return
    # The fork server imports WORKER_MODULES before it protects itself from Ctrl-C: started
    # with SIGINT ignored, it and every worker forked from it keep it ignored (the command
    # stops them itself, see synthpipe.stopping), so none prints a KeyboardInterrupt trace.
    with _environment(worker_environment()), ignoring_interrupts():
        multiprocessing.get_context(FORKSERVER).set_forkserver_preload(list(WORKER_MODULES))
        forkserver.ensure_running()


def start_quiet_resource_tracker() -> None:
    """Start Python's multiprocessing resource tracker (which the workers' semaphores
    register with) with its stderr on the null device, unless debugging: when a stop
    signal kills the workers (synthpipe.stopping), it warns of their semaphores at exit,
    a warning about our own shutdown that a user can do nothing with."""
    if debugging() or os.name != POSIX:
        return
    from multiprocessing import resource_tracker

    saved = os.dup(STDERR_FD)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, STDERR_FD)
            resource_tracker.ensure_running()
        finally:
            os.close(null)
            os.dup2(saved, STDERR_FD)
    finally:
        os.close(saved)


def dask_setup(worker: object) -> None:
    """Dask's preload hook, run in each LocalCluster worker as it starts: the worker ignores
    Ctrl-C. The terminal sends it to the whole process group; the command then closes the
    cluster, which stops its workers. Left alone, each worker printed a KeyboardInterrupt
    traceback over the command's own one-line message."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment (so a process started now inherits them),
    restored afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
