"""Shared helpers of the test suite: small specs, in-process builds, file snapshots."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from synthpipe.engine.generate import generate, write_truth
from synthpipe.engine.validation import ValidationOutcome, validate_location
from synthpipe.model.customers import block_count
from synthpipe.model.ids import LEGIT_SUBRANGE, id_subrange
from synthpipe.model.money import decimal_to_cents
from synthpipe.model.transactions import generate_sales
from synthpipe.model.truth import CLV_HORIZON_DAYS, truth_tables
from synthpipe.plan import make_plan, month_ranges
from synthpipe.sink.manifest import MANIFEST_NAME, build_manifest, realised_fraud, write_manifest
from synthpipe.sink.names import TRUTH_FOLDER, truth_files
from synthpipe.sink.partitions import write_tables
from synthpipe.sink.publish import publish
from synthpipe.spec import Spec, spec_from_dict
from synthpipe.spec.loader import set_dotted
from synthpipe.storage import Location
from synthpipe.validate.results import FidelityReport, load_report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "configs" / "retail.yaml"

SMALL: dict[str, Any] = {
    "seed": 11,
    "calendar": {"start": "2024-01-01", "end": "2024-03-31"},
    "customers": {
        "count": 3_000,
        "block_size": 1_000,
        "signup_start": "2021-01-01",
        "signup_end": "2024-12-31",
    },
    "products": {"count": 400},
    "stores": {"count": 25},
    # customers stop buying (customers.lifetime); buying more often keeps the volume that
    # the tampering tests need to be detectable at this size
    # many staples, so that their reorders' checks have the power to see a tampering
    "sales": {"visits_per_year": 16.0, "replenishment": {"share": 0.3}},
    # enough fraud that removing it is detectable at this size (see test_tampering)
    "fraud": {"rate": 0.03},
}


def small_document(**overrides: Any) -> dict[str, Any]:
    """The small test world as a spec document, with dotted-path overrides."""
    document = copy.deepcopy(SMALL)
    for key, value in overrides.items():
        set_dotted(document, key.replace("__", "."), value)
    return document


def small_spec(**overrides: Any) -> Spec:
    """The small test world as a validated spec."""
    return spec_from_dict(small_document(**overrides))


def default_document(**overrides: Any) -> dict[str, Any]:
    """configs/retail.yaml as a document, with dotted-path overrides."""
    document = yaml.safe_load(DEFAULT_SPEC.read_text())
    for key, value in overrides.items():
        set_dotted(document, key.replace("__", "."), value)
    return document


def build(spec: Spec, out: Path, validate: bool = True) -> ValidationOutcome | None:
    """Generate, write the manifest, validate and publish a dataset in this process."""
    location = Location(str(out))
    results = generate(None, spec, make_plan(spec), location)
    summed, streamed = write_truth(None, spec, location, TRUTH_FOLDER)
    tables = truth_tables(spec, summed, realised_fraud(results))
    truth = write_tables(spec, truth_files(tables), location, TRUTH_FOLDER) + streamed
    manifest = build_manifest(spec, results, truth=truth)
    write_manifest(location, manifest)
    if not validate:
        return None
    outcome = validate_location(None, location)
    if outcome.passed:
        manifest = manifest.model_copy(update={"published": True})
        write_manifest(location, manifest)
        publish(location, manifest, outcome.summary_line())
    return outcome


def file_hashes(root: Path, suffix: str = ".parquet") -> dict[str, str]:
    """SHA-256 of every file with ``suffix`` below ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob(f"*{suffix}"))
    }


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file below ``root`` with its modification time and hash."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def rewrite_table(root: Path, relative: str, change: Any) -> None:
    """Replace a Parquet file by ``change(table)`` and update the manifest to match, so
    that only the content is wrong (checksums and row counts stay consistent)."""
    path = root / relative
    original = pq.read_table(path)
    table: pa.Table = change(original)
    table = table.replace_schema_metadata(original.schema.metadata)
    pq.write_table(table, path, compression="zstd")
    manifest_path = root / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text())
    data = path.read_bytes()
    manifest["files"][relative].update(
        rows=table.num_rows, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
    )
    manifest_path.write_text(json.dumps(manifest, indent=2))


