"""The documentation: the generated spec reference lists every field of the spec (checked
against pydantic's JSON schema, a walk of its own), and the README's links resolve.

The page of every check is tested beside the registry (tests/validate/test_registry.py).
"""

from __future__ import annotations

import re
from typing import Any

from helpers import ROOT

from synthpipe.docs_reference import (
    LIST_ITEMS,
    MAPPING_KEY,
    spec_leaf_paths,
    spec_reference_markdown,
    type_name,
)
from synthpipe.spec import Spec

# A Markdown link's target: [text](target), not an image's
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
# Targets that are not files of the repository: other sites, and anchors of the page itself
NOT_FILES = ("http://", "https://", "mailto:", "#")
REFERENCE_ROW = re.compile(r"^\| `([^`]+)` \| ([^|]*(?:\\\|[^|]*)*) \| ([^|]*) \| ([^|]*) \|", re.M)


def _schema_leaves(schema: dict[str, Any], node: dict[str, Any], path: str) -> set[str]:
    """Leaf paths of a JSON schema node: a property leading to a model is walked into, any
    other property is a leaf (the second walk the reference is checked against)."""

    def resolve(item: dict[str, Any]) -> dict[str, Any] | None:
        """The model a property leads to (through $ref, unions, lists and mappings)."""
        if "$ref" in item:
            return {"model": schema["$defs"][item["$ref"].split("/")[-1]], "suffix": ""}
        for key in ("anyOf", "allOf", "oneOf"):
            for option in item.get(key, []):
                found = resolve(option)
                if found is not None:
                    return found
        if item.get("type") == "array" and isinstance(item.get("items"), dict):
            found = resolve(item["items"])
            if found is not None:
                return {"model": found["model"], "suffix": LIST_ITEMS + found["suffix"]}
        extra = item.get("additionalProperties")
        if item.get("type") == "object" and isinstance(extra, dict):
            found = resolve(extra)
            if found is not None:
                return {"model": found["model"], "suffix": f".{MAPPING_KEY}" + found["suffix"]}
        return None

    leaves: set[str] = set()
    for name, item in node.get("properties", {}).items():
        field_path = f"{path}.{name}" if path else name
        found = resolve(item)
        if found is None:
            leaves.add(field_path)
        else:
            leaves |= _schema_leaves(schema, found["model"], field_path + found["suffix"])
    return leaves


def test_the_spec_reference_lists_every_leaf_field() -> None:
    schema = Spec.model_json_schema()
    expected = _schema_leaves(schema, schema, "")
    page = spec_reference_markdown()
    listed = [row[0] for row in REFERENCE_ROW.findall(page)]
    assert len(listed) == len(set(listed))
    assert set(listed) == expected
    assert listed == spec_leaf_paths(Spec)
    # a sample of paths from every shape: top level, nested, list item, mapping, typology
    assert {
        "seed",
        "calendar.end",
        "customers.lifetime.reactivation.dormant_days",
        "products.categories[].price.median",
        "customers.segments.<name>.loyalty_rate",
        "fraud.types.card_testing.report_delay.sigma",
        "output.storage_options",
    } <= set(listed)


def test_the_spec_reference_states_defaults_and_bounds() -> None:
    rows = {row[0]: row[1:] for row in REFERENCE_ROW.findall(spec_reference_markdown())}
    assert rows["seed"] == ("int", "required", ">= 0, < 9223372036854775808")
    assert rows["fraud.rate"] == ("float", "`0.005`", ">= 0, <= 0.5")
    # a nested model's defaults are those its parent's default holds, not the class's
    assert rows["fraud.friendly_delay.median_days"][1] == "`30.0`"
    assert rows["fraud.types.refund_abuse.report_delay.median_days"][1] == "`35.0`"
    assert rows["output.format"][0] == "'parquet' \\| 'delta' \\| 'iceberg'"


def test_type_names_read_plainly() -> None:
    fields = Spec.model_fields
    assert type_name(fields["seed"].annotation) == "int"
    assert type_name(fields["calendar"].annotation) == "Calendar"


def test_every_relative_link_of_the_readme_points_to_a_file() -> None:
    readme = (ROOT / "README.md").read_text()
    targets = [t for t in LINK.findall(readme) if not t.startswith(NOT_FILES)]
    assert targets  # the front door links into the docs
    missing = [t for t in targets if not (ROOT / t.split("#")[0]).is_file()]
    assert missing == []
