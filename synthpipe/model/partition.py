"""Run one partition task: a pure function (spec, task) -> Arrow tables and what they hold."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from synthpipe.model.customer_tables import changes_table, customer_tables
from synthpipe.model.identity import identity_tables
from synthpipe.model.products import generate_products
from synthpipe.model.stores import generate_stores
from synthpipe.model.transactions import generate_sales
from synthpipe.plan import PartitionTask
from synthpipe.spec.models import Spec


@dataclass(frozen=True)
class PartitionOutput:
    """The tables of one partition (by table name) and its realised fraud counts."""

    tables: dict[str, pa.Table]
    fraud: dict[str, int] = field(default_factory=dict)


def generate_partition(spec: Spec, task: PartitionTask) -> PartitionOutput:
    """Generate the tables of ``task``. No I/O; the same inputs give the same tables."""
    if task.kind == "customers":
        return PartitionOutput(
            customer_tables(spec, task.block) | identity_tables(spec, task.block)
        )
    if task.kind == "products":
        return PartitionOutput({"products": generate_products(spec)})
    if task.kind == "stores":
        return PartitionOutput({"stores": generate_stores(spec)})
    sales = generate_sales(spec, task.block, *task.day_range())
    changes = changes_table(spec, task.block, *task.day_range())
    tables = {
        "transactions": sales.transactions,
        "line_items": sales.line_items,
        "customer_changes": changes,
    }
    return PartitionOutput(tables, dict(sales.fraud))
