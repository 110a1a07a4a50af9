"""The fit judges itself: a small world generated in process from the fitted spec, and
the sample and that world side by side (monthly, weekday and hourly shares of sales,
purchases per customer, sale amounts, items, refunds) with their distances and a verdict.

The world is the spec's legitimate sales only (no fraud, no identity graph), generated
block-month by block-month like ``synthpipe run`` does but kept in memory, for at most
``JUDGE_CUSTOMERS`` customers: enough for every share compared here, seconds to make.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from synthpipe.clock import (
    DAYS_PER_WEEK,
    HOURS_PER_DAY,
    MICROS_PER_HOUR,
    UNIX_EPOCH_ORDINAL,
    weekday_of,
)
from synthpipe.fit.sample import Sample
from synthpipe.model.blockmonth import block_month, concat_sets
from synthpipe.model.customers import block_count
from synthpipe.model.money import CENTS
from synthpipe.model.transactions import legitimate_sets
from synthpipe.plan import month_ranges
from synthpipe.spec.models import Spec

JUDGE_CUSTOMERS = 5_000  # the world the fit makes to judge itself has at most this many
MIN_BLOCK = 1_000  # the spec's smallest customers.block_size
PER_CUSTOMER_BINS = 6  # purchases per customer: 1, 2, 3, 4, 5 and 6+
ITEM_EDGES = np.asarray([1, 2, 3, 4, 5, 6, 11, 21, 51])  # items: 1..5, 6-10, 11-20, 21-50, 51+
# the targets: what "looks like the sample" means, per comparison
TARGETS = {
    "monthly share TVD": 0.10,
    "weekday share TVD": 0.05,
    "hour share TVD": 0.05,
    "purchases per customer TVD": 0.10,
    "sale amount KS": 0.10,
    "items TVD": 0.10,
    "refund share difference": 0.02,
}


@dataclass(frozen=True)
class Comparison:
    """One line of the side-by-side table: what each side shows, and how far apart."""

    name: str
    sample: str
    world: str
    distance: float
    target: float

    @property
    def passed(self) -> bool:
        """Whether the distance is within its target."""
        return self.distance <= self.target


def world_sample(spec: Spec, customers: int = JUDGE_CUSTOMERS) -> Sample:
    """The legitimate sales and refunds of ``spec``'s world, at most ``customers``
    customers of it (its count and block size capped), as a Sample."""
    count = min(spec.customers.count, customers)
    small = spec.model_copy(
        update={
            "customers": spec.customers.model_copy(
                update={"count": count, "block_size": max(count, MIN_BLOCK)}
            )
        }
    )
    customer, day, hour, amount, items = [], [], [], [], []
    for block in range(block_count(small)):
        for first, last in month_ranges(small):
            ctx = block_month(small, block, first, last)
            parts = [p for p in legitimate_sets(ctx) if p.size]
            if not parts:
                continue
            txn = concat_sets(parts)
            lines = txn.lines
            net = np.bincount(lines.transaction, weights=lines.net(), minlength=txn.size)
            customer.append(ctx.customers.ids[txn.customer].astype(np.int64))
            day.append(first.toordinal() - UNIX_EPOCH_ORDINAL + txn.day.astype(np.int64))
            hour.append((txn.micros // MICROS_PER_HOUR).astype(np.int64))
            amount.append(np.round(net) / CENTS)
            items.append(np.bincount(lines.transaction, minlength=txn.size).astype(np.float64))
    if not customer:
        empty = np.zeros(0, dtype=np.int64)
        return Sample(empty, empty, empty, np.zeros(0), np.zeros(0), None, None, (), None, 0)
    codes, dense = np.unique(np.concatenate(customer), return_inverse=True)
    return Sample(
        customer=dense.ravel(),
        day=np.concatenate(day),
        hour=np.concatenate(hour),
        amount=np.concatenate(amount),
        items=np.concatenate(items),
        channel=None,
        payment=None,
        payment_labels=(),
        fraud=None,
        customers=int(codes.shape[0]),
    )


def _shares(counts: np.ndarray) -> np.ndarray:
    total = float(counts.sum())
    return counts / total if total > 0 else counts.astype(np.float64)


def tvd(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance of two histograms (each made shares first)."""
    return float(0.5 * np.abs(_shares(a) - _shares(b)).sum())


def _legitimate(sample: Sample) -> np.ndarray:
    return np.ones(sample.rows, dtype=bool) if sample.fraud is None else ~sample.fraud


def sales_mask(sample: Sample) -> np.ndarray:
    """The sales: legitimate rows with a positive amount."""
    return np.asarray(_legitimate(sample) & (sample.amount > 0))


def monthly_counts(sample: Sample, first: int, last: int) -> np.ndarray:
    """Sales per calendar month from the month of day ``first`` to that of ``last``."""
    months = np.asarray(sample.day, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)
    lo = int(np.datetime64(first, "D").astype("datetime64[M]").astype(np.int64))
    hi = int(np.datetime64(last, "D").astype("datetime64[M]").astype(np.int64))
    keep = sales_mask(sample) & (months >= lo) & (months <= hi)
    return np.bincount(months[keep] - lo, minlength=hi - lo + 1).astype(np.float64)