def parquet_files(root: Path, table: str) -> list[str]:
    """Relative paths of a table's files."""
    return sorted(str(p.relative_to(root)) for p in (root / table).rglob("*.parquet"))


def cli_environment(prefect_api: str) -> dict[str, str]:
    """Environment of a `synthpipe` subprocess that uses the test Prefect server."""
    return {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def misstate_spec(path: str, value: object) -> Callable[[Path], None]:
    """A tampering that changes one field of the spec the data is judged against (the
    manifest's copy), so a parameter the data does not follow must fail its check."""

    def change(root: Path) -> None:
        manifest = json.loads((root / "_manifest.json").read_text())
        node = manifest["spec"]
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
        (root / "_manifest.json").write_text(json.dumps(manifest))

    change.__name__ = f"misstate_{path}"
    return change


def realised_after(
    spec: Spec, ids: np.ndarray, **overrides: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per customer id (index into ``ids``), over the CLV horizon after calendar.end of a
    calendar extended by it: legitimate ordinary sales, staple reorders and the spend of
    both (legitimate sales, in currency units). ``overrides`` are the small world's ones
    of ``spec``: the extended calendar keeps every earlier row, so this is its future."""
    horizon_end = spec.calendar.end + dt.timedelta(days=CLV_HORIZON_DAYS)
    longer = small_spec(calendar__end=str(horizon_end), **overrides)
    reorder_ranges = [LEGIT_SUBRANGE["replenish_in_store"], LEGIT_SUBRANGE["replenish_online"]]
    purchases = np.zeros(ids.shape[0])
    reorders = np.zeros(ids.shape[0])
    spend = np.zeros(ids.shape[0])
    first = spec.calendar.end + dt.timedelta(days=1)
    last = longer.calendar.end
    for block in range(block_count(longer)):
        for start, end in month_ranges(longer):
            start, end = max(start, first), min(end, last)
            if start > end:
                continue
            txn = generate_sales(longer, block, start, end).transactions
            sale = pc.and_(
                pc.invert(txn.column("is_fraud")),
                pc.equal(txn.column("transaction_type"), "sale"),
            )
            txn = txn.filter(sale)
            row = np.searchsorted(ids, txn.column("customer_id").to_numpy())
            reorder = np.isin(
                id_subrange(txn.column("transaction_id").to_numpy(), spec.seed), reorder_ranges
            )
            amount = decimal_to_cents(txn.column("amount")) / 100.0
            np.add.at(purchases, row[~reorder], 1.0)
            np.add.at(reorders, row[reorder], 1.0)
            np.add.at(spend, row, amount)
    return purchases, reorders, spend


# the tamperings are judged by checks; the learnability section, informative and most of a
# small validation's cost, is left out (test_tampering's untouched dataset shows that
# leaving it out changes no verdict)
QUICK_VALIDATE = ("validate", "--no-learnability")


def fidelity_report(dataset: Path) -> FidelityReport:
    """The dataset's fidelity report, read back from its report.json."""
    return load_report((dataset / "_fidelity" / "report.json").read_text())


def assert_revalidation_fails(dataset: Path, expected: str, captured: tuple[str, str]) -> None:
    """The report written by the last ``validate`` of ``dataset`` failed, naming ``expected``
    among its failed tests and on stderr; stdout named the HTML report. ``captured``:
    (stdout, stderr) of that command."""
    out, err = captured
    report = fidelity_report(dataset)
    assert report.passed is False
    assert expected in report.summary.failed_tests, report.summary.failed_tests
    assert expected in err
    assert "report.html" in out
