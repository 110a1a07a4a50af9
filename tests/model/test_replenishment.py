"""Replenishment: staples reordered on a cycle of their own. Each customer holds a staple
in a staple category with probability share, with a period replenish_days x Gamma(k, 1/k),
and reorders it on floor(signup + (U + j) P) while still buying."""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np
from helpers import small_spec

from synthpipe.model.blockmonth import cached_customer_block
from synthpipe.model.ids import LEGIT_SUBRANGE, id_subrange
from synthpipe.model.replenishment import staple_categories, staples
from synthpipe.model.transactions import generate_sales

MONTHS = [
    (dt.date(2024, m, 1), dt.date(2024, m, calendar.monthrange(2024, m)[1])) for m in (1, 2, 3)
]
UNIX_EPOCH = np.datetime64("1970-01-01", "D")


def test_staples_follow_the_share_and_the_cycle() -> None:
    spec = small_spec(sales__replenishment__share=0.4)
    customers = cached_customer_block(spec, 0)
    held = staples(spec, 0)
    categories = staple_categories(spec)
    n = customers.size * categories.shape[0]
    share = spec.sales.replenishment.share
    assert abs(held.size - n * share) <= 5 * math.sqrt(n * share * (1 - share))
    k = spec.sales.replenishment.cycle_shape
    for category in categories:
        days = spec.products.categories[category].replenish_days
        ratio = held.period[held.category == category] / days
        # Gamma(k, 1/k): mean 1, variance 1/k
        assert abs(ratio.mean() - 1) <= 5 * math.sqrt(1 / k / ratio.shape[0])
        assert abs(ratio.var() - 1 / k) <= 0.25 / k
    phase = (held.first - (customers.signup_day[held.customer] - UNIX_EPOCH).astype(float)) / (
        held.period
    )
    assert phase.min() >= 0
    assert phase.max() < 1


def test_reorders_are_exactly_the_schedule_before_the_churn_day() -> None:
    spec = small_spec(sales__replenishment__share=0.4, fraud__rate=0.0)
    customers = cached_customer_block(spec, 0)
    held = staples(spec, 0)
    wanted = {LEGIT_SUBRANGE["replenish_in_store"], LEGIT_SUBRANGE["replenish_online"]}
    seen: set[tuple[int, int, int]] = set()
    for month in MONTHS:
        made = generate_sales(spec, 0, *month)
        ids = made.transactions.column("transaction_id").to_numpy()
        reorder = np.isin(id_subrange(ids, spec.seed), list(wanted))
        txn_ids = set(ids[reorder].tolist())
        lines = made.line_items
        line_txn = lines.column("transaction_id").to_numpy()
        mine = np.asarray([t in txn_ids for t in line_txn.tolist()])
        assert mine.sum() == reorder.sum()  # one line per reorder
        day = made.transactions.column("ts").to_numpy().astype("datetime64[D]")
        by_id = dict(zip(ids.tolist(), day.astype(np.int64).tolist(), strict=True))
        customer = dict(
            zip(ids.tolist(), made.transactions.column("customer_id").to_pylist(), strict=True)
        )
        for t, product in zip(
            line_txn[mine].tolist(),
            (lines.column("product_id").to_numpy()[mine] - 1).tolist(),
            strict=True,
        ):
            seen.add((int(customer[t]) - int(customers.ids[0]), product, by_id[t]))
    start = int((np.datetime64("2024-01-01") - UNIX_EPOCH).astype(np.int64))
    end = int((np.datetime64("2024-04-01") - UNIX_EPOCH).astype(np.int64))
    churn = (customers.churn_day - UNIX_EPOCH).astype(np.int64)
    scheduled: set[tuple[int, int, int]] = set()
    for row in range(held.size):
        c = int(held.customer[row])
        for j in range(int((end - held.first[row]) / held.period[row]) + 2):
            day = math.floor(held.first[row] + j * held.period[row])
            if start <= day < end and day < churn[c]:
                scheduled.add((c, int(held.product[row]), day))
    assert seen == scheduled
    assert len(seen) > 500
