"""Which values count as credentials, and what redaction, resolution and externalising do."""

from __future__ import annotations

import pytest
from helpers import small_spec

from synthpipe.errors import InputError
from synthpipe.secrets import REDACTED, credential_paths, externalise, redact, resolve
from synthpipe.sink.manifest import build_manifest


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("secret", "x"),
        ("key", "x"),
        ("aws_secret_access_key", "x"),
        ("token", 12345),
        ("password", "x"),
        ("account_key", "x"),
        ("sas_token", "x"),
        ("endpoint_url", "https://user:pa55@minio:9000"),  # a password in a URL
        ("anything", "AKIAABCDEFGHIJKLMNOP"),  # an AWS access key id
    ],
)
def test_credentials_are_redacted_wherever_they_sit(name: str, value: object) -> None:
    options = {"outer": {name: value}, name: value, "list": [{name: value}]}
    assert redact(options) == {
        "outer": {name: REDACTED},
        name: REDACTED,
        "list": [{name: REDACTED}],
    }
    assert credential_paths(options, "o") == [f"o.outer.{name}", f"o.{name}", f"o.list.0.{name}"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("endpoint_url", "http://minio:9000"),
        ("region_name", "eu-west-1"),
        ("anon", True),
        ("key", "${env:AWS_ACCESS_KEY_ID}"),  # a reference, not a value
        ("use_ssl", False),
    ],
)
def test_plain_options_and_references_stay(name: str, value: object) -> None:
    assert redact({name: value}) == {name: value}
    assert credential_paths({name: value}, "o") == []


def test_resolve_and_externalise_round_trip() -> None:
    environ: dict[str, str] = {}
    options = {"key": "AKIAABCDEFGHIJKLMNOP", "secret": "s3cr3t", "endpoint_url": "http://m:9"}
    moved = externalise(options, environ, "output.storage_options")
    assert "s3cr3t" not in str(moved)
    assert "AKIA" not in str(moved)
    assert moved["endpoint_url"] == "http://m:9"
    assert resolve(moved, environ, "output.storage_options") == options
    with pytest.raises(InputError, match=r"`output\.storage_options\.key` names the environment"):
        resolve(moved, {}, "output.storage_options")


def test_the_manifest_records_the_spec_redacted() -> None:
    spec = small_spec(output__storage_options={"secret": "s3cr3t", "endpoint_url": "http://m:9"})
    manifest = build_manifest(spec, []).document()
    assert manifest["spec"]["output"]["storage_options"] == {
        "secret": REDACTED,
        "endpoint_url": "http://m:9",
    }
    assert "s3cr3t" not in str(manifest)
