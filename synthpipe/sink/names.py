"""Every file's name in a dataset: the plan's partitions and the model's ground-truth
tables become paths under the dataset root here. The plan names blocks of data and the
model returns tables by name; neither names a file (``make lint`` checks that they import
no sink and no format)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pyarrow as pa

import synthpipe
from synthpipe.formats import output_format
from synthpipe.plan import PART_DIGITS, PartitionTask
from synthpipe.spec import world_hash
from synthpipe.spec.models import Spec

TAG_CHARACTERS = 16  # hex digits of a content tag in a file name (64 bits)
TRUTH_FOLDER = "_truth"


def data_extension() -> str:
    """The extension of every data file (every format writes Parquet data files)."""
    return output_format().extension


def partition_files(spec: Spec, task: PartitionTask) -> dict[str, str]:
    """Table name -> path of the file ``task`` writes, relative to the dataset root.
    Formats whose files never change once written (table formats) put a tag of what the
    file holds in its name (``part-00000-<tag>``, then the extension)."""
    immutable = output_format(spec.output.format).immutable_files
    tag = f"-{content_tag(spec, task)}" if immutable else ""
    part = f"part-{task.block:0{PART_DIGITS}d}{tag}{data_extension()}"
    if task.month is not None:
        return {table: f"{table}/month={task.month}/{part}" for table in task.tables}
    return {table: f"{table}/{part}" for table in task.tables}


def content_tag(spec: Spec, task: PartitionTask) -> str:
    """A tag of everything a task's files hold: the world (the spec without calendar.end
    and the location), the generator's and the Parquet writer's versions, the partition
    and its days. Two files with one name hold the same bytes; a partial month that a
    refresh completes, or a world that changed, gets a new name."""
    identity = "|".join(
        (world_hash(spec), synthpipe.__version__, f"pyarrow {pa.__version__}", task.label)
    )
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:TAG_CHARACTERS]


def truth_file(table: str) -> str:
    """The path of the ground-truth table called ``table`` (``synthpipe.model.truth``
    names them), relative to the dataset root."""
    return f"{TRUTH_FOLDER}/{table}{data_extension()}"


def truth_files(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Ground-truth tables by name -> the same tables by the path of their file."""
    return {truth_file(name): table for name, table in tables.items()}
