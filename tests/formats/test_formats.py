"""Output formats: the registry, the Parquet codec's round trip, and that nothing outside
``synthpipe/formats`` names a file format."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import ROOT, small_spec

from synthpipe.formats import DEFAULT_FORMAT, FORMATS, output_format
from synthpipe.formats.base import Release
from synthpipe.model.partition import generate_partition
from synthpipe.plan import make_plan
from synthpipe.sink.names import partition_files
from synthpipe.storage import Location

# the user's reference sample may be Parquet or CSV: that reader names its input's format
READS_USER_INPUT = {"synthpipe/samples.py"}


def test_every_format_module_is_registered_under_its_name() -> None:
    modules = sorted(
        p.stem for p in (ROOT / "synthpipe" / "formats").glob("*.py") if p.stem != "__init__"
    )
    assert sorted([*FORMATS, "base"]) == modules
    assert output_format().name == DEFAULT_FORMAT
    for name, declared in FORMATS.items():
        assert declared.name == name
        assert declared.extension.startswith(".")


def test_encode_then_decode_gives_back_columns_schema_and_labels() -> None:
    spec = small_spec()
    task = next(t for t in make_plan(spec) if t.kind == "sales")
    table = generate_partition(spec, task).tables["transactions"]
    codec = output_format()
    data = codec.encode(table, {"synthpipe.synthetic": "true"}, spec.output)
    assert codec.encode(table, {"synthpipe.synthetic": "true"}, spec.output) == data
    decoded = codec.decode(data, ["transaction_id", "amount", "not_a_column"])
    assert decoded.schema.names == table.schema.names
    assert decoded.metadata["synthpipe.synthetic"] == "true"
    assert decoded.table.column_names == ["transaction_id", "amount"]
    assert decoded.table.equals(
        table.select(["transaction_id", "amount"]).cast(decoded.table.schema)
    )


def test_publish_round_trip(tmp_path: Path) -> None:
    location = Location(str(tmp_path))
    codec = output_format()
    assert not codec.is_published(location)
    codec.publish(location, Release({}, 1, {"tables": {"customers": 3}}))
    assert codec.is_published(location)
    codec.unpublish(location)
    assert not codec.is_published(location)


def test_no_layer_outside_formats_names_a_file_format() -> None:
    offenders = []
    for path in sorted((ROOT / "synthpipe").rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if relative.startswith("synthpipe/formats/") or relative in READS_USER_INPUT:
            continue
        text = path.read_text()
        if re.search(r"\.parquet\b|pyarrow\.parquet|\bpq\.", text):
            offenders.append(relative)
    assert offenders == []


def test_data_files_carry_the_formats_extension() -> None:
    extension = output_format().extension
    spec = small_spec()
    for task in make_plan(spec):
        assert all(path.endswith(extension) for path in partition_files(spec, task).values())
