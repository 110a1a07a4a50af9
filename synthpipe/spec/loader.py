"""Load a spec from YAML, apply ``--set`` overrides, validate, and explain errors in one line."""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import typing
import weakref
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import PydanticUndefined

from synthpipe.errors import SpecError
from synthpipe.secrets import REDACTED, redact
from synthpipe.spec.models import Spec

# Fields that say where data goes, not what it is: they do not enter the data hash, so
# the same world written to two places gives byte-identical files.
LOCATION_FIELDS = ("path", "storage_options", "catalog_uri", "namespace")
# How the files are committed for readers (parquet, delta), not what they hold: left out
# of the data hashes like the location, so a file's bytes do not depend on it. A change
# of it is still a change of the spec (a refresh cannot switch a dataset's format).
TABLE_FORMAT_FIELD = "format"
# Manifests written before ``output.format`` existed were Parquet datasets
FORMAT_BEFORE_THE_FIELD = {f"output.{TABLE_FORMAT_FIELD}": "parquet"}
MAX_SPEC_BYTES = 10 * 2**20  # a spec is a small document; refuse anything larger
# Values in a spec once its YAML aliases are expanded (the default spec has about 700):
# an alias bomb or a list of millions is refused before anything walks it value by value.
MAX_SPEC_VALUES = 100_000
MAX_SPEC_DEPTH = 64  # nesting levels; the spec's own models nest five deep
CALENDAR_END = "end"
SHOWN_TEXT = 60  # characters of a bad value echoed in an error
STORAGE_OPTIONS = "output.storage_options"
ABSENT = "<absent>"
YAML_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
YAML_MERGE_TAG = "tag:yaml.org,2002:merge"  # `<<: *base`: merged keys may be overridden


# libyaml's parser where PyYAML was built with it (about ten times quicker on big input)
SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SpecYamlLoader(SafeLoaderBase):  # type: ignore[valid-type,misc]
    """YAML's safe loader, except that dates stay text (PyYAML's own date parsing raises a
    bare ValueError on an impossible date, ``2024-13-01``, where the spec's validation
    names the field that holds it) and a key given twice in one mapping is refused
    (PyYAML keeps the last silently): ``seed: 1`` then ``seed: 2`` is a mistake to show."""

    def get_single_data(self) -> Any:
        """The document's one value, its mappings checked for duplicate keys first."""
        node = self.get_single_node()
        if node is None:
            return None
        refuse_duplicate_keys(node)
        return self.construct_document(node)


