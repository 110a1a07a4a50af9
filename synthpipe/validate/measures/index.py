"""Index arrays that join a partition's rows: ids into by-id tables, lines to their
transactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class IdIndex:
    """Where ids sit in a dense by-id table (``table[id - 1]``), for several tables."""

    position: np.ndarray  # id - 1, clipped into the table
    resolvable: np.ndarray  # 1 <= id <= table size
    complete: bool  # every id resolves

    @classmethod
    def of(cls, ids: np.ndarray, size: int) -> IdIndex:
        """The index of ``ids`` into tables of ``size`` rows."""
        resolvable = (ids >= 1) & (ids <= size)
        complete = bool(resolvable.all())
        position = ids - 1 if complete else np.clip(ids, 1, max(size, 1)) - 1
        return cls(np.asarray(position), resolvable, complete)

    def take(self, table: np.ndarray, fill: int) -> np.ndarray:
        """``table[id - 1]`` where the id resolves, ``fill`` elsewhere."""
        if table.shape[0] == 0:
            return np.full(self.position.shape, fill, dtype=table.dtype)
        values = table[self.position]
        return values if self.complete else np.where(self.resolvable, values, fill)


@dataclass(frozen=True)
class LineOwners:
    """Which transaction row each line belongs to."""

    items: np.ndarray  # lines found per transaction row
    found: np.ndarray  # per line: its transaction is in the partition
    owner: np.ndarray  # per line: its transaction's row (0 where not found)
    starts: np.ndarray | None  # first line of each transaction when lines follow in order

    def spread(self, per_transaction: np.ndarray, fill: int) -> np.ndarray:
        """A per-transaction value on each line (``fill`` where the line has none)."""
        if self.starts is not None:
            return np.repeat(per_transaction, self.items)
        return np.where(self.found, per_transaction[self.owner], fill)

    def totals(self, per_line: np.ndarray) -> np.ndarray:
        """Exact integer sum over each transaction's lines."""
        if self.starts is not None:
            # running total at each transaction's last line, differenced (exact in int64,
            # even past an overflow, since the differences wrap back)
            running = np.cumsum(per_line)
            return np.diff(running[self.starts + self.items - 1], prepend=0)
        totals = np.zeros(self.items.shape[0], dtype=np.int64)
        np.add.at(totals, self.owner[self.found], per_line[self.found])
        return totals
