"""The report fails when the data is wrong: each tampering makes `synthpipe validate`
exit non-zero with the right test named as failed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from helpers import (
    QUICK_VALIDATE,
    assert_revalidation_fails,
    fidelity_report,
    parquet_files,
    rewrite_table,
)

from synthpipe.cli import EXIT_FAILURE, main
from synthpipe.formats.parquet import SUCCESS_NAME
from synthpipe.model.associations import associations
from synthpipe.model.ids import LEGIT_SUBRANGE, id_subrange
from synthpipe.model.money import cents_to_decimal, decimal_to_cents
from synthpipe.spec import spec_from_dict
from synthpipe.validate.context import validation_context
from synthpipe.validate.results import (
    LearnabilityScored,
    LearnabilityUnavailable,
)

MICROS_PER_DAY = 86_400_000_000


def flatten_weekdays(root: Path) -> None:
    """Move every transaction to a random day of its month, keeping the time of day."""
    rng = np.random.default_rng(0)

    def change(table: pa.Table) -> pa.Table:
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        day = ts // MICROS_PER_DAY
        month_start = np.datetime64("1970-01-01") + day
        first = month_start.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        length = (
            (month_start.astype("datetime64[M]") + 1).astype("datetime64[D]").astype(np.int64)
        ) - first
        moved = first + (rng.random(ts.size) * length).astype(np.int64)
        new = moved * MICROS_PER_DAY + ts % MICROS_PER_DAY
        return table.set_column(1, "ts", pa.array(new, pa.timestamp("us")))

    for relative in parquet_files(root, "transactions"):
        rewrite_table(root, relative, change)


def drop_fraud(root: Path) -> None:
    """Remove every fraud transaction and its lines."""
    for relative in parquet_files(root, "transactions"):
        table = pq.read_table(root / relative)
        fraud_ids = table.filter(table.column("is_fraud")).column("transaction_id")
        rewrite_table(root, relative, lambda t: t.filter(pc.invert(t.column("is_fraud"))))
        lines = relative.replace("transactions/", "line_items/")
        rewrite_table(
            root,
            lines,
            lambda t, ids=fraud_ids: t.filter(pc.invert(pc.is_in(t.column("transaction_id"), ids))),
        )


def shift_ages(root: Path) -> None:
    """Make every customer ten years older (birth dates left as they were)."""
    for relative in parquet_files(root, "customers"):
        rewrite_table(
            root,
            relative,
            lambda t: t.set_column(6, "age", pc.add(t.column("age"), pa.scalar(10, pa.int16()))),
        )


def mix_substitutes(root: Path) -> None:
    """In every basket holding a planted substitute pair twice or more, turn its last line
    of the pair into the other member (the price left as it was)."""
    spec = spec_from_dict(json.loads((root / "_manifest.json").read_text())["spec"])
    planted = associations(spec)
    other = np.arange(planted.substitute_pair.shape[0] + 1)  # by product id (index 0 unused)
    other[planted.first + 1] = planted.second + 1
    other[planted.second + 1] = planted.first + 1
    pair_of = np.concatenate([[-1], planted.substitute_pair])

    def change(table: pa.Table) -> pa.Table:
        product = table.column("product_id").to_numpy().copy()
        ids = table.column("transaction_id").to_numpy()
        pair = pair_of[product]
        rows = np.flatnonzero(pair >= 0)
        key = ids[rows].astype(np.int64) * 1_000 + pair[rows]  # lines of one basket are together
        last = np.append(key[1:] != key[:-1], True)
        repeated = np.concatenate([[False], key[1:] == key[:-1]])
        flip = rows[last & repeated]
        product[flip] = other[product[flip]]
        return table.set_column(2, "product_id", pa.array(product, pa.int32()))

    for relative in parquet_files(root, "line_items"):
        rewrite_table(root, relative, change)


def reorder_late(root: Path) -> None:
    """Move every other staple reorder two days later (within its month)."""
    spec = spec_from_dict(json.loads((root / "_manifest.json").read_text())["spec"])
    wanted = [LEGIT_SUBRANGE["replenish_in_store"], LEGIT_SUBRANGE["replenish_online"]]

    def change(table: pa.Table) -> pa.Table:
        ts = table.column("ts").cast(pa.int64()).to_numpy().copy()
        reorder = np.flatnonzero(
            np.isin(id_subrange(table.column("transaction_id").to_numpy(), spec.seed), wanted)
        )[::2]
        day = ts[reorder] // MICROS_PER_DAY
        month = (np.datetime64("1970-01-01") + day).astype("datetime64[M]")
        last = ((month + 1).astype("datetime64[D]") - np.datetime64("1970-01-01")).astype(
            np.int64
        ) - 1
        ts[reorder] += np.minimum(2, last - day) * MICROS_PER_DAY
        return table.set_column(1, "ts", pa.array(ts, pa.timestamp("us")))

    for relative in parquet_files(root, "transactions"):
        rewrite_table(root, relative, change)


def drop_half_the_reorders(root: Path) -> None:
    """Remove every other staple reorder and its line."""
    spec = spec_from_dict(json.loads((root / "_manifest.json").read_text())["spec"])
    wanted = [LEGIT_SUBRANGE["replenish_in_store"], LEGIT_SUBRANGE["replenish_online"]]
    for relative in parquet_files(root, "transactions"):
        ids = pq.read_table(root / relative).column("transaction_id").to_numpy()
        dropped = ids[np.isin(id_subrange(ids, spec.seed), wanted)][::2]
        gone = pa.array(dropped, pa.int64())
        rewrite_table(
            root,
            relative,
            lambda t, gone=gone: t.filter(pc.invert(pc.is_in(t.column("transaction_id"), gone))),
        )
        rewrite_table(
            root,
            relative.replace("transactions/", "line_items/"),
            lambda t, gone=gone: t.filter(pc.invert(pc.is_in(t.column("transaction_id"), gone))),
        )


def bunch_purchases(root: Path) -> None:
    """Move every second ordinary sale of a customer (within a file) to the day of the one
    before it, keeping its time of day: gaps collapse to zero."""
    spec = spec_from_dict(json.loads((root / "_manifest.json").read_text())["spec"])
    ordinary = [LEGIT_SUBRANGE["in_store"], LEGIT_SUBRANGE["online"]]

    def change(table: pa.Table) -> pa.Table:
        ts = table.column("ts").cast(pa.int64()).to_numpy().copy()
        customer = table.column("customer_id").to_numpy()
        rows = np.flatnonzero(
            np.isin(id_subrange(table.column("transaction_id").to_numpy(), spec.seed), ordinary)
        )
        rows = rows[np.lexsort((ts[rows], customer[rows]))]
        follows = np.flatnonzero(customer[rows][1:] == customer[rows][:-1])[::2] + 1
        moved, before = rows[follows], rows[follows - 1]
        day = ts[before] // MICROS_PER_DAY
        ts[moved] = day * MICROS_PER_DAY + ts[moved] % MICROS_PER_DAY
        return table.set_column(1, "ts", pa.array(ts, pa.timestamp("us")))

    for relative in parquet_files(root, "transactions"):
        rewrite_table(root, relative, change)


def misstate_grocery_cycle(root: Path) -> None:
    """The spec says groceries are restocked twice as often as they were."""
    manifest = json.loads((root / "_manifest.json").read_text())
    for category in manifest["spec"]["products"]["categories"]:
        if category["name"] == "Grocery":
            category["replenish_days"] = category["replenish_days"] / 2
    (root / "_manifest.json").write_text(json.dumps(manifest))


def break_foreign_key(root: Path) -> None:
    """Point one line item at a product that does not exist."""
    relative = parquet_files(root, "line_items")[0]

    def change(table: pa.Table) -> pa.Table:
        products = table.column("product_id").to_numpy().copy()
        products[0] = 9_999_999
        return table.set_column(2, "product_id", pa.array(products, pa.int32()))

    rewrite_table(root, relative, change)


def drop_discounts(root: Path) -> None:
    """Sell every line at its full price (no promotion, no markdown), with net amounts and
    transaction totals recomputed so that every integrity check still holds."""
    for relative in parquet_files(root, "line_items"):
        lines = pq.read_table(root / relative)
        gross = decimal_to_cents(lines.column("unit_price")) * lines.column("quantity").to_numpy()
        ids, owner = np.unique(lines.column("transaction_id").to_numpy(), return_inverse=True)
        totals = np.zeros(ids.shape[0], dtype=np.int64)
        np.add.at(totals, owner, gross)

        def full_price(table: pa.Table, gross: np.ndarray = gross) -> pa.Table:
            for name, cents in (("discount", np.zeros_like(gross)), ("net_amount", gross)):
                precision = table.schema.field(name).type.precision
                index = table.schema.get_field_index(name)
                table = table.set_column(index, name, cents_to_decimal(cents, precision))
            return table

        def new_totals(
            table: pa.Table, ids: np.ndarray = ids, totals: np.ndarray = totals
        ) -> pa.Table:
            position = np.searchsorted(ids, table.column("transaction_id").to_numpy())
            precision = table.schema.field("amount").type.precision
            index = table.schema.get_field_index("amount")
            return table.set_column(index, "amount", cents_to_decimal(totals[position], precision))

        rewrite_table(root, relative, full_price)
        rewrite_table(root, relative.replace("line_items/", "transactions/"), new_totals)


def drop_sales_above_reference_income(root: Path) -> None:
    """Remove every transaction (and its lines) of the customers whose income is above
    the income at which the spec's purchase rate has its reference frequency."""
    spec = spec_from_dict(json.loads((root / "_manifest.json").read_text())["spec"])
    reference = validation_context(spec).income_reference
    customers = pa.concat_tables(
        [
            pq.read_table(root / f, columns=["customer_id", "income"])
            for f in parquet_files(root, "customers")
        ]
    )
    richer = customers.filter(pc.greater(customers.column("income"), reference))
    ids = richer.column("customer_id")
    for relative in parquet_files(root, "transactions"):
        table = pq.read_table(root / relative)
        dropped = table.filter(pc.is_in(table.column("customer_id"), ids)).column("transaction_id")
        rewrite_table(
            root, relative, lambda t: t.filter(pc.invert(pc.is_in(t.column("customer_id"), ids)))
        )
        rewrite_table(
            root,
            relative.replace("transactions/", "line_items/"),
            lambda t, gone=dropped: t.filter(pc.invert(pc.is_in(t.column("transaction_id"), gone))),
        )


