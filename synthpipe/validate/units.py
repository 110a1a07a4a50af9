"""Units of validation work: ``units`` splits a dataset (as its manifest lists it) into
independent pieces; ``unit_stats`` reads one piece (column projection, one read per file)
and returns its mergeable statistics. This is what Dask workers import, so it imports no
statistical tests (scipy.stats costs a worker about a second to import)."""

from __future__ import annotations

import hashlib
import pickle
import time
from collections import OrderedDict
from dataclasses import dataclass

from synthpipe.plan import PartitionId
from synthpipe.spec import Spec
from synthpipe.storage import Location
from synthpipe.validate import statistics as st
from synthpipe.validate.changes import (
    FEED_COLUMNS,
    HISTORY_COLUMNS,
    feed_stats,
    history_stats,
    signup_attributes,
)
from synthpipe.validate.context import ValidationContext, validation_context
from synthpipe.validate.dimensions import (
    CUSTOMER_COLUMNS,
    PRODUCT_COLUMNS,
    STORE_COLUMNS,
    Catalogue,
    catalogue_from,
    customer_stats,
    product_stats,
    store_stats,
)
from synthpipe.validate.leakage import chosen_files, leakage_stats
from synthpipe.validate.listing import Listing
from synthpipe.validate.measures.identity import IDENTITY_COLUMNS, identity_stats
from synthpipe.validate.merge import Stats, issue, merge_two
from synthpipe.validate.reading import FileRead, read_file
from synthpipe.validate.sales import CUSTOMER_COLUMNS as SALES_CUSTOMER_COLUMNS
from synthpipe.validate.sales import HISTORY_COLUMNS as SALES_HISTORY_COLUMNS
from synthpipe.validate.sales import LINE_COLUMNS, TRANSACTION_COLUMNS, sales_stats
from synthpipe.vocabulary import IDENTITY_TABLES


@dataclass(frozen=True)
class Unit:
    """One independent piece of validation work."""

    kind: str  # customers, products, stores, sales, leakage
    paths: tuple[str, ...]  # sales: transactions, line items; leakage: its sample's files
    block: int = 0
    month: str | None = None
    customers_path: str | None = None  # sales: the block's customers file
    customers_sha256: str | None = None  # its checksum in the manifest (a cache key)
    history_path: str | None = None  # sales: the block's customer_history file
    products_path: str | None = None
    stores_path: str | None = None
    identity_tables: tuple[str, ...] = ()  # customers: the tables of paths[2:], in order


def units(listing: Listing) -> list[Unit]:
    """The validation units of a dataset, from its listed files."""
    by_partition: dict[PartitionId, dict[str, str]] = {}
    for listed in listing.files:
        by_partition.setdefault(listed.partition, {})[listed.table] = listed.path
    products = by_partition.get(PartitionId("products", 0), {}).get("products")
    stores = by_partition.get(PartitionId("stores", 0), {}).get("stores")
    checksums = {listed.path: listed.sha256 for listed in listing.files}
    found: list[Unit] = []
    for partition, tables in sorted(by_partition.items(), key=lambda item: item[0].key):
        kind, month, block = partition.kind, partition.month, partition.block
        if kind == "sales":
            people = by_partition.get(PartitionId("customers", block), {})
            customers = people.get("customers")
            found.append(
                Unit(
                    "sales",
                    (
                        tables.get("transactions", ""),
                        tables.get("line_items", ""),
                        tables.get("customer_changes", ""),
                    ),
                    block,
                    month,
                    customers,
                    checksums.get(customers or ""),
                    people.get("customer_history"),
                    products,
                    stores,
                )
            )
        elif kind == "customers":
            # the identity tables a block has (a dataset written before them has none)
            identity = tuple(t for t in IDENTITY_TABLES if t in tables)
            paths = (
                tables["customers"],
                tables.get("customer_history", ""),
                *(tables[t] for t in identity),
            )
            found.append(
                Unit(kind, paths, block, None, None, None, None, products, stores, identity)
            )
        elif kind in ("products", "stores"):
            found.append(
                Unit(kind, (tables[kind],), block, None, None, None, None, products, stores)
            )
    # Block by block, so a worker's consecutive units reuse the block's customers; the
    # leakage audit (one unit reading a bounded sample: the longest) first.
    audit = [Unit("leakage", chosen_files(listing))] if listing.of_table("transactions") else []
    return audit + sorted(found, key=lambda u: (u.kind != "sales", u.block, u.month or ""))


