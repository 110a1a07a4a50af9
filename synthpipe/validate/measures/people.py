"""The block's customers as the sales measures see them: indexable by customer id, with
where each lived on each day (from the block's customer history)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synthpipe.clock import MICROS_PER_DAY
from synthpipe.model.baskets import audience_group
from synthpipe.model.kernels import version_positions
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.dimensions import Catalogue, bool_column, numpy_column
from synthpipe.validate.measures.index import IdIndex
from synthpipe.validate.reading import FileRead, column_codes
from synthpipe.vocabulary import GENDERS

HOME_KEY_SPAN = 1 << 26  # (customer row, day) keys: row x HOME_KEY_SPAN + days since 1970

_CUSTOMERS: list[tuple[ValidationContext, FileRead, FileRead, Customers]] = []


def block_customers(ctx: ValidationContext, read: FileRead, history: FileRead) -> Customers:
    """The block's customers, built once per read of its files (the reader caches reads
    by path and manifest checksum) in this process."""
    cached = _CUSTOMERS[0] if _CUSTOMERS else None
    if cached is None or cached[0] is not ctx or cached[1] is not read or cached[2] is not history:
        # one block at a time is enough: units come block by block
        _CUSTOMERS[:] = [(ctx, read, history, Customers(ctx, read, history))]
    return _CUSTOMERS[0][3]


class Customers:
    """The block's customers, indexable by customer id; where each lived on each day, from
    the block's customer history."""

    def __init__(self, ctx: ValidationContext, read: FileRead, history: FileRead) -> None:
        table = read.table
        self.ids = numpy_column(table, "customer_id")
        n = self.ids.shape[0]
        self.contiguous = bool(
            n and self.ids[-1] - self.ids[0] == n - 1 and np.all(np.diff(self.ids) == 1)
        )
        self.age = numpy_column(table, "age")
        self.band = ctx.band(self.age)
        self.gender, _ = column_codes(table, "gender", GENDERS)
        self.group = audience_group(self.band, np.maximum(self.gender, 0))
        self.segment, _ = column_codes(table, "segment", ctx.segments)
        self.region, _ = column_codes(table, "region", ctx.regions)
        self.signup = numpy_column(table, "signup_date")
        self.home_store = numpy_column(table, "home_store_id")
        self._order: np.ndarray | None = None  # argsort of ids, for files not in id order
        loyal = bool_column(table, "is_loyalty_member")
        income = numpy_column(table, "income")
        versions = history.table
        row, found = self.rows(numpy_column(versions, "customer_id"))
        row = np.where(found, row, -1)
        starts = np.asarray(
            versions.column("valid_from").fill_null(0).cast(pa.int64()), dtype=np.int64
        )
        key = row * HOME_KEY_SPAN + starts // MICROS_PER_DAY
        order = np.argsort(key, kind="stable")
        self._home_key = key[order]
        # where each customer row's versions begin in the sorted keys (rows 0..n; row -1,
        # a version of a customer not in the block, sorts before them all)
        self._home_first = np.searchsorted(
            self._home_key, np.arange(n + 1, dtype=np.int64) * HOME_KEY_SPAN
        ).astype(np.int64)
        self._home_region = column_codes(versions, "region", ctx.regions)[0][order]
        self._home_store_id = numpy_column(versions, "home_store_id")[order]
        # the purchase rate was set at signup: by the income and membership of version 0
        signup = found & (numpy_column(versions, "version") == 0)
        income = income.copy()
        loyal = loyal.copy()
        income[row[signup]] = numpy_column(versions, "income")[signup]
        loyal[row[signup]] = bool_column(versions, "is_loyalty_member")[signup]
        self.intensity_class = ctx.intensity_class(self.segment, loyal, income)
        self._home_store_region: tuple[Catalogue, np.ndarray] | None = None

    def rows(self, customer_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row of each customer id in the block file, and whether it was found."""
        n = self.ids.shape[0]
        if self.contiguous:
            offset = customer_ids - self.ids[0]
            found = (offset >= 0) & (offset < n)
            return np.where(found, offset, 0), found
        if n == 0:
            return np.zeros(customer_ids.shape, np.int64), np.zeros(customer_ids.shape, bool)
        if self._order is None:  # sorted once per block, not once per month
            self._order = np.argsort(self.ids, kind="stable")
        sorted_ids = self.ids[self._order]
        position = np.minimum(np.searchsorted(sorted_ids, customer_ids), n - 1)
        return self._order[position], sorted_ids[position] == customer_ids

    def home_on(self, rows: np.ndarray, unix_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The home region code and home store id of each customer row on each day (the
        version of the history in force that day; the snapshot's where none is)."""
        if not self._home_key.size:
            return self.region.take(rows), self.home_store.take(rows)
        row = np.ascontiguousarray(rows, dtype=np.int64)
        wanted = np.ascontiguousarray(row * HOME_KEY_SPAN + unix_day, dtype=np.int64)
        position = version_positions(self._home_key, self._home_first, row, wanted)
        safe = np.maximum(position, 0)
        same = position >= 0
        region = np.where(same, self._home_region[safe], self.region.take(rows))
        store = np.where(same, self._home_store_id[safe], self.home_store.take(rows))
        return region, store

    def home_store_region(self, catalogue: Catalogue) -> np.ndarray:
        """Region code of each customer's home store (-1 when it resolves to no store)."""
        if self._home_store_region is None or self._home_store_region[0] is not catalogue:
            stores = IdIndex.of(self.home_store, catalogue.stores)
            self._home_store_region = (catalogue, stores.take(catalogue.store_region, -1))
        return self._home_store_region[1]
