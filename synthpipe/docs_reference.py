"""The documentation site's reference pages, written from the code at build time.

``spec_reference_markdown`` walks the spec's pydantic models from the root ``Spec`` (through
``model_fields`` only, so it follows the models wherever their modules put them) and
``checks_reference_markdown`` lists the check registry, family by family. ``docs/hooks.py``
adds both pages to the MkDocs site when it is built; nothing here imports MkDocs.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import io
import json
import textwrap
import tokenize
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

# How a path names the members of a container of models: any key of a mapping, every item
# of a list (``customers.segments.<name>.share``, ``products.categories[].name``)
MAPPING_KEY = "<name>"
LIST_ITEMS = "[]"
# A default longer than this is summarised instead of written out
MAX_DEFAULT_CHARS = 80
SPEC_PAGE_TITLE = "Spec reference"
CHECKS_PAGE_TITLE = "Every check"
ROOT_SECTION = "the spec's top level"
CONSTRAINT_SIGNS = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.MinLen, "min_length", "length >="),
    (annotated_types.MaxLen, "max_length", "length <="),
)


@dataclass(frozen=True)
class FieldEntry:
    """One leaf field of the spec: its dotted path and what the reference says of it."""

    path: str
    type: str
    default: str
    constraints: str
    description: str


@dataclass(frozen=True)
class Section:
    """One model of the spec, as met on the walk: its path, docstring and leaf fields."""

    path: str
    model: type[BaseModel]
    doc: str
    default: str  # of a model in a list or mapping: the container's default
    fields: tuple[FieldEntry, ...]


def _cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds, directly or inside containers."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _child_path(path: str, annotation: Any) -> tuple[str, type[BaseModel]] | None:
    """Where a field's nested model sits in the dotted path, or None for a leaf field."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return path, annotation
    if origin in (list, tuple, set, frozenset) and args and _models_in(args[0]):
        return _child_path(f"{path}{LIST_ITEMS}", args[0])
    if origin is dict and len(args) == 2 and _models_in(args[1]):
        return _child_path(f"{path}.{MAPPING_KEY}", args[1])
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            found = _child_path(path, arg)
            if found is not None:
                return found
    return None


def _constraint_text(metadata: list[Any]) -> str:
    """Bounds and patterns of a field's metadata, as ``>= 0, <= 1``."""
    parts: list[str] = []
    for item in metadata:
        for kind, attribute, sign in CONSTRAINT_SIGNS:
            if isinstance(item, kind):
                parts.append(f"{sign} {getattr(item, attribute)}")
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            parts.append(f"matches `{pattern}`")
    return ", ".join(parts)


def type_name(annotation: Any) -> str:
    """A readable name of a field's type: ``float``, ``list[float > 0]``, ``'a' | 'b'``."""
    if annotation is type(None):
        return "null"
    if annotation is dt.date:
        return "date"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        bounds = _constraint_text(list(args[1:]))
        return f"{type_name(args[0])} {bounds}".strip()
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is not None:
        inner = ", ".join(type_name(arg) for arg in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def _plain(value: Any) -> Any:
    """A default as plain JSON-able data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _default_value(field: FieldInfo) -> Any:
    """A field's default value, made by its factory when it has one."""
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return field.default


def summary_text(value: Any) -> str:
    """A default as the reference shows it: the value, or a summary of a long one."""
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, BaseModel):
        return "(its fields' defaults)"
    text = json.dumps(_plain(value), ensure_ascii=False)
    if len(text) <= MAX_DEFAULT_CHARS:
        return f"`{text}`"
    if isinstance(value, dict):
        keys = ", ".join(str(key) for key in value)
        summary = f"{len(value)} entries: {keys}"
        if len(summary) <= MAX_DEFAULT_CHARS:
            return summary
        return f"{len(value)} entries"
    if isinstance(value, list | tuple):
        return f"{len(value)} items"
    return f"`{text[: MAX_DEFAULT_CHARS - 1]}…`"


def default_text(field: FieldInfo) -> str:
    """A field's default as the reference shows it: required, a value, or a summary."""
    return summary_text(_default_value(field))


def _comments_by_line(source: str) -> dict[int, str]:
    """Every comment of a source text by its line number (1-based)."""
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
    return comments


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """The comments written with each field in the model's class body: the block of
    comment lines just above the field and any comment on its own lines."""
    try:
        source = textwrap.dedent(inspect.getsource(model))
    except (OSError, TypeError):  # a model made at run time (pydantic's create_model)
        return {}
    comments = _comments_by_line(source)
    body = ast.parse(source).body[0]
    found: dict[str, str] = {}
    if not isinstance(body, ast.ClassDef):
        return found
    for node in body.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        line = node.lineno - 1
        while line in comments and source.splitlines()[line - 1].lstrip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        end = node.end_lineno or node.lineno
        inline = [
            comments[n]
            for n in range(node.lineno, end + 1)
            if n in comments and not comments[n].startswith("type:")
        ]
        text = " ".join(above + inline)
        if text:
            found[node.target.id] = text
    return found