def per_customer_counts(sample: Sample) -> np.ndarray:
    """Customers with 1, 2, 3, 4, 5 and 6+ sales (customers with none left out)."""
    sales = np.bincount(sample.customer[sales_mask(sample)], minlength=sample.customers)
    sales = sales[sales > 0]
    return np.bincount(np.minimum(sales, PER_CUSTOMER_BINS) - 1, minlength=PER_CUSTOMER_BINS)


def _share_text(counts: np.ndarray, labels: list[str]) -> str:
    shares = _shares(counts)
    return ", ".join(f"{k} {v:.0%}" for k, v in zip(labels, shares, strict=True))


def _quantiles(values: np.ndarray) -> str:
    if values.shape[0] == 0:
        return "none"
    q = np.quantile(values, [0.1, 0.5, 0.9])
    return f"p10 {q[0]:,.4g}, median {q[1]:,.4g}, p90 {q[2]:,.4g}"


def compare(sample: Sample, world: Sample) -> list[Comparison]:
    """The side-by-side table of the sample and the world (only what the sample shows)."""
    rows: list[Comparison] = []
    first, last = int(sample.day.min()), int(sample.day.max())
    a, b = monthly_counts(sample, first, last), monthly_counts(world, first, last)
    rows.append(
        Comparison(
            "monthly share TVD",
            f"{a.shape[0]} months, busiest {_shares(a).max():.1%}",
            f"busiest {_shares(b).max():.1%}" if b.sum() else "no sales",
            tvd(a, b),
            TARGETS["monthly share TVD"],
        )
    )
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    def weekdays(s: Sample) -> np.ndarray:
        keep = sales_mask(s)
        return np.bincount(weekday_of(s.day[keep]), minlength=DAYS_PER_WEEK)

    a, b = weekdays(sample), weekdays(world)
    rows.append(
        Comparison(
            "weekday share TVD",
            _share_text(a, days),
            _share_text(b, days),
            tvd(a, b),
            TARGETS["weekday share TVD"],
        )
    )
    if sample.hour is not None and world.hour is not None:
        a = np.bincount(sample.hour[sales_mask(sample)], minlength=HOURS_PER_DAY)
        b = np.bincount(world.hour[sales_mask(world)], minlength=HOURS_PER_DAY)
        rows.append(
            Comparison(
                "hour share TVD",
                f"busiest hour {int(np.argmax(a))}:00 ({_shares(a).max():.0%})",
                f"busiest hour {int(np.argmax(b))}:00 ({_shares(b).max():.0%})",
                tvd(a, b),
                TARGETS["hour share TVD"],
            )
        )
    labels = ["1", "2", "3", "4", "5", "6+"]
    a, b = per_customer_counts(sample), per_customer_counts(world)
    rows.append(
        Comparison(
            "purchases per customer TVD",
            _share_text(a, labels),
            _share_text(b, labels),
            tvd(a, b),
            TARGETS["purchases per customer TVD"],
        )
    )
    x, y = sample.amount[sales_mask(sample)], world.amount[sales_mask(world)]
    ks = float(stats.ks_2samp(x, y).statistic) if x.size and y.size else 1.0
    rows.append(
        Comparison("sale amount KS", _quantiles(x), _quantiles(y), ks, TARGETS["sale amount KS"])
    )
    if sample.items is not None and world.items is not None:
        edges = ITEM_EDGES

        def items(s: Sample) -> np.ndarray:
            assert s.items is not None
            bins = np.searchsorted(edges, s.items[sales_mask(s)], side="right")
            return np.bincount(bins, minlength=edges.shape[0] + 1)[1:]

        a, b = items(sample), items(world)
        rows.append(
            Comparison(
                "items TVD",
                _quantiles(sample.items[sales_mask(sample)]),
                _quantiles(world.items[sales_mask(world)]),
                tvd(a, b),
                TARGETS["items TVD"],
            )
        )

    def refund_share(s: Sample) -> float:
        legitimate = _legitimate(s)
        return float((s.amount[legitimate] < 0).sum()) / max(int(legitimate.sum()), 1)

    ra, rb = refund_share(sample), refund_share(world)
    rows.append(
        Comparison(
            "refund share difference",
            f"{ra:.2%} of transactions",
            f"{rb:.2%}",
            abs(ra - rb),
            TARGETS["refund share difference"],
        )
    )
    return rows


def verdict(rows: list[Comparison]) -> str:
    """One line: whether the world looks like the sample, and where it does not."""
    failed = [r.name for r in rows if not r.passed]
    if not failed:
        return "the world looks like the sample: every distance is within its target"
    return f"the world differs from the sample in {len(failed)} of {len(rows)}: " + ", ".join(
        failed
    )
