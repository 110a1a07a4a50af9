"""Bad output and dataset locations are bad input (issue 31, item 6): exit 2 and one line
naming the option and the problem, checked before the lock, Prefect or any generation,
with nothing written. Local limits are checked for real; object stores through fake
fsspec filesystems that answer as S3 does (s3fs's exists() says False for a missing
bucket, and only the bucket's HEAD says why)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fsspec
import pytest
import yaml
from fsspec.spec import AbstractFileSystem
from helpers import small_document

from synthpipe.cli import EXIT_BAD_INPUT, RunRequest, main
from synthpipe.storage import PATH_MAX

NAME_BYTES = 300  # over any common file system's NAME_MAX (255)
FOLDER_NAME_BYTES = 200  # under NAME_MAX: many of them make a path over PATH_MAX
WRITES: list[str] = []  # every write a fake store was asked for


class _Store(AbstractFileSystem):
    """An object store that refuses every write (recording it) and answers `exists` and
    `info` as its subclass says."""

    protocol = "fakestore"
    root_marker = ""

    def pipe_file(self, path: str, value: bytes, **kwargs: Any) -> None:
        WRITES.append(path)
        raise FileNotFoundError("The specified bucket does not exist")

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "w" in mode or "a" in mode:
            WRITES.append(path)
        raise FileNotFoundError("The specified bucket does not exist")

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        raise FileNotFoundError("The specified bucket does not exist")


class _NoBucket(_Store):
    """S3 for a bucket that does not exist: exists() is False, the bucket's HEAD 404."""

    protocol = "fakenobucket"

    def exists(self, path: str, **kwargs: Any) -> bool:
        return False

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        raise FileNotFoundError("The specified bucket does not exist")


class _Forbidden(_Store):
    """S3 with a wrong secret: every HEAD answers 403."""

    protocol = "fakeforbidden"

    def exists(self, path: str, **kwargs: Any) -> bool:
        raise PermissionError("Forbidden")

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        raise PermissionError("Forbidden")


class NoCredentialsError(Exception):
    """botocore's name for no credentials at all."""


class _NoCredentials(_NoBucket):
    """S3 with no credentials: exists() swallows it for a bucket, HEAD raises it."""

    protocol = "fakenocredentials"

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        raise NoCredentialsError("Unable to locate credentials")


class _EmptyBucket(_Store):
    """A bucket that exists and holds nothing."""

    protocol = "fakeemptybucket"

    def exists(self, path: str, **kwargs: Any) -> bool:
        return path.strip("/") == "bucket"

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        if path.strip("/") == "bucket":
            return {"name": "bucket", "type": "directory", "size": 0}
        raise FileNotFoundError(path)


@pytest.fixture(autouse=True)
def _stores() -> None:
    for store in (_NoBucket, _Forbidden, _NoCredentials, _EmptyBucket):
        fsspec.register_implementation(store.protocol, store, clobber=True)
    WRITES.clear()


