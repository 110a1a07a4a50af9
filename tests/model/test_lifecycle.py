"""customers.lifetime: each customer buys from signup until a latent churn day (Pareto/NBD:
tau ~ Exponential(mu), mu ~ Gamma); the ground truth states the latent state at the end."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from helpers import realised_after, small_spec
from scipy import stats

from synthpipe.model.customers import block_count, customer_block
from synthpipe.model.lifecycle import survival
from synthpipe.model.transactions import generate_sales
from synthpipe.model.truth import CLV_HORIZON_DAYS, CUSTOMER_LIFECYCLE, block_truth, merge_truth
from synthpipe.sink.names import truth_file

Z = 5.0


def test_lifetimes_follow_the_pareto_nbd_survival() -> None:
    spec = small_spec(customers__count=20_000, customers__block_size=20_000)
    block = customer_block(spec, 0)
    lived = (block.churn_day - block.signup_day).astype(np.int64)  # whole days bought
    for days in (0, 30, 365, 3 * 365, 8 * 365):
        share = float(np.mean(lived > days))
        p = float(survival(spec, np.asarray([days]))[0])
        assert abs(share - p) <= Z * math.sqrt(p * (1 - p) / lived.shape[0]), (days, share, p)
    # the rates are Gamma(dropout_shape) with mean dropout_per_year
    lifetime = spec.customers.lifetime
    result = stats.kstest(
        block.dropout_rate,
        "gamma",
        args=(lifetime.dropout_shape, 0, lifetime.dropout_per_year / lifetime.dropout_shape),
    )
    assert result.pvalue > 1e-4


def test_nobody_buys_after_their_churn_day() -> None:
    spec = small_spec(customers__lifetime__dropout_per_year=3.0)
    block = customer_block(spec, 0)
    made = generate_sales(spec, 0, dt.date(2024, 2, 1), dt.date(2024, 2, 29)).transactions
    legit = made.filter(pa.compute.invert(made.column("is_fraud")))
    row = legit.column("customer_id").to_numpy() - int(block.ids[0])
    day = legit.column("ts").cast(pa.timestamp("us")).cast(pa.date32()).to_numpy()
    assert legit.num_rows > 100
    assert np.all(day.astype("datetime64[D]") < block.churn_day[row])
    stopped = block.churn_day <= np.datetime64("2024-02-01")
    assert stopped.mean() > 0.2  # a real share stopped before the month


def test_no_dropout_keeps_everyone() -> None:
    spec = small_spec(customers__lifetime__dropout_per_year=0.0)
    block = customer_block(spec, 0)
    assert np.all(block.churn_day > np.datetime64("2900-01-01"))
    assert float(survival(spec, np.asarray([10_000]))[0]) == 1.0


def test_the_lifecycle_truth_states_each_customers_end_state(small_dataset: Path) -> None:
    truth = pq.read_table(small_dataset / truth_file(CUSTOMER_LIFECYCLE))
    spec = small_spec()
    blocks = [customer_block(spec, b) for b in range(3)]
    churn = np.concatenate([b.churn_day for b in blocks])
    signup = np.concatenate([b.signup_day for b in blocks])
    end = np.datetime64(spec.calendar.end)
    buying = truth.column("buying_at_end").to_numpy(zero_copy_only=False)
    assert truth.num_rows == spec.customers.count
    assert np.array_equal(buying, (signup <= end) & (churn > end))
    stopped = truth.column("stopped_on").to_pylist()
    assert all((s is None) == b for s, b in zip(stopped, buying, strict=True) if b)
    assert sum(s is not None for s in stopped) > 0.2 * truth.num_rows
    expected = truth.column(f"expected_purchases_next_{CLV_HORIZON_DAYS}d").to_numpy()
    assert np.all(expected[~buying] == 0)
    # a buying customer of rate r buys about r x activity x 90 days (seasonality aside)
    rate = np.concatenate([b.base_rate for b in blocks])
    ratio = expected[buying] / (rate[buying] * CLV_HORIZON_DAYS)
    assert 0.6 < float(np.median(ratio)) < 1.3


def test_the_clv_truth_predicts_the_next_90_days() -> None:
    """The truth at calendar.end against what the same world does in the 90 days after it
    (the extended calendar keeps every earlier row, so this is the world's future)."""
    spec = small_spec()
    truth = merge_truth([block_truth(spec, b) for b in range(block_count(spec))]).lifecycle
    ids = truth.column("customer_id").to_numpy()
    purchases, reorders, spend = realised_after(spec, ids)
    # customers who stopped have no future; those who sign up later are not in the truth
    buying = truth.column("buying_at_end").to_numpy(zero_copy_only=False)
    signed_up = np.concatenate(
        [customer_block(spec, b).signup_day for b in range(block_count(spec))]
    ) <= np.datetime64(spec.calendar.end)
    assert purchases[signed_up & ~buying].sum() == 0
    purchases, reorders, spend = purchases[buying], reorders[buying], spend[buying]
    expected_purchases = truth.column(f"expected_purchases_next_{CLV_HORIZON_DAYS}d").to_numpy()
    expected_reorders = truth.column(f"expected_reorders_next_{CLV_HORIZON_DAYS}d").to_numpy()
    expected_spend = truth.column(f"expected_spend_next_{CLV_HORIZON_DAYS}d").to_numpy()
    assert np.all(expected_spend[~buying] == 0)
    assert np.all(expected_reorders[~buying] == 0)
    expected_purchases = expected_purchases[buying]
    expected_reorders = expected_reorders[buying]
    expected_spend = expected_spend[buying]
    # given the latent activity, purchases are Poisson; reorders vary only by dropout
    n = expected_purchases.sum()
    assert abs(purchases.sum() - n) <= 5 * math.sqrt(n), (purchases.sum(), n)
    m = expected_reorders.sum()
    assert abs(reorders.sum() - m) <= 5 * math.sqrt(m), (reorders.sum(), m)
    # spend: a compound sum, relative spread sqrt((1 + cv^2) / count) of its purchases
    count = purchases.sum() + reorders.sum()
    per = spend.sum() / count
    cv2 = float(np.var(spend[spend > 0]) / max(np.mean(spend[spend > 0]) ** 2, 1e-12))
    tolerance = 5 * math.sqrt((1 + cv2) / count)
    assert abs(spend.sum() / expected_spend.sum() - 1) <= tolerance, (
        spend.sum(),
        expected_spend.sum(),
        per,
    )
