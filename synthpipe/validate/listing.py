"""What validation is given of a dataset: its files (where to read each one now, with the
rows and checksum the manifest records), the files found that the manifest does not list,
and a few facts of the manifest. The sink builds it from its manifest and the dataset's
folders; where a pending refresh keeps its files is the sink's business."""

from __future__ import annotations

from dataclasses import dataclass

from synthpipe.plan import PartitionId


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