def refuse_duplicate_keys(root: yaml.Node) -> None:
    """Raise a YAML error at the second of two equal keys in any mapping of the composed
    document (``<<`` merge keys aside: a mapping's own key overrides a merged one, as YAML
    says). Iterative and once per node, so deep nesting and aliases cost nothing extra."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(
                (child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(node.value)
            )
        elif isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], yaml.Node] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == YAML_MERGE_TAG:
                    stack.append((value, path))
                    continue
                name = f"{path}.{key.value}" if path else str(key.value)
                earlier = first.setdefault((key.tag, key.value), key)
                if earlier is not key:
                    raise yaml.constructor.ConstructorError(
                        problem=f"duplicate key `{name}` (first given at line"
                        f" {earlier.start_mark.line + 1})",
                        problem_mark=key.start_mark,
                    )
                stack.append((value, name))


def _date_as_text(loader: SpecYamlLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(typing.cast(yaml.ScalarNode, node)))


SpecYamlLoader.add_constructor(YAML_TIMESTAMP_TAG, _date_as_text)


def parse_yaml(text: str) -> Any:
    """Parse YAML text as the spec loader does (``SpecYamlLoader``)."""
    return yaml.load(text, Loader=SpecYamlLoader)  # safe: a SafeLoader subclass


def load_spec(path: str | Path, overrides: list[str] | None = None) -> Spec:
    """Read a YAML spec file, apply ``KEY=VALUE`` overrides and validate the result."""
    raw = read_spec_document(path)
    for override in overrides or []:
        key, value = parse_override(override)
        set_dotted(raw, key, value)
    return spec_from_dict(raw)


def read_spec_document(path: str | Path) -> dict[str, Any]:
    """Parse a YAML spec file into a dict, with one-line errors for unusable files."""
    file = Path(path)
    if not file.exists():
        raise SpecError(f"spec file {str(path)!r} does not exist")
    if not file.is_file():
        raise SpecError(f"spec path {str(path)!r} is not a file")
    if file.stat().st_size > MAX_SPEC_BYTES:
        raise SpecError(f"spec file {str(path)!r} is larger than {MAX_SPEC_BYTES} bytes")
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"spec file {str(path)!r} cannot be read: {exc}") from None
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"spec file {str(path)!r} is not valid YAML{where}: {problem}") from None
    if raw is None:
        raise SpecError(f"spec file {str(path)!r} is empty")
    if not isinstance(raw, dict):
        raise SpecError(f"spec file {str(path)!r} must be a YAML mapping, got {type(raw).__name__}")
    return raw


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``KEY=VALUE`` and parse the value as YAML (so numbers, dates, lists work)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(f"--set expects KEY=VALUE, got {text!r}")
    if any(not part for part in key.split(".")):
        raise SpecError(f"--set key {key!r} is not a dotted field path")
    try:
        parsed = parse_yaml(value) if value.strip() else ""
    except yaml.YAMLError:
        shown = REDACTED if key.startswith(STORAGE_OPTIONS) else repr(value[:SHOWN_TEXT])
        raise SpecError(f"--set {key}: value {shown} is not valid YAML") from None
    return key, parsed


def set_dotted(document: dict[str, Any], key: str, value: Any) -> None:
    """Set ``a.b.0.c`` in a nested dict/list document.

    A level the document leaves out is filled from the spec model's default first, so
    ``products.categories.0.demand`` edits the default catalogue instead of replacing it.
    """
    parts = key.split(".")
    node: Any = document
    model: Any = Spec
    for depth, part in enumerate(parts[:-1]):
        path = ".".join(parts[: depth + 1])
        node, model = _child(node, part, path, model)
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, key)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SpecError(f"--set {key}: `{'.'.join(parts[:-1])}` is not a mapping")


def _child(node: Any, part: str, path: str, model: Any) -> tuple[Any, Any]:
    """The child ``part`` of ``node`` (made from the model's default if absent) and the
    model type that describes it."""
    if isinstance(node, list):
        return node[_list_index(node, part, path)], _inner(model)
    if not isinstance(node, dict):
        raise SpecError(f"--set: `{path.rsplit('.', 1)[0]}` is not a mapping")
    field = _field_type(model, part)
    if part not in node or node[part] is None:
        node[part] = _default_document(model, part)
    return node[part], field


def _field_type(model: Any, name: str) -> Any:
    if isinstance(model, type) and issubclass(model, BaseModel) and name in model.model_fields:
        return model.model_fields[name].annotation
    return _inner(model)


def _inner(annotation: Any) -> Any:
    """The element type of list[X] / dict[str, X] / X | None annotations."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    return arguments[-1] if arguments else None


def _default_document(model: Any, name: str) -> Any:
    """The JSON form of a field's default, or an empty mapping when it has none."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return {}
    info = model.model_fields.get(name)
    if info is None:
        return {}
    default = info.get_default(call_default_factory=True)
    if default is None or default is PydanticUndefined:
        return {}
    return TypeAdapter(Any).dump_python(default, mode="json")


def _list_index(node: list[Any], part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise SpecError(f"--set: `{path}` needs a list index below {len(node)}, got {part!r}")
    return int(part)


def check_document_size(document: Any) -> None:
    """Refuse a document that expands (YAML aliases followed) to more than MAX_SPEC_VALUES
    values, nests deeper than MAX_SPEC_DEPTH, or contains itself; the error names the
    field. Linear in the document as parsed, not as expanded: shared nodes are sized once."""
    _expanded_size(document, "", {}, set(), 0)


def _expanded_size(
    node: Any, path: str, sizes: dict[int, int], active: set[int], depth: int
) -> int:
    if not isinstance(node, (dict, list)):
        return 1
    where = f"`{path}`" if path else "the spec"
    identity = id(node)
    if identity in active:
        raise SpecError(f"{where} contains itself (a YAML alias inside its own anchor)")
    if identity in sizes:
        return sizes[identity]
    if depth >= MAX_SPEC_DEPTH:
        raise SpecError(f"{where} nests deeper than {MAX_SPEC_DEPTH} levels")
    active.add(identity)
    total = 1
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, child in items:
        total += _expanded_size(
            child, f"{path}.{key}" if path else str(key), sizes, active, depth + 1
        )
        if total > MAX_SPEC_VALUES:
            raise SpecError(
                f"{where} holds more than {MAX_SPEC_VALUES:,} values once its YAML aliases"
                " are expanded; a spec is a small document"
            )
    active.discard(identity)
    sizes[identity] = total
    return total


def spec_from_dict(raw: dict[str, Any]) -> Spec:
    """Validate a spec document; errors become a one-line ``SpecError``."""
    check_document_size(raw)
    try:
        return Spec.model_validate(copy.deepcopy(raw))
    except ValidationError as exc:
        raise SpecError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """Turn the first pydantic error into "`dotted.field` <what is wrong>, got <value>"."""
    error = exc.errors(include_url=False)[0]
    loc = [str(part) for part in error["loc"]]
    path = ".".join(loc)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if path.startswith(STORAGE_OPTIONS):
        value = REDACTED  # may hold a credential: never echoed
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    if kind == "missing":
        return f"`{path}` is required{suffix}"
    if kind == "extra_forbidden":
        return f"`{path}` is not a known field{_did_you_mean(loc)}{suffix}"
    bounds = {
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be at most {le}",
    }
    if kind in bounds:
        return f"`{path}` {bounds[kind].format(**ctx)}, got {_show(value)}{suffix}"
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        if message.startswith("`"):
            return f"{message}{suffix}"
        where = f"`{path}` " if path else ""
        return f"{where}{message}{suffix}"
    message = error["msg"][0].lower() + error["msg"][1:]
    where = f"`{path}`" if path else "spec"
    return f"{where}: {message}, got {_show(value)}{suffix}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(loc: list[str]) -> str:
    model: type[BaseModel] | None = Spec
    for part in loc[:-1]:
        if model is None or part not in model.model_fields:
            return ""
        annotation = model.model_fields[part].annotation
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    if model is None:
        return ""
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def spec_document(spec: Spec) -> dict[str, Any]:
    """The resolved spec as a JSON-compatible dict (every default made explicit)."""
    return spec.model_dump(mode="json")


def public_document(spec: Spec) -> dict[str, Any]:
    """``spec_document`` as it may be written down: literal credentials in
    ``output.storage_options`` redacted (``${env:NAME}`` references stay)."""
    document = spec_document(spec)
    document["output"]["storage_options"] = redact(document["output"]["storage_options"])
    return document


def _canonical_hash(document: dict[str, Any]) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def data_hash(spec: Spec) -> str:
    """SHA-256 of everything in the spec that determines the bytes of the data."""
    return _once_per_spec("data", spec, _data_hash)


def _data_hash(spec: Spec) -> str:
    return _canonical_hash(_document_without_location(spec))


def _document_without_location(spec: Spec) -> dict[str, Any]:
    document = spec_document(spec)
    for field in (*LOCATION_FIELDS, TABLE_FORMAT_FIELD):
        document["output"].pop(field, None)
    return document


# Hashes by spec object: workers ask for them several times per partition (the caches
# of world objects are keyed by them), and each costs a dump of the whole spec (about
# 0.6 ms). Specs are frozen, so an object's hashes never change.
_HASHES: dict[tuple[str, int], tuple[weakref.ref[Spec], str]] = {}


def _once_per_spec(kind: str, spec: Spec, compute: typing.Callable[[Spec], str]) -> str:
    key = (kind, id(spec))
    known = _HASHES.get(key)
    if known is not None and known[0]() is spec:
        return known[1]
    value = compute(spec)
    _HASHES[key] = (weakref.ref(spec, lambda _: _HASHES.pop(key, None)), value)
    return value


def world_hash(spec: Spec) -> str:
    """SHA-256 of the spec without calendar.end and the output location: everything that
    determines a partition's rows given its days. Extending the calendar keeps it, so the
    files of complete months stay byte-identical."""
    return _once_per_spec("world", spec, _world_hash)


def _world_hash(spec: Spec) -> str:
    document = _document_without_location(spec)
    document["calendar"].pop(CALENDAR_END, None)
    return _canonical_hash(document)


def flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaf values of a nested document."""
    if isinstance(document, dict):
        flat: dict[str, Any] = {}
        for key, value in document.items():
            flat.update(flatten(value, f"{prefix}{key}."))
        return flat
    if isinstance(document, list):
        flat = {}
        for index, value in enumerate(document):
            flat.update(flatten(value, f"{prefix}{index}."))
        return flat if document else {prefix.rstrip("."): []}
    return {prefix.rstrip("."): document}


def spec_changes(
    old: dict[str, Any], new: dict[str, Any], ignore: tuple[str, ...] = ()
) -> list[str]:
    """What differs between two spec documents, as "`path`: old -> new" lines."""
    before, after = {**FORMAT_BEFORE_THE_FIELD, **flatten(old)}, flatten(new)
    skipped = {f"output.{field}" for field in LOCATION_FIELDS} | set(ignore)
    changes = []
    for path in sorted(set(before) | set(after)):
        if path in skipped or any(path.startswith(f"output.{f}.") for f in LOCATION_FIELDS):
            continue
        old, new_value = before.get(path, ABSENT), after.get(path, ABSENT)
        if old != new_value:
            changes.append(f"`{path}`: {_show(old)} -> {_show(new_value)}")
    return changes
