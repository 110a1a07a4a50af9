"""The plan: a pure function from a spec to the list of partition tasks.

A task names one block of data (a customer block, the catalogue, the stores, or a
customer block over one month), not the files it becomes: the sink names those
(``synthpipe.sink.names``). Tasks are small, picklable and independent; their seeds come
from the data block they name, never from their position in the list or the worker that
runs them.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from dataclasses import dataclass
from typing import Literal

from synthpipe.spec.models import Spec

TaskKind = Literal["customers", "products", "stores", "sales"]
PART_DIGITS = 5  # the block's digits in a partition key (and in its files' names)
TABLES = (
    "customers",
    "customer_history",
    "products",
    "stores",
    "transactions",
    "line_items",
    "customer_changes",
    "devices",
    "cards",
    "addresses",
)
PARTITION_KEY = re.compile(
    r"(?P<kind>customers|products|stores|sales)-(?:(?P<month>\d{4}-\d{2})-)?(?P<block>\d+)"
)
SALES_TABLES = ("transactions", "line_items", "customer_changes")
# a block's customers, their versions, and what they registered (the identity graph)
CUSTOMER_TABLES = ("customers", "customer_history", "devices", "cards", "addresses")


@dataclass(frozen=True)
class PartitionId:
    """Which partition a file belongs to: a kind, a block, and a month for sales. Its
    ``key`` is how the manifest and file metadata name it; ``parse`` reads a key back."""

    kind: TaskKind
    block: int
    month: str | None = None  # YYYY-MM, sales only

    @property
    def key(self) -> str:
        """``sales-YYYY-MM-00000`` or ``customers-00000``."""
        if self.month is not None:
            return f"{self.kind}-{self.month}-{self.block:0{PART_DIGITS}d}"
        return f"{self.kind}-{self.block:0{PART_DIGITS}d}"

    @classmethod
    def parse(cls, key: str) -> PartitionId:
        """The partition a key names (ValueError for a key no plan makes)."""
        match = PARTITION_KEY.fullmatch(key)
        if match is None:
            raise ValueError(f"{key!r} is not a partition key")
        kind = typing.cast(TaskKind, match.group("kind"))
        return cls(kind, int(match.group("block")), match.group("month"))


@dataclass(frozen=True)
class PartitionTask:
    """One unit of generation: a data block (its tables' files are named by the sink)."""

    kind: TaskKind
    block: int
    first_day: dt.date | None = None  # sales only: first and last day (same month)
    # sales: the last day; customers: the day they are as of (calendar.end), since
    # customers change over the calendar (customers.changes)
    last_day: dt.date | None = None

    @property
    def month(self) -> str | None:
        """``YYYY-MM`` of a sales task."""
        return None if self.first_day is None else f"{self.first_day:%Y-%m}"

    @property
    def partition(self) -> PartitionId:
        """The partition this task writes."""
        return PartitionId(self.kind, self.block, self.month)

    @property
    def key(self) -> str:
        """A stable, readable name (also the Dask key of the task)."""
        return self.partition.key

    def days(self) -> list[str] | None:
        """First and last day as ISO dates (sales), or the day the customers are as of,
        as the manifest records them."""
        if self.first_day is None and self.last_day is not None:
            return [self.last_day.isoformat()]
        if self.first_day is None or self.last_day is None:
            return None
        return [self.first_day.isoformat(), self.last_day.isoformat()]

    @property
    def label(self) -> str:
        """The key, with the days of a sales task or the as-of day of a customers task
        (recorded in each file's metadata)."""
        if self.first_day is None and self.last_day is not None:
            return f"{self.key} as of {self.last_day.isoformat()}"
        if self.first_day is None or self.last_day is None:
            return self.key
        return f"{self.key} {self.first_day.isoformat()}..{self.last_day.isoformat()}"

    def day_range(self) -> tuple[dt.date, dt.date]:
        """First and last day of a sales task."""
        if self.first_day is None or self.last_day is None:
            raise ValueError(f"{self.key} is not a sales task and has no days")
        return self.first_day, self.last_day

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables this task's partition holds (one file each)."""
        if self.kind == "sales":
            return SALES_TABLES
        if self.kind == "customers":
            return CUSTOMER_TABLES
        return (self.kind,)


def customer_blocks(spec: Spec) -> int:
    """Number of customer blocks."""
    return -(-spec.customers.count // spec.customers.block_size)


def month_ranges(spec: Spec) -> list[tuple[dt.date, dt.date]]:
    """(first, last) day of each calendar month the calendar touches, clipped to it."""
    ranges: list[tuple[dt.date, dt.date]] = []
    first = spec.calendar.start
    while first <= spec.calendar.end:
        next_month = (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        last = min(next_month - dt.timedelta(days=1), spec.calendar.end)
        ranges.append((first, last))
        first = next_month
    return ranges


def make_plan(spec: Spec) -> list[PartitionTask]:
    """Every partition task of the spec: dimensions first, then block by block its
    customers and its sales months (a worker then often runs several tasks of one block
    in a row, and keeps the block's customers and change log cached between them)."""
    blocks = customer_blocks(spec)
    months = month_ranges(spec)
    tasks = [PartitionTask("stores", 0), PartitionTask("products", 0)]
    end = spec.calendar.end
    for b in range(blocks):
        tasks.append(PartitionTask("customers", b, last_day=end))
        tasks += [PartitionTask("sales", b, first, last) for first, last in months]
    return tasks


def partition_count(spec: Spec) -> dict[str, int]:
    """How many partitions of each kind the plan has, without listing them."""
    blocks = customer_blocks(spec)
    return {
        "stores": 1,
        "products": 1,
        "customers": blocks,
        "sales": blocks * len(month_ranges(spec)),
    }