_CATALOGUES: dict[tuple[str, str | None, str | None], Catalogue | None] = {}


def _catalogue(ctx: ValidationContext, location: Location, unit: Unit) -> Catalogue | None:
    key = (location.url, unit.products_path, unit.stores_path)
    if key not in _CATALOGUES:
        try:
            products = read_file(
                location,
                unit.products_path or "",
                ["product_id", "category", "list_price", "brand"],
            )
            stores = read_file(
                location, unit.stores_path or "", ["store_id", "region", "open_date", "format"]
            )
            _CATALOGUES[key] = catalogue_from(ctx, products, stores)
        except Exception:  # unreadable catalogue: reported by its own unit
            _CATALOGUES[key] = None
    return _CATALOGUES[key]


def _empty_catalogue() -> Catalogue:
    import numpy as np

    empty = np.zeros(0, dtype=np.int64)
    return Catalogue(empty, empty, empty, empty, np.zeros(0), empty, empty)


def _unit_files(unit: Unit) -> list[tuple[str, list[str]]]:
    """(path, columns) of every file a unit reads, in order."""
    if unit.kind == "customers":
        identity = [
            (path, IDENTITY_COLUMNS[table])
            for path, table in zip(unit.paths[2:], unit.identity_tables, strict=True)
        ]
        return [(unit.paths[0], CUSTOMER_COLUMNS), (unit.paths[1], HISTORY_COLUMNS), *identity]
    if unit.kind == "products":
        return [(unit.paths[0], PRODUCT_COLUMNS)]
    if unit.kind == "stores":
        return [(unit.paths[0], STORE_COLUMNS)]
    return [
        (unit.paths[0], TRANSACTION_COLUMNS),
        (unit.paths[1], LINE_COLUMNS),
        (unit.customers_path or "", SALES_CUSTOMER_COLUMNS),
        (unit.history_path or "", SALES_HISTORY_COLUMNS),
        (unit.paths[2], FEED_COLUMNS),
    ]


def _statistics(
    ctx: ValidationContext, unit: Unit, reads: list[FileRead], catalogue: Catalogue
) -> Stats:
    if unit.kind == "customers":
        at_signup = signup_attributes(reads[0].table, reads[1].table)
        people = merge_two(
            customer_stats(ctx, reads[0], unit.block, catalogue, at_signup),
            history_stats(ctx, reads[0], reads[1]),
        )
        identity = dict(zip(unit.identity_tables, reads[2:], strict=True))
        return merge_two(people, identity_stats(identity)) if identity else people
    if unit.kind == "products":
        return product_stats(ctx, reads[0])
    if unit.kind == "stores":
        return store_stats(ctx, reads[0])
    month = ctx.months.index(unit.month) if unit.month in ctx.months else -1
    return merge_two(
        sales_stats(ctx, reads[0], reads[1], reads[2], reads[3], catalogue, unit.block, month),
        feed_stats(ctx, reads[4], month),
    )


UNITS_PER_TASK = 4  # units a Dask task runs: a few hundred ms of work per task


def batches(work: list[Unit], size: int = UNITS_PER_TASK) -> list[tuple[Unit, ...]]:
    """Consecutive units in groups of ``size``: the tasks. Fixed by the unit list alone, so
    the merged statistics (float sums included) do not depend on the cluster."""
    return [tuple(work[i : i + size]) for i in range(0, len(work), size)]


def batch_stats(batch: tuple[Unit, ...], spec: Spec, location: Location) -> Stats:
    """Statistics of a batch of units, merged in order (the Dask task: mapped item first)."""
    merged: Stats = {}
    for unit in batch:
        merged = merge_two(merged, unit_stats(unit, spec, location))
    return merged


def packed_batch_stats(batch: tuple[Unit, ...], spec: Spec, location: Location) -> bytes:
    """The Dask task: a batch's statistics as one pickle. A statistics dict holds about a
    hundred small arrays, which Dask would ship as as many frames; as one pickle the
    scheduler's process spends a few milliseconds per result instead of a third of a core
    all through validation. (It lives here, not in the engine, so that a worker loading it
    imports no statistical tests.)"""
    return pickle.dumps(batch_stats(batch, spec, location), protocol=pickle.HIGHEST_PROTOCOL)