def swap_labels(root: Path, column_name: str, swap: dict[str, str]) -> None:
    """Relabel a dictionary column of every customers file (its dictionary rewritten)."""

    def change(table: pa.Table) -> pa.Table:
        column = table.column(column_name).combine_chunks()
        dictionary = pa.array([swap.get(v, v) for v in column.dictionary.to_pylist()])
        swapped = pa.DictionaryArray.from_arrays(column.indices, dictionary)
        index = table.schema.get_field_index(column_name)
        return table.set_column(index, column_name, swapped.cast(column.type))

    for relative in parquet_files(root, "customers"):
        rewrite_table(root, relative, change)


def swap_genders(root: Path) -> None:
    """Relabel every woman as a man and every man as a woman: the gender mix barely moves,
    but each person's purchases now follow the other gender's category affinities."""
    swap_labels(root, "gender", {"female": "male", "male": "female"})


def swap_segments(root: Path) -> None:
    """Relabel budget customers as premium and premium customers as budget."""
    swap_labels(root, "segment", {"budget": "premium", "premium": "budget"})


def shuffle_ages(root: Path) -> None:
    """Deal the customers' ages (and birth dates) out again at random: the age pyramid is
    unchanged, but nobody's purchases follow their age any more."""
    rng = np.random.default_rng(1)

    def change(table: pa.Table) -> pa.Table:
        order = pa.array(rng.permutation(table.num_rows))
        for name in ("age", "birth_date"):
            index = table.schema.get_field_index(name)
            table = table.set_column(index, name, table.column(name).take(order))
        return table

    for relative in parquet_files(root, "customers"):
        rewrite_table(root, relative, change)