def _spec(tmp_path: Path) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(small_document()))
    return str(path)


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line of a command that must exit 2 without starting a run."""
    started: list[RunRequest] = []

    def runner(request: RunRequest) -> dict[str, Any]:
        started.append(request)
        return {}

    code = main(argv, runner=runner)
    captured = capsys.readouterr()
    assert code == EXIT_BAD_INPUT, captured.err
    assert started == []
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("synthpipe: error: ")
    return lines[0].removeprefix("synthpipe: error: ")


def _shown(path: Path | str) -> str:
    text = str(path)
    return repr(text[:80] + "...") if len(text) > 80 else repr(text)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_name_longer_than_name_max_is_refused_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: `OSError: [Errno 36] File name too long`, exit 1."""
    spec = _spec(tmp_path)
    before = _files(tmp_path)
    out = tmp_path / "out" / ("a" * NAME_BYTES) / "data"
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    assert limit < NAME_BYTES
    tail = f"has a name of {NAME_BYTES} bytes ({'a' * 20!r}), over the {limit} its file system"
    assert _refused(["run", spec, "--out", str(out)], capsys) == (
        f"--out {_shown(out)} {tail} allows (NAME_MAX)"
    )
    assert _refused(["validate", str(out)], capsys) == (
        f"dataset {_shown(out)} {tail} allows (NAME_MAX)"
    )
    fitted = tmp_path / ("a" * NAME_BYTES + ".yaml")
    sample = tmp_path / "sample.csv"
    sample.write_text("customer_id,ts,amount\n")
    assert _refused(["fit", str(sample), "--out", str(fitted)], capsys) == (
        f"--out {_shown(fitted)} has a name of {NAME_BYTES + 5} bytes ({'a' * 20!r}), over the"
        f" {limit} its file system allows (NAME_MAX)"
    )
    # the spec's name fits, the report's beside it (".fit.html" for ".yaml") does not
    stem = "b" * (limit - len(".fit.html") + 1)
    report = tmp_path / f"{stem}.fit.html"
    assert _refused(["fit", str(sample), "--out", str(tmp_path / f"{stem}.yaml")], capsys) == (
        f"--out {_shown(report)} has a name of {limit + 1} bytes ({'b' * 20!r}), over the"
        f" {limit} its file system allows (NAME_MAX)"
    )
    assert _files(tmp_path) == sorted([*before, "sample.csv"])


def test_a_path_longer_than_path_max_is_refused_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: Prefect and the generation started, and `_manifest.json` was left behind."""
    spec = _spec(tmp_path)
    before = _files(tmp_path)
    folders = PATH_MAX // FOLDER_NAME_BYTES + 1
    out = tmp_path.joinpath(*["d" * FOLDER_NAME_BYTES] * folders)
    size = len(os.fsencode(str(out)))
    assert size > PATH_MAX
    message = (
        f"{_shown(out)} is {size:,} bytes long, over the 4,096 a path may have (PATH_MAX),"
        " with 256 kept for the names below it"
    )
    assert _refused(["run", spec, "--out", str(out)], capsys) == f"--out {message}"
    assert _refused(["validate", str(out)], capsys) == f"dataset {message}"
    assert _files(tmp_path) == before


def test_a_file_where_a_folder_is_needed_and_a_missing_summary_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _spec(tmp_path)
    assert _refused(["validate", spec], capsys) == f"dataset {_shown(spec)} is a file, not a folder"
    summary = tmp_path / "nowhere" / "summary.json"
    out = tmp_path / "data"
    assert _refused(["run", spec, "--out", str(out), "--summary", str(summary)], capsys) == (
        f"--summary {_shown(summary)} cannot be written: folder {_shown(summary.parent)}"
        " does not exist"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "fakenobucket://nosuchbucket/x",
            "'nosuchbucket' does not exist (FileNotFoundError: The specified bucket does not"
            " exist)",
        ),
        (
            "fakeforbidden://bucket/x",
            "access refused (PermissionError: Forbidden); check the credentials",
        ),
        (
            "fakenocredentials://bucket/x",
            "access refused (NoCredentialsError: Unable to locate credentials); check the"
            " credentials",
        ),
    ],
    ids=["no-bucket", "wrong-secret", "no-credentials"],
)
def test_a_store_that_refuses_is_bad_input_naming_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, problem: str
) -> None:
    """Before: `failed: FileNotFoundError: The specified bucket does not exist` (run) and
    `failed: PermissionError: Forbidden` (validate), exit 1, naming no input."""
    spec = _spec(tmp_path)
    assert _refused(["run", spec, "--out", url], capsys) == (
        f"--out {url!r} cannot be reached: {problem}"
    )
    assert _refused(["validate", url], capsys) == f"dataset {url!r} cannot be reached: {problem}"
    assert WRITES == []


def test_a_dataset_missing_from_a_reachable_bucket_does_not_exist(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "fakeemptybucket://bucket/retail"
    assert _refused(["validate", url], capsys) == f"dataset {url!r} does not exist"
    assert WRITES == []