def _doc(model: type[BaseModel]) -> str:
    """A model's own docstring (not one it inherits), on one line."""
    doc = model.__dict__.get("__doc__") or ""
    return " ".join(doc.split())


def walk_spec(
    root: type[BaseModel],
    path: str = "",
    instance: BaseModel | None = None,
    container_default: str = "",
) -> Iterator[Section]:
    """Every model of the spec from ``root`` down, depth first, with its leaf fields.

    ``instance`` is the model's default value where its parent's default makes one (the
    defaults shown are then that instance's, which may differ from the class's own)."""
    comments = field_comments(root)
    leaves: list[FieldEntry] = []
    children: list[tuple[str, type[BaseModel], BaseModel | None, str]] = []
    for name, field in root.model_fields.items():
        field_path = f"{path}.{name}" if path else name
        value = getattr(instance, name) if instance is not None else _default_value(field)
        nested = _child_path(field_path, field.annotation)
        if nested is not None:
            child_path, child = nested
            if isinstance(value, BaseModel):
                children.append((child_path, child, value, ""))
            else:
                children.append((child_path, child, None, summary_text(value)))
            continue
        description = field.description or comments.get(name, "")
        leaves.append(
            FieldEntry(
                path=field_path,
                type=type_name(field.annotation),
                default=summary_text(value),
                constraints=_constraint_text(field.metadata),
                description=description,
            )
        )
    yield Section(path, root, _doc(root), container_default, tuple(leaves))
    for child_path, child, child_instance, child_default in children:
        yield from walk_spec(child, child_path, child_instance, child_default)


def spec_leaf_paths(root: type[BaseModel]) -> list[str]:
    """The dotted path of every leaf field of the spec, in the reference's order."""
    return [entry.path for section in walk_spec(root) for entry in section.fields]


def _container_line(section: Section) -> str:
    """What a section's own default is, for a model that is not always there."""
    container = section.path.removesuffix(f".{MAPPING_KEY}").removesuffix(LIST_ITEMS)
    if section.default == "required":
        return f"`{container}` is required."
    return (
        f"Default of `{container}`: {section.default}; the table's defaults are those an"
        " item takes for the fields it leaves out."
    )


def spec_reference_markdown() -> str:
    """The spec reference page: every field of every model, walked from ``Spec``."""
    from synthpipe.spec import Spec

    lines = [
        f"# {SPEC_PAGE_TITLE}",
        "",
        "Every field of the spec, walked from the pydantic models when this site is built"
        " (`synthpipe/docs_reference.py`), so it cannot drift from the code. A path's"
        f" `{MAPPING_KEY}` is any key of a mapping, `{LIST_ITEMS}` every item of a list."
        " Defaults are the models' own; fields left `null` are resolved from other fields"
        " when a spec is read (see [The spec](../spec.md)), and a model inside a list or"
        " mapping takes its defaults from the built-in world (`synthpipe/spec/defaults.py`)"
        " where the table says so.",
        "",
    ]
    for section in walk_spec(Spec):
        lines.append(f"## `{section.path}`" if section.path else f"## {ROOT_SECTION}")
        lines.append("")
        if section.doc:
            lines += [section.doc, ""]
        if section.default:
            lines += [_container_line(section), ""]
        if not section.fields:
            continue
        lines += ["| field | type | default | bounds | meaning |", "|---|---|---|---|---|"]
        for entry in section.fields:
            cells = (
                f"`{entry.path}`",
                entry.type,
                entry.default,
                entry.constraints,
                entry.description,
            )
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def checks_reference_markdown() -> str:
    """The checks page: every declared check, family by family, in the registry's order."""
    from synthpipe.validate.checks import FAMILIES

    total = sum(len(family.checks) for family in FAMILIES.values())
    lines = [
        f"# {CHECKS_PAGE_TITLE}",
        "",
        f"The {total} checks the fidelity report can hold (all but the reference comparison's),"
        " family by family in the order the report runs them, as `synthpipe validate --list`"
        " prints them. Written from the check registry (`synthpipe.validate.checks`) when"
        " this site is built. See [The fidelity report](../fidelity.md) for how the gates"
        " are set.",
        "",
    ]
    for family_name, family in FAMILIES.items():
        lines += [
            f"## {family_name}",
            "",
            "| check | group | what it tests |",
            "|---|---|---|",
        ]
        for check in family.checks:
            when = f" (only when {check.only_when})" if check.only_when else ""
            cells = (f"`{check.name}`", check.group, check.summary + when)
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)