def corrupt_file(root: Path) -> None:
    """Overwrite bytes in the middle of a file (the manifest is not told)."""
    path = root / parquet_files(root, "transactions")[0]
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


STRAY_NAME = "part-09999.parquet"


def copy_a_file(root: Path) -> Path:
    """Copy a transactions file under a new name beside it (readers of the folder now see
    its transactions twice); the manifest is not told. Returns the copy."""
    original = root / parquet_files(root, "transactions")[0]
    stray = original.with_name(STRAY_NAME)
    shutil.copyfile(original, stray)
    return stray


def _rewrite_labels(root: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    for relative in parquet_files(root, "transactions"):
        rewrite_table(root, relative, change)


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), table.schema.field(name), values)


def report_every_fraud(root: Path) -> None:
    """Every fraud transaction reported (card testing's report rate is 0.55), at the
    moment of the fraud plus an hour."""

    def change(table: pa.Table) -> pa.Table:
        fraud = table.column("is_fraud").combine_chunks()
        reported = pc.or_(table.column("fraud_reported").combine_chunks(), fraud)
        hour = pa.scalar(3_600_000_000, pa.int64())
        at = pc.add(table.column("ts").cast(pa.int64()), hour).cast(pa.timestamp("us"))
        at = pc.if_else(fraud, at, table.column("fraud_reported_at"))
        table = _replace(table, "fraud_reported", reported)
        return _replace(table, "fraud_reported_at", at)

    _rewrite_labels(root, change)


