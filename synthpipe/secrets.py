"""Credentials in the spec: referenced, resolved only where a store is opened, and never
written down.

``output.storage_options`` may hold ``${env:NAME}`` instead of a value: the value is read
from the environment when the output is opened (``resolve``), so it never enters the
spec document, the manifest, the report or Prefect. A credential written in the spec as a
literal still works, but everything that records the spec records ``redact``'s copy, and
a literal is moved into the environment before the spec is handed to Prefect
(``externalise``). A value counts as a credential by its option name (key, secret, token,
password, ...) or by its shape (an AWS access key id, a URL with a password).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

from synthpipe.errors import InputError

ENV_REFERENCE = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
CREDENTIAL_NAME = re.compile(
    r"key|secret|token|passw|credential|signature|sas|auth|private|session|cookie|bearer",
    re.IGNORECASE,
)
CREDENTIAL_SHAPES = (
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"://[^/@\s:]+:[^/@\s]+@"),  # a URL with user:password@
)
REDACTED = "<redacted>"
EXTERNAL_PREFIX = "SYNTHPIPE_CREDENTIAL_"  # environment names ``externalise`` chooses


def is_reference(value: object) -> bool:
    """``${env:NAME}``: a pointer to a value, not the value."""
    return isinstance(value, str) and ENV_REFERENCE.match(value) is not None


def is_credential(name: str, value: object) -> bool:
    """A literal value that must not be written down: its option's name says credential,
    or the value has the shape of one."""
    if value is None or isinstance(value, bool) or is_reference(value):
        return False
    if isinstance(value, (Mapping, list)):
        return False  # judged entry by entry
    if CREDENTIAL_NAME.search(name):
        return True
    return any(shape.search(str(value)) for shape in CREDENTIAL_SHAPES)


def _walk(value: Any, path: str, name: str, leaf: Any) -> Any:
    """Copy of ``value`` with ``leaf(path, name, literal)`` applied to every scalar."""
    if isinstance(value, Mapping):
        return {k: _walk(v, f"{path}.{k}", str(k), leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, f"{path}.{i}", name, leaf) for i, v in enumerate(value)]
    return leaf(path, name, value)


def is_externalised(value: object) -> bool:
    """A reference ``externalise`` wrote for a literal credential: it stands for a secret."""
    match = ENV_REFERENCE.match(value) if isinstance(value, str) else None
    return match is not None and match.group(1).startswith(EXTERNAL_PREFIX)


def redact(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with every literal credential, and every reference ``externalise``
    made for one, replaced by REDACTED (references the user wrote stay)."""

    def hidden(_path: str, name: str, value: Any) -> Any:
        return REDACTED if is_credential(name, value) or is_externalised(value) else value

    return dict(_walk(options, "", "", hidden))


def credential_paths(options: Mapping[str, Any], where: str) -> list[str]:
    """Dotted paths (under ``where``) of the literal credentials in ``options``."""
    found: list[str] = []

    def note(path: str, name: str, value: Any) -> Any:
        if is_credential(name, value):
            found.append(f"{where}{path}")
        return value

    _walk(options, "", "", note)
    return found


def resolve(options: Mapping[str, Any], environ: Mapping[str, str], where: str) -> dict[str, Any]:
    """``options`` with every ``${env:NAME}`` replaced by the variable's value; a variable
    that is not set is an InputError naming the field."""

    def value_of(path: str, _name: str, value: Any) -> Any:
        match = ENV_REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            return value
        variable = match.group(1)
        if variable not in environ:
            raise InputError(
                f"`{where}{path}` names the environment variable {variable}, which is not set"
            )
        return environ[variable]

    return dict(_walk(options, "", "", value_of))


def externalise(
    options: Mapping[str, Any], environ: MutableMapping[str, str], where: str
) -> dict[str, Any]:
    """``options`` with every literal credential moved into ``environ`` (under a name
    derived from its field) and replaced by a reference to it."""

    def moved(path: str, name: str, value: Any) -> Any:
        if not is_credential(name, value):
            return value
        variable = EXTERNAL_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", f"{where}{path}").upper()
        environ[variable] = str(value)
        return f"${{env:{variable}}}"

    return dict(_walk(options, "", "", moved))
