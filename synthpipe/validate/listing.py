"""What validation is given of a dataset: its files (where to read each one now, with the
rows and checksum the manifest records), the files found that the manifest does not list,
and a few facts of the manifest. The sink builds it from its manifest and the dataset's
folders; where a pending refresh keeps its files is the sink's business."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from synthpipe.plan import PartitionId


class BlockStop(Enum):
    """Where ``first_blocks`` stops taking customer blocks."""

    # never past the bound: a block that would take the total over it is left out (the
    # first block is always taken); the leakage audit then samples within the bound
    WITHIN_BOUND = "within_bound"
    # blocks are taken until the total reaches the bound: learnability's sampling stride
    # then brings the whole customers it keeps back under it
    REACH_BOUND = "reach_bound"


@dataclass(frozen=True)
class ListedFile:
    """A file of the dataset, as the manifest lists it."""

    path: str  # where to read it, relative to the dataset root
    table: str
    partition: PartitionId
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Listing:
    """The dataset as validation sees it."""

    files: tuple[ListedFile, ...]
    spec_sha256: str
    table_rows: dict[str, int]
    # data files found in the dataset's table folders that the manifest does not list
    # (a stray copy that readers of the folders would read as data); the sink looks
    unlisted: tuple[str, ...] = ()

    def of_table(self, table: str) -> list[ListedFile]:
        """The files of one table."""
        return [f for f in self.files if f.table == table]

    def total_bytes(self) -> int:
        """Bytes of every listed file."""
        return sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class ChosenBlocks:
    """The first customer blocks chosen by ``first_blocks``, and their transactions."""

    blocks: frozenset[int]
    transactions: int


def first_blocks(listing: Listing, bound: int, stop: BlockStop) -> ChosenBlocks:
    """The first customer blocks (in block order) whose transactions files together hold
    about ``bound`` transactions, by the rows the manifest records, stopping by ``stop``."""
    rows_by_block: dict[int, int] = {}
    for listed in listing.of_table("transactions"):
        block = listed.partition.block
        rows_by_block[block] = rows_by_block.get(block, 0) + listed.rows
    chosen: set[int] = set()
    total = 0
    for block in sorted(rows_by_block):
        if stop is BlockStop.REACH_BOUND and total >= bound:
            break
        if stop is BlockStop.WITHIN_BOUND and chosen and total + rows_by_block[block] > bound:
            break
        chosen.add(block)
        total += rows_by_block[block]
    return ChosenBlocks(frozenset(chosen), total)
