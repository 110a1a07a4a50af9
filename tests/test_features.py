"""The identity graph's features: accounts per key so far, and the account's component
in the graph of earlier months, never reading ahead."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
from helpers import small_spec

from synthpipe.features import (
    GRAPH_FEATURES,
    NO_KEY,
    accounts_seen,
    component_accounts,
    feature_names,
    transaction_features,
    without_graph,
)
from synthpipe.model.customer_tables import generate_customers
from synthpipe.model.stores import generate_stores
from synthpipe.model.transactions import generate_sales

DAY = 86_400_000_000  # microseconds


def test_accounts_seen_counts_each_account_from_its_first_row() -> None:
    key = np.asarray([7, 7, 7, 7, NO_KEY, 9])
    customer = np.asarray([1, 2, 1, 3, 4, 1])
    ts = np.asarray([10, 20, 30, 40, 50, 60])
    assert accounts_seen(key, customer, ts).tolist() == [1, 2, 2, 3, 0, 1]
    # order of the rows does not matter, only their times
    shuffle = np.asarray([5, 3, 1, 0, 4, 2])
    seen = accounts_seen(key[shuffle], customer[shuffle], ts[shuffle])
    assert seen.tolist() == [1, 3, 2, 1, 0, 2]


def test_components_come_from_earlier_months_only() -> None:
    # accounts 1 and 2 share a device in January; 3 joins them on it in February
    january, february, march = 0, 31 * DAY, 60 * DAY
    customer = np.asarray([1, 2, 3, 3, 1])
    device = np.asarray([5, 5, NO_KEY, 5, NO_KEY])
    card = np.asarray([NO_KEY, NO_KEY, NO_KEY, 8, 8])
    ts = np.asarray([january, january + 1, january + 2, february, march])
    sizes = component_accounts([device, card], customer, ts)
    # January has no earlier month; February sees {1, 2} and 3 alone; March all three
    assert sizes.tolist() == [1, 1, 1, 1, 3]


def test_the_feature_table_with_and_without_the_graph() -> None:
    spec = small_spec()
    first, last = dt.date(2024, 1, 1), dt.date(2024, 2, 29)
    months = [(first, dt.date(2024, 1, 31)), (dt.date(2024, 2, 1), last)]
    transactions = pa.concat_tables(generate_sales(spec, 0, *m).transactions for m in months)
    customers, stores = generate_customers(spec, 0), generate_stores(spec)
    plain = transaction_features(transactions, customers, stores)
    graph = transaction_features(transactions, customers, stores, graph=True)
    assert set(feature_names(graph)) - set(feature_names(plain)) == set(GRAPH_FEATURES)
    assert without_graph(graph).equals(plain)
    kind = graph.column("fraud_type").cast(pa.string()).fill_null("").to_numpy(zero_copy_only=False)
    devices = graph.column("device_accounts").to_numpy()
    # a ring's devices serve several accounts; a household's a few
    assert devices[kind == "fraud_ring"].mean() > 2 * devices[kind == ""].max() / 3
