"""The seed contract: same spec and seed give the same bytes; a data block's rows depend
only on that block; fraud settings never move legitimate rows; extending the calendar
keeps every row already generated."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from helpers import small_spec

from synthpipe.model.customer_tables import generate_customers
from synthpipe.model.money import decimal_to_cents
from synthpipe.model.partition import generate_partition
from synthpipe.model.products import generate_products
from synthpipe.model.stores import generate_stores
from synthpipe.model.transactions import generate_sales
from synthpipe.plan import make_plan
from synthpipe.sink.labels import encoded_file
from synthpipe.spec import Spec

FEB = (dt.date(2024, 2, 1), dt.date(2024, 2, 29))


def _bytes(spec: Spec, table: pa.Table, name: str) -> bytes:
    return encoded_file(table, spec, name, "test")


@pytest.mark.parametrize("kind", ["customers", "products", "stores", "sales"])
def test_same_seed_same_bytes(small: Spec, kind: str) -> None:
    task = [t for t in make_plan(small) if t.kind == kind][-1]
    first = generate_partition(small, task)
    second = generate_partition(small_spec(), task)
    for name, table in first.tables.items():
        assert table.num_rows > 0
        assert _bytes(small, table, name) == _bytes(small, second.tables[name], name)


@pytest.mark.parametrize(
    "make",
    [
        lambda s: generate_customers(s, 0),
        lambda s: generate_products(s),
        lambda s: generate_stores(s),
        lambda s: generate_sales(s, 0, *FEB).transactions,
        lambda s: generate_sales(s, 0, *FEB).line_items,
    ],
    ids=["customers", "products", "stores", "transactions", "line_items"],
)
def test_another_seed_gives_other_data(make: object) -> None:
    a = make(small_spec())  # type: ignore[operator]
    b = make(small_spec(seed=12))  # type: ignore[operator]
    assert not a.equals(b)


def test_a_block_does_not_depend_on_the_others() -> None:
    """Block 1 is the same whether the world has 2, 3 or 10 blocks (its own size fixed)."""
    base = small_spec()
    bigger = small_spec(customers__count=10_000)
    assert generate_customers(base, 1).equals(generate_customers(bigger, 1))
    assert generate_sales(base, 1, *FEB).transactions.equals(
        generate_sales(bigger, 1, *FEB).transactions
    )


def test_the_last_partial_block_keeps_its_customers_when_the_count_grows() -> None:
    short = generate_customers(small_spec(customers__count=2_500), 2)
    full = generate_customers(small_spec(), 2)
    assert short.num_rows == 500
    assert short.equals(full.slice(0, 500))


def _legitimate(table: pa.Table) -> dict[int, tuple[int, int, int]]:
    legit = table.filter(pc.invert(table.column("is_fraud")))
    ids = legit.column("transaction_id").to_numpy()
    customers = legit.column("customer_id").to_numpy()
    ts = legit.column("ts").cast(pa.int64()).to_numpy()
    amounts = decimal_to_cents(legit.column("amount"))
    return {
        int(i): (int(c), int(t), int(a))
        for i, c, t, a in zip(ids, customers, ts, amounts, strict=True)
    }


@pytest.mark.parametrize(
    "change",
    [
        {"fraud__rate": 0.0},
        {"fraud__rate": 0.05},
        {"fraud__types__card_testing__share": 0.0},
        {"fraud__types__stolen_card__share": 0.0, "fraud__types__refund_abuse__share": 3.0},
        {
            "fraud__types__card_testing__quantity_factor": 3.0,
            "fraud__types__card_testing__cheapest_share": 0.5,
            "fraud__types__account_takeover__priciest_share": 1.0,
            "fraud__types__stolen_card__categories": ["Toys & Games"],
            "fraud__types__refund_abuse__quantity_factor": 0.0,
        },
    ],
    ids=["no-fraud", "more-fraud", "drop-card-testing", "other-mix", "other-goods"],
)
def test_fraud_settings_never_move_legitimate_transactions(change: dict[str, object]) -> None:
    base = generate_sales(small_spec(), 0, *FEB)
    other = generate_sales(small_spec(**change), 0, *FEB)
    assert _legitimate(base.transactions) == _legitimate(other.transactions)
    assert base.legitimate == other.legitimate
    # every column of the legitimate rows and of their line items, byte for byte
    legit = base.transactions.filter(pc.invert(base.transactions.column("is_fraud")))
    assert legit.equals(other.transactions.filter(pc.invert(other.transactions.column("is_fraud"))))
    ids = legit.column("transaction_id")

    def legit_lines(items: pa.Table) -> pa.Table:
        return items.filter(pc.is_in(items.column("transaction_id"), value_set=ids))

    assert legit_lines(base.line_items).equals(legit_lines(other.line_items))


def test_adding_a_fraud_type_keeps_the_other_types() -> None:
    # difficulty 0: every event a burst, so the same events hold the same charges
    plain = {"fraud__difficulty": 0.0}
    without = generate_sales(small_spec(**plain, fraud__types__refund_abuse__share=0.0), 0, *FEB)
    with_it = generate_sales(small_spec(**plain), 0, *FEB)
    for table in (without.transactions, with_it.transactions):
        assert table.num_rows > 0
    a = without.transactions.filter(
        pc.equal(without.transactions.column("fraud_type"), "card_testing")
    )
    b = with_it.transactions.filter(
        pc.equal(with_it.transactions.column("fraud_type"), "card_testing")
    )

    # Same events, drawn from the type's own streams: the same charges (time of day,
    # lines, amount); only their number, and so the days they fall on (and the victims
    # active then), moves with the other types' shares.
    def charges(table: pa.Table) -> set[tuple[object, ...]]:
        ts = table.column("ts").to_pylist()
        return set(
            zip(
                [t.time() for t in ts],
                table.column("items").to_pylist(),
                table.column("amount").to_pylist(),
                strict=True,
            )
        )

    shared = charges(a) & charges(b)
    assert len(shared) >= 0.5 * min(a.num_rows, b.num_rows) > 0


@pytest.mark.parametrize(
    "overrides",
    [{}, {"customers.lifetime.reactivation.probability": 0.6}],
    ids=["first_lives", "with_returns"],
)
def test_extending_the_calendar_keeps_every_row(overrides: dict[str, float]) -> None:
    """Data to mid-March, then to the end of March: the mid-March rows are exactly the
    same rows (values and ids); complete months are identical."""
    short = small_spec(calendar__end="2024-03-15", **overrides)
    long = small_spec(**overrides)
    a = generate_sales(short, 0, dt.date(2024, 3, 1), dt.date(2024, 3, 15))
    b = generate_sales(long, 0, dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    cutoff = pa.scalar(dt.datetime(2024, 3, 16), pa.timestamp("us"))
    earlier = b.transactions.filter(pc.less(b.transactions.column("ts"), cutoff))
    assert earlier.num_rows == a.transactions.num_rows > 0
    assert earlier.equals(a.transactions)
    lines = b.line_items.filter(
        pc.is_in(b.line_items.column("transaction_id"), a.transactions.column("transaction_id"))
    )
    assert lines.equals(a.line_items)
    assert generate_sales(short, 0, *FEB).transactions.equals(
        generate_sales(long, 0, *FEB).transactions
    )


def test_transaction_ids_are_unique_across_partitions(small: Spec) -> None:
    ids = [
        generate_sales(small, block, first, last).transactions.column("transaction_id").to_numpy()
        for block in range(3)
        for first, last in [(dt.date(2024, 1, 1), dt.date(2024, 1, 31)), FEB]
    ]
    every = np.concatenate(ids)
    assert every.size > 2_000
    assert np.unique(every).size == every.size
