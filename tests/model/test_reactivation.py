"""customers.lifetime.reactivation: a dropout is, with probability p, a dormant spell of
Exponential(dormant_days) after which the customer buys again until its next dropout.
The draws follow that law, the sales fall only in the spells, the chain's closed forms
match the draws, and the truth states each customer's end state and its next 90 days."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from helpers import realised_after, small_spec

from synthpipe.model.customers import block_count, customer_block
from synthpipe.model.ids import LEGIT_SUBRANGE
from synthpipe.model.lifecycle import (
    active_after_active,
    active_on,
    active_probability,
    dropout_nodes,
    survival,
)
from synthpipe.model.transactions import generate_sales
from synthpipe.model.truth import CLV_HORIZON_DAYS, block_truth, merge_truth

Z = 5.0
P_RETURN = 0.5
DORMANT_DAYS = 45.0
STAPLE_RANGES = [LEGIT_SUBRANGE["replenish_in_store"], LEGIT_SUBRANGE["replenish_online"]]
REACTIVATING: dict[str, Any] = {
    "customers.lifetime.reactivation.probability": P_RETURN,
    "customers.lifetime.reactivation.dormant_days": DORMANT_DAYS,
}


def test_the_quadrature_mixes_the_dropout_rates_exactly() -> None:
    """Without returns the chain is exp(-mu t), whose Gamma mixture is the Pareto/NBD
    survival: the quadrature reproduces it to 1e-7 over twenty years of days."""
    spec = small_spec()
    lifetime = spec.customers.lifetime
    mu, weight = dropout_nodes(lifetime.dropout_shape, lifetime.dropout_per_year)
    days = np.arange(0, 20 * 365, 7)
    years = (days + 1.0) / 365.25
    mixed = weight @ active_after_active(mu[:, None], years[None, :], 0.0, 1.0)
    assert np.max(np.abs(mixed - survival(spec, days))) < 1e-7
    assert math.isclose(float(weight.sum()), 1.0, rel_tol=1e-12)


def test_returns_are_geometric_and_their_spells_exponential() -> None:
    spec = small_spec(customers__count=40_000, customers__block_size=40_000, **REACTIVATING)
    block = customer_block(spec, 0)
    returns = block.returns
    per_customer = np.bincount(returns.owner, minlength=block.size)
    n = block.size
    # P(K >= 1) = p and E[K] = p / (1 - p) among customers who drop out at all
    assert abs(float(np.mean(per_customer >= 1)) - P_RETURN) < Z * math.sqrt(0.25 / n)
    mean_k = P_RETURN / (1 - P_RETURN)
    sd_k = math.sqrt(P_RETURN) / (1 - P_RETURN)  # a geometric's spread
    assert abs(float(per_customer.mean()) - mean_k) < Z * sd_k / math.sqrt(n)
    # a dormant spell runs from the previous dropout to the return: Exponential(45 days),
    # each end floored to whole days (the difference of two floors is unbiased to +-1)
    previous = np.where(
        np.r_[True, returns.owner[1:] != returns.owner[:-1]],
        block.churn_day[returns.owner],
        np.r_[returns.gone_day[:1], returns.gone_day[:-1]],
    )
    dormant = (returns.back_day - previous).astype(np.float64)
    sd = DORMANT_DAYS / math.sqrt(dormant.shape[0])
    assert abs(float(dormant.mean()) - DORMANT_DAYS) < Z * sd + 1.0
    # spells are laid end to end: each return starts after the dropout before it
    assert np.all(returns.back_day >= previous)
    assert np.all(returns.gone_day >= returns.back_day)


def test_the_share_buying_by_age_follows_the_chain() -> None:
    spec = small_spec(customers__count=40_000, customers__block_size=40_000, **REACTIVATING)
    block = customer_block(spec, 0)
    everyone = np.arange(block.size)
    for age in (0, 60, 200, 365, 3 * 365):
        day = block.signup_day + np.timedelta64(age, "D")
        share = float(active_on(block.churn_day, block.returns, everyone, day).mean())
        p = float(active_probability(spec, np.asarray([age]))[0])
        assert abs(share - p) <= Z * math.sqrt(p * (1 - p) / block.size), (age, share, p)
    # coming back keeps more customers buying than the first life alone
    late = float(active_probability(spec, np.asarray([3 * 365]))[0])
    assert late > float(survival(spec, np.asarray([3 * 365]))[0]) + 0.05


def test_sales_fall_in_the_spells_and_returns_buy() -> None:
    spec = small_spec(customers__lifetime__dropout_per_year=2.0, **REACTIVATING)
    block = customer_block(spec, 0)
    made = generate_sales(spec, 0, dt.date(2024, 3, 1), dt.date(2024, 3, 31)).transactions
    legit = made.filter(pc.invert(made.column("is_fraud")))
    row = legit.column("customer_id").to_numpy() - int(block.ids[0])
    day = legit.column("ts").cast(pa.timestamp("us")).cast(pa.date32()).to_numpy()
    day = day.astype("datetime64[D]")
    assert np.all(active_on(block.churn_day, block.returns, row, day))
    returned = day >= block.churn_day[row]  # bought after the first dropout
    assert returned.sum() > 0.05 * legit.num_rows


def test_without_reactivation_nobody_returns() -> None:
    block = customer_block(small_spec(), 0)
    assert block.returns.size == 0


def test_the_truth_states_dormant_customers_and_their_future() -> None:
    spec = small_spec(**REACTIVATING)
    truth = merge_truth([block_truth(spec, b) for b in range(block_count(spec))]).lifecycle
    blocks = [customer_block(spec, b) for b in range(block_count(spec))]
    end = np.datetime64(spec.calendar.end)
    buying = truth.column("buying_at_end").to_numpy(zero_copy_only=False)
    dormant = truth.column("dormant_at_end").to_numpy(zero_copy_only=False)
    returns = truth.column("returns_by_end").to_numpy()
    back_on = truth.column("back_on").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    # the states agree with the draws
    offset = 0
    for block in blocks:
        everyone = np.arange(block.size)
        active = (block.signup_day <= end) & active_on(
            block.churn_day, block.returns, everyone, np.full(block.size, end)
        )
        rows = slice(offset, offset + block.size)
        assert np.array_equal(buying[rows], active)
        begun = np.bincount(
            block.returns.owner[block.returns.back_day <= end], minlength=block.size
        )
        assert np.array_equal(returns[rows], begun)
        offset += block.size
    assert not np.any(buying & dormant)
    assert dormant.sum() > 20
    assert np.all(back_on[dormant] > end)
    assert returns.sum() > 0.1 * truth.num_rows
    expected = truth.column(f"expected_purchases_next_{CLV_HORIZON_DAYS}d").to_numpy()
    assert np.all(expected[~buying & ~dormant] == 0)
    assert np.all(expected[dormant] > 0)
    # the next 90 days of the world against the truth: for those buying and those dormant
    ids = truth.column("customer_id").to_numpy()
    realised, _, _ = realised_after(spec, ids, **REACTIVATING)
    signed_up = truth.column("stopped_on").is_valid().to_numpy(zero_copy_only=False) | buying
    gone = signed_up & ~buying & ~dormant
    assert realised[gone].sum() == 0
    for group in (buying, dormant):
        n = float(expected[group].sum())
        # given each customer's activity the purchases are Poisson; the chain adds spread
        assert abs(realised[group].sum() - n) <= Z * math.sqrt(2.0 * n), (realised[group].sum(), n)