def unit_stats(unit: Unit, spec: Spec, location: Location) -> Stats:
    """Statistics of one unit. A file that cannot be
    read, or whose content breaks the statistics, becomes an integrity finding of that
    file, never a crash."""
    started = time.perf_counter()
    stats = _unit_stats(spec, location, unit)
    stats[st.BUSY_SECONDS] = time.perf_counter() - started  # summed over units by merging
    return stats


def _unit_stats(spec: Spec, location: Location, unit: Unit) -> Stats:
    if unit.kind == "leakage":  # reads other units' files (they checksum them)
        return leakage_stats(spec, location, unit.paths)
    ctx = validation_context(spec)
    reads: list[FileRead] = []
    for path, columns in _unit_files(unit):
        try:
            if unit.kind == "sales" and path in (unit.customers_path, unit.history_path):
                reads.append(_block_customers(location, path, unit.customers_sha256, columns))
            else:
                reads.append(read_file(location, path, columns))
        except Exception as exc:  # corrupt or missing: an integrity failure of that file
            # the unit's own files are still checksummed; only the one that broke is unreadable
            own_paths = [p for p in unit.paths if p]
            records = [r for p in own_paths for r in _bytes_only(location, p, broken=p == path)]
            unreadable = [path] if path in own_paths else []
            stats: Stats = {st.UNREADABLE: unreadable, st.FILES: records}
            issue(stats, f"{path}: cannot be read: {type(exc).__name__}: {str(exc)[:200]}")
            return stats
    try:
        return _statistics(ctx, unit, reads, _catalogue(ctx, location, unit) or _empty_catalogue())
    except Exception as exc:  # readable bytes whose content is not a valid table
        own = [r for r in reads if r.path in unit.paths]
        stats = {st.UNREADABLE: [r.path for r in own]}
        stats[st.FILES] = [_bytes_record(r.path, r.size, r.sha256) for r in own]
        paths = ", ".join(r.path for r in own)
        issue(stats, f"{paths}: content breaks the checks: {type(exc).__name__}: {str(exc)[:200]}")
        return stats


_BLOCK_CUSTOMERS: OrderedDict[tuple[str, str, str | None], FileRead] = OrderedDict()
CACHED_CUSTOMER_FILES = 4  # customers and history of two blocks (a block's months run in turn)


def _block_customers(
    location: Location, path: str, sha256: str | None, columns: list[str]
) -> FileRead:
    """The columns sales units need from their block's customers (or customer history)
    file, read once per worker while the manifest's checksum of the block's customers
    stays the same (their own unit checks both files)."""
    key = (location.url, path, sha256)
    if key not in _BLOCK_CUSTOMERS:
        # its checksum is the customers unit's check, not this read's
        _BLOCK_CUSTOMERS[key] = read_file(location, path, columns, checksum=False)
        while len(_BLOCK_CUSTOMERS) > CACHED_CUSTOMER_FILES:
            _BLOCK_CUSTOMERS.popitem(last=False)
    _BLOCK_CUSTOMERS.move_to_end(key)
    return _BLOCK_CUSTOMERS[key]


UNREADABLE_PROBLEM = "unreadable"  # the file's bytes do not parse
UNREAD_PROBLEM = "unread"  # not parsed: another file of its unit did not


def _bytes_record(
    path: str, size: int, sha256: str, problem: str = UNREADABLE_PROBLEM
) -> dict[str, object]:
    return {
        "path": path,
        "table": path.split("/", 1)[0],
        "rows": -1,
        "bytes": size,
        "sha256": sha256,
        "schema_ok": False,
        "schema_problem": problem,
        "synthetic_label": False,
    }


def _bytes_only(location: Location, relative: str, broken: bool = True) -> list[dict[str, object]]:
    """The checksum record of a file whose content was not checked (``broken``: it does
    not parse; else a file of its unit did not), when its bytes can be read."""
    try:
        fs, _ = location.filesystem()
        data = fs.cat_file(location.join(relative))
    except Exception:  # missing altogether: reported as not present
        return []
    problem = UNREADABLE_PROBLEM if broken else UNREAD_PROBLEM
    return [_bytes_record(relative, len(data), hashlib.sha256(data).hexdigest(), problem)]