def delay_reports(root: Path) -> None:
    """Every report arrives four times later than it did."""

    def change(table: pa.Table) -> pa.Table:
        ts = table.column("ts").cast(pa.int64())
        at = table.column("fraud_reported_at").cast(pa.int64())
        later = pc.add(ts, pc.multiply(pc.subtract(at, ts), 4))
        return _replace(table, "fraud_reported_at", later.cast(pa.timestamp("us")))

    _rewrite_labels(root, change)


def drop_report_times(root: Path) -> None:
    """Reported transactions lose their report time."""

    def change(table: pa.Table) -> pa.Table:
        return _replace(table, "fraud_reported_at", pa.nulls(table.num_rows, pa.timestamp("us")))

    _rewrite_labels(root, change)


def ship_every_online_sale_home(root: Path) -> None:
    """Gifts undone: every online sale ships to the region its customer lived in that day
    (the history's version in force)."""
    history = pa.concat_tables(
        pq.read_table(root / f, columns=["customer_id", "valid_from", "region"])
        for f in parquet_files(root, "customer_history")
    )
    day = 86_400_000_000
    keys = history["customer_id"].to_numpy() * 2**32 + (
        history["valid_from"].cast(pa.int64()).to_numpy() // day
    )
    order = np.argsort(keys, kind="stable")
    regions = np.asarray(history["region"].cast(pa.string()).to_pylist(), dtype=object)[order]
    keys = keys[order]

    def change(table: pa.Table) -> pa.Table:
        wanted = table["customer_id"].to_numpy() * 2**32 + (
            table["ts"].cast(pa.int64()).to_numpy() // day
        )
        home = regions[np.searchsorted(keys, wanted, side="right") - 1]
        shipped = np.asarray(table["ship_region"].is_valid())
        values = pa.array(np.where(shipped, home, None).tolist(), pa.string())
        return _replace(table, "ship_region", values.dictionary_encode())

    _rewrite_labels(root, change)


def drop_feed_updates(root: Path) -> None:
    """The first month's change feed loses its updates (a consumer would miss them)."""

    def change(table: pa.Table) -> pa.Table:
        return table.filter(pc.not_equal(table.column("operation").cast(pa.string()), "update"))

    rewrite_table(root, parquet_files(root, "customer_changes")[0], change)


def feed_a_month_late(root: Path) -> None:
    """One feed file's changes dated 40 days later than they happened."""

    def change(table: pa.Table) -> pa.Table:
        later = pc.add(table.column("change_ts").cast(pa.int64()), 40 * 86_400_000_000)
        return _replace(table, "change_ts", later.cast(pa.timestamp("us")))

    rewrite_table(root, parquet_files(root, "customer_changes")[0], change)


def every_version_current(root: Path) -> None:
    """A history whose every version claims to be current (a broken SCD type 2 merge)."""

    def change(table: pa.Table) -> pa.Table:
        return _replace(table, "is_current", pa.array([True] * table.num_rows))

    rewrite_table(root, parquet_files(root, "customer_history")[0], change)


def stale_current_email(root: Path) -> None:
    """The history's current versions keep an e-mail the snapshot no longer has."""

    def change(table: pa.Table) -> pa.Table:
        email = pc.binary_join_element_wise(table.column("email"), "x", "")
        email = pc.if_else(table.column("is_current"), email, table.column("email"))
        return _replace(table, "email", email)

    rewrite_table(root, parquet_files(root, "customer_history")[0], change)


