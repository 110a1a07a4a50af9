"""Checks on an output location before anything is written (bad ones exit with status 2)."""

from __future__ import annotations

import os
import posixpath

from fsspec.implementations.memory import MemoryFileSystem

from synthpipe.errors import OutputError
from synthpipe.formats import FORMATS, output_format
from synthpipe.secrets import resolve
from synthpipe.sink.lock import ASIDE_PREFIX, LOCK_NAME
from synthpipe.sink.manifest import MANIFEST_NAME
from synthpipe.sink.names import TRUTH_FOLDER
from synthpipe.sink.refresh import STAGING
from synthpipe.spec import Spec
from synthpipe.spec.loader import STORAGE_OPTIONS
from synthpipe.storage import TEMP_PREFIX, Location, is_local
from synthpipe.vocabulary import REPORT_FOLDER, TABLES

OWN_NAMES = (LOCK_NAME, STAGING)
# What a dataset's root holds: its tables, the report, the ground truth, the publish marker
LAYOUT_NAMES = frozenset(
    {
        *TABLES,
        REPORT_FOLDER,
        TRUTH_FOLDER,
        MANIFEST_NAME,
        *OWN_NAMES,
        *(name for declared in FORMATS.values() for name in declared.root_names),
    }
)


def output_location(spec: Spec, url: str | None = None) -> Location:
    """Where ``spec`` writes (``url`` overrides its output.path), with the storage
    options' ``${env:NAME}`` references resolved from this process's environment."""
    options = resolve(spec.output.storage_options, os.environ, STORAGE_OPTIONS)
    return Location(url if url is not None else spec.output.path, options)


def check_output(location: Location, mode: str = "refresh") -> None:
    """Refuse locations that are files, unwritable, unreachable, in this process's memory,
    or folders holding something else. A folder that holds only synthpipe's layout but
    lost its manifest is taken by ``--mode overwrite`` (and refused, saying so, by a
    refresh, which cannot know what it holds)."""
    try:
        fs, root = location.filesystem()
    except Exception as exc:  # each fsspec implementation raises its own kinds
        raise OutputError(f"--out {location.url!r} cannot be opened: {_reason(exc)}") from None
    if isinstance(fs, MemoryFileSystem):
        raise OutputError(
            f"--out {location.url!r} is this process's memory, which the Dask workers (other"
            " processes) cannot share; use a folder or an object store"
        )
    try:
        kind = ("dir" if fs.isdir(root) else "file") if fs.exists(root) else None
        entries = fs.ls(root, detail=False) if kind == "dir" else []
    except Exception as exc:  # no credentials, no network, no permission: one line
        raise OutputError(f"--out {location.url!r} cannot be reached: {_reason(exc)}") from None
    if kind is None:
        if is_local(fs):
            _check_local_parent(root, location.url)
        return
    if kind == "file":
        raise OutputError(f"--out {location.url!r} is a file, not a folder")
    check_writable(location)
    names = [posixpath.basename(str(e).rstrip("/")) for e in entries]
    foreign = [n for n in names if n and n != posixpath.basename(root.rstrip("/")) and not _ours(n)]
    if not foreign or fs.exists(location.join(MANIFEST_NAME)):
        return
    if all(n in LAYOUT_NAMES for n in foreign):
        if mode == "overwrite":
            return
        raise OutputError(
            f"--out {location.url!r} holds synthpipe's folders but no {MANIFEST_NAME} (removed?),"
            " so what it holds is unknown; run with --mode overwrite to rebuild it there"
        )
    raise OutputError(
        f"--out {location.url!r} is a non-empty folder without a synthpipe dataset"
        f" ({MANIFEST_NAME} missing); choose a new or empty folder"
    )


def check_format(spec: Spec, location: Location) -> None:
    """Refuse output settings the spec's format cannot publish with (an Iceberg catalog
    it could not reach), before anything is written."""
    output_format(spec.output.format).check(location, spec.output.model_dump(mode="json"))


def check_writable(location: Location) -> None:
    """Refuse an existing local folder this process cannot write (a read-only mount, no
    permission) before anything starts: every run and validation writes into it."""
    fs, root = location.filesystem()
    if is_local(fs) and os.path.isdir(root) and not os.access(root, os.W_OK | os.X_OK):
        reason = "a read-only file system" if _read_only(root) else "not writable by this user"
        raise OutputError(f"{location.display()} cannot be written: {reason}")


def _read_only(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _reason(exc: BaseException) -> str:
    """An exception's type and the first line of its message."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _ours(name: str) -> bool:
    """Names a synthpipe run can leave before its manifest exists (a killed first run)."""
    return name in OWN_NAMES or name.startswith((TEMP_PREFIX, ASIDE_PREFIX))


def _check_local_parent(root: str, url: str) -> None:
    import os

    parent = os.path.dirname(os.path.abspath(root))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise OutputError(f"--out {url!r} is below a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out {url!r} cannot be created: {parent!r} is not writable")