TAMPERING: list[tuple[Callable[[Path], None], str]] = [
    (flatten_weekdays, "transactions.weekday_profile"),
    (drop_fraud, "fraud.rate"),
    (shift_ages, "customers.age_pyramid"),
    (break_foreign_key, "line_items.product_fk"),
    (drop_discounts, "line_items.discount_share"),
    (drop_sales_above_reference_income, "transactions.intensity_by_class"),
    (swap_genders, "line_items.category_by_audience"),
    (shuffle_ages, "transactions.online_share_by_age"),
    (swap_segments, "line_items.basket_size_by_segment_channel"),
    (corrupt_file, "files.checksum"),
    # copy_a_file (files.unlisted): test_a_stray_copy_is_named_and_the_dataset_unpublished
    (report_every_fraud, "labels.report_rate_card_testing"),
    (delay_reports, "labels.report_delay_account_takeover"),
    (drop_report_times, "labels.consistent"),
    (ship_every_online_sale_home, "transactions.gift_shipping"),
    (mix_substitutes, "line_items.substitute_mixed_share"),
    (reorder_late, "line_items.replenishment_regular"),
    (misstate_grocery_cycle, "transactions.replenishment_volume"),
    (drop_half_the_reorders, "transactions.replenishment_volume"),
    (bunch_purchases, "transactions.inter_purchase_time"),
    (drop_feed_updates, "customer_changes.matches_history"),
    (feed_a_month_late, "customer_changes.in_month"),
    (every_version_current, "customer_history.versions"),
    (stale_current_email, "customer_history.current_is_snapshot"),
]


@pytest.mark.parametrize(("tamper", "expected"), TAMPERING, ids=[e for _, e in TAMPERING])
def test_tampered_data_fails_the_right_test(
    dataset_copy: Path,
    tamper: Callable[[Path], None],
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the untouched copy passes (test_untouched_dataset_revalidates_clean)
    tamper(dataset_copy)
    assert main([*QUICK_VALIDATE, str(dataset_copy)]) == EXIT_FAILURE
    assert_revalidation_fails(dataset_copy, expected, capsys.readouterr())


def test_untouched_dataset_revalidates_clean(
    dataset_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(dataset_copy)]) == 0
    out = capsys.readouterr().out
    assert "fidelity report: PASS" in out
    report = fidelity_report(dataset_copy)
    groups = report.summary.groups
    assert set(groups) >= {"integrity", "fidelity", "fraud", "signature"}
    assert sum(g.tests for g in groups.values()) == len(report.tests) >= 75
    assert isinstance(report.learnability, LearnabilityScored)
    # without the informative learnability section every check's verdict is the same
    assert main([*QUICK_VALIDATE, str(dataset_copy)]) == 0
    quick = fidelity_report(dataset_copy)
    assert quick.tests == report.tests
    assert isinstance(quick.learnability, LearnabilityUnavailable)
    assert "--no-learnability" in quick.learnability.note


@pytest.mark.slow  # a whole validation; the listing's own test stays fast
def test_a_stray_copy_is_named_and_the_dataset_unpublished(
    dataset_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a partition file copied under a new name passed (`fidelity report: PASS`,
    `_SUCCESS` kept) while readers of the folder saw its transaction ids twice. Hidden
    names (a temporary file, a table format's own folder) are not data and stay allowed."""
    month = (dataset_copy / parquet_files(dataset_copy, "transactions")[0]).parent
    (month / ".tmp-0123-part-00000.parquet").write_bytes(b"an interrupted write")
    (month / "_delta_log").mkdir()
    (month / "_delta_log" / "00000.json").write_text("{}")
    stray = str(copy_a_file(dataset_copy).relative_to(dataset_copy))
    assert main([*QUICK_VALIDATE, str(dataset_copy)]) == EXIT_FAILURE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert (
        "files.unlisted (every data file in the table folders is one the manifest lists;"
        f" not so: {stray})" in err[0]
    )
    assert "part-00000.parquet" not in err[0]  # the hidden ones are not named
    assert list(fidelity_report(dataset_copy).summary.failed_tests) == ["files.unlisted"]
    assert not (dataset_copy / SUCCESS_NAME).exists()
    assert json.loads((dataset_copy / "_manifest.json").read_text())["published"] is False
