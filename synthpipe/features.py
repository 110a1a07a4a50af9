"""The per-transaction feature table an analyst builds to detect fraud: a documented,
public starting point for your own models (``synthpipe.features.transaction_features``).

Every feature uses only what was known at the transaction's time: a customer's history
features look back over that customer's earlier transactions in the table, never ahead.
The table carries ``is_fraud`` and ``fraud_type`` as labels, and the keys to join back.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import MICROS_PER_DAY, MICROS_PER_HOUR, weekday_of

NO_PREVIOUS_HOURS = 24.0 * 365  # hours since the previous transaction, when there is none


def _numpy(table: pa.Table, name: str, kind: type = np.float64) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=kind)


def _labels(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    return np.asarray(column.fill_null("").to_numpy(zero_copy_only=False), dtype=object)


def _int64(table: pa.Table, name: str) -> np.ndarray:
    """A timestamp (micros) or date (days) column as its integer count since 1970."""
    column = table.column(name)
    if pa.types.is_date32(column.type):
        column = column.cast(pa.int32())
    return np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False))


def transaction_features(
    transactions: pa.Table, customers: pa.Table, stores: pa.Table, graph: bool = False
) -> pa.Table:
    """One row per transaction, in (customer, time) order, with:

    - the transaction: ``amount`` (signed), ``log_amount`` (log10 of 1 + |amount|),
      ``items``, ``hour``, ``weekday`` (Monday 0), ``is_online``, ``is_refund``,
      ``payment_method`` (one-hot columns ``payment_<method>``);
    - the customer: ``age``, ``log_income``, ``segment`` (one-hot ``segment_<name>``),
      ``is_loyalty_member``, ``tenure_days`` (days since signup);
    - place: ``away_from_home`` (bought in a store of another region, or shipped to one);
    - history, from the customer's earlier transactions only: ``same_day_count`` (earlier
      ones that day), ``hours_since_previous``, ``amount_vs_history`` (|amount| over the
      mean of the earlier ones; 1 without history), ``previous_count``;
    - with ``graph``, the identity graph's features (``graph_features``; the
      transactions need device_id, card_id and ship_address_id): GRAPH_FEATURES;
    - keys and labels: ``transaction_id``, ``customer_id``, ``ts``, ``is_fraud``,
      ``fraud_type``, and the observed ``fraud_reported`` and ``fraud_reported_at`` when
      the transactions carry them.

    ``transactions`` needs the transactions table's columns; ``customers`` at least
    customer_id, age, income, segment, region, signup_date, is_loyalty_member; ``stores``
    store_id and region. Customers missing from ``customers`` get neutral values.
    """
    ts = _int64(transactions, "ts")
    customer = _numpy(transactions, "customer_id", np.int64)
    order = np.lexsort((ts, customer))
    txn = transactions.take(pa.array(order))
    ts, customer = ts[order], customer[order]
    amount = _numpy(txn, "amount")
    n = ts.shape[0]

    people = _customer_lookup(customers, customer)
    home = people["region"]
    store_region = _store_regions(stores, txn)
    ship = _labels(txn, "ship_region")
    online = _labels(txn, "channel") == "online"
    bought_away = (store_region != "") & (store_region != home)
    away = np.where(online, (ship != "") & (ship != home), bought_away)

    day = ts // MICROS_PER_DAY
    first = np.ones(n, dtype=bool)
    first[1:] = customer[1:] != customer[:-1]
    previous_count = _position_in_run(first)
    group_start = np.arange(n) - previous_count
    gap_hours = np.empty(n)
    gap_hours[0] = NO_PREVIOUS_HOURS
    gap_hours[1:] = (ts[1:] - ts[:-1]) / MICROS_PER_HOUR
    gap_hours[first] = NO_PREVIOUS_HOURS
    same_day = _position_in_run(first | np.concatenate([[True], day[1:] != day[:-1]]))
    magnitude = np.abs(amount)
    running = np.cumsum(magnitude) - magnitude
    running -= running[group_start]
    history_mean = np.where(previous_count > 0, running / np.maximum(previous_count, 1), 0.0)
    vs_history = np.where(previous_count > 0, magnitude / np.maximum(history_mean, 0.01), 1.0)

    columns: dict[str, pa.Array | np.ndarray] = {
        "transaction_id": txn.column("transaction_id").combine_chunks(),
        "customer_id": customer,
        "ts": txn.column("ts").combine_chunks(),
        "amount": amount,
        "log_amount": np.log10(1.0 + magnitude),
        "items": _numpy(txn, "items"),
        "hour": ((ts % MICROS_PER_DAY) // MICROS_PER_HOUR).astype(np.float64),
        "weekday": weekday_of(day).astype(np.float64),
        "is_online": online.astype(np.float64),
        "is_refund": (_labels(txn, "transaction_type") == "refund").astype(np.float64),
        "age": people["age"],
        "log_income": np.log10(np.maximum(people["income"], 1.0)),
        "is_loyalty_member": people["loyal"],
        "tenure_days": day - people["signup_day"],
        "away_from_home": away.astype(np.float64),
        "same_day_count": same_day.astype(np.float64),
        "hours_since_previous": gap_hours,
        "amount_vs_history": vs_history,
        "previous_count": previous_count.astype(np.float64),
    }
    columns |= _one_hot("payment", _labels(txn, "payment_method"))
    columns |= _one_hot("segment", people["segment"])
    if graph:
        columns |= graph_features(txn, customer, ts)
    columns["is_fraud"] = txn.column("is_fraud").combine_chunks()
    columns["fraud_type"] = txn.column("fraud_type").combine_chunks()
    for label in ("fraud_reported", "fraud_reported_at"):  # observed labels, when present
        if label in txn.column_names:
            columns[label] = txn.column(label).combine_chunks()
    return pa.table(columns)


# The identity graph's features (graph_features), and the keys they read.
GRAPH_FEATURES = ("device_accounts", "card_accounts", "address_accounts", "component_accounts")
GRAPH_KEYS = ("device_id", "card_id", "ship_address_id")
NO_KEY = -1  # a transaction without the key (a null in the table)


def graph_features(txn: pa.Table, customer: np.ndarray, ts: np.ndarray) -> dict[str, np.ndarray]:
    """The identity graph's features of each transaction of ``txn`` (``customer`` and
    ``ts`` its accounts and times), each known at the transaction's time:

    - ``device_accounts``, ``card_accounts``, ``address_accounts``: accounts seen on the
      transaction's device, card or shipping address so far, itself included (0 without);
    - ``component_accounts``: accounts in the account's connected component of the
      account-device-card-address graph of every transaction before the transaction's
      month (1 for an account not yet in it): monthly snapshots, so no edge from the
      future and a cost of one ``connected_components`` a month.
    Network addresses are left out of the graph: a public one joins thousands of accounts.
    """
    keys = {name: _key(txn, name) for name in GRAPH_KEYS}
    return {
        "device_accounts": accounts_seen(keys["device_id"], customer, ts),
        "card_accounts": accounts_seen(keys["card_id"], customer, ts),
        "address_accounts": accounts_seen(keys["ship_address_id"], customer, ts),
        "component_accounts": component_accounts(list(keys.values()), customer, ts),
    }


def _key(txn: pa.Table, name: str) -> np.ndarray:
    """An identity key column as int64, NO_KEY where null."""
    column = txn.column(name).cast(pa.int64()).fill_null(NO_KEY)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64)


def accounts_seen(key: np.ndarray, customer: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """For each row, the accounts seen on its key at or before its time (0 without a
    key): each (key, account) pair counts from its first row, in time order by key."""
    out = np.zeros(key.shape[0])
    rows = np.flatnonzero(key != NO_KEY)
    if rows.shape[0] == 0:
        return out
    k, c, t = key[rows], customer[rows], ts[rows]
    by_pair = np.lexsort((t, c, k))
    starts_pair = np.ones(rows.shape[0], dtype=bool)
    starts_pair[1:] = (k[by_pair][1:] != k[by_pair][:-1]) | (c[by_pair][1:] != c[by_pair][:-1])
    new = np.zeros(rows.shape[0])
    new[by_pair[starts_pair]] = 1.0
    by_time = np.lexsort((t, k))
    seen = np.cumsum(new[by_time])
    starts_key = np.ones(rows.shape[0], dtype=bool)
    starts_key[1:] = k[by_time][1:] != k[by_time][:-1]
    before = np.maximum.accumulate(np.where(starts_key, seen - new[by_time], 0.0))
    out[rows[by_time]] = seen - before
    return out


def component_accounts(keys: list[np.ndarray], customer: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Accounts in each row's account's component of the graph of the rows before the
    row's month (accounts joined through any shared key of ``keys``); 1 when the account
    has no earlier row."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    out = np.ones(customer.shape[0])
    month = (ts // MICROS_PER_DAY).astype("datetime64[D]").astype("datetime64[M]")
    accounts, account = np.unique(customer, return_inverse=True)
    n_accounts = accounts.shape[0]
    node_of_key = []
    offset = n_accounts
    for key in keys:
        valid = key != NO_KEY
        codes = np.full(key.shape[0], -1, dtype=np.int64)
        values, dense = np.unique(key[valid], return_inverse=True)
        codes[valid] = offset + dense
        offset += values.shape[0]
        node_of_key.append(codes)
    for first in np.unique(month)[1:]:
        earlier = month < first
        left = np.concatenate([account[earlier & (codes >= 0)] for codes in node_of_key])
        right = np.concatenate([codes[earlier & (codes >= 0)] for codes in node_of_key])
        graph = coo_matrix((np.ones(left.shape[0]), (left, right)), shape=(offset, offset))
        _, label = connected_components(graph, directed=False)
        size = np.bincount(label[:n_accounts], minlength=offset)
        seen = np.zeros(n_accounts, dtype=bool)
        seen[account[earlier]] = True
        now = np.flatnonzero(month == first)
        out[now] = np.where(seen[account[now]], size[label[account[now]]], 1.0)
    return out


def without_graph(features: pa.Table) -> pa.Table:
    """The feature table without the identity graph's features."""
    return features.drop_columns([n for n in GRAPH_FEATURES if n in features.column_names])


def feature_names(table: pa.Table) -> list[str]:
    """The model inputs of a feature table: every column but the keys and labels."""
    return [c for c in table.column_names if c not in NOT_FEATURES]


NOT_FEATURES = frozenset(
    {
        "transaction_id",
        "customer_id",
        "ts",
        "is_fraud",
        "fraud_type",
        "fraud_reported",
        "fraud_reported_at",
    }
)


def _one_hot(prefix: str, labels: np.ndarray) -> dict[str, np.ndarray]:
    values = sorted({str(v) for v in labels if v != ""})
    return {f"{prefix}_{v}": (labels == v).astype(np.float64) for v in values}


def _position_in_run(starts: np.ndarray) -> np.ndarray:
    """Each row's position in its run, runs beginning where ``starts`` is true (row 0
    always begins one): how many earlier rows share its run."""
    index = np.arange(starts.shape[0])
    return np.asarray(index - np.maximum.accumulate(np.where(starts, index, 0)))


def _customer_lookup(customers: pa.Table, customer: np.ndarray) -> dict[str, np.ndarray]:
    ids = _numpy(customers, "customer_id", np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    position = np.minimum(np.searchsorted(sorted_ids, customer), max(ids.shape[0] - 1, 0))
    if ids.shape[0]:
        found = np.asarray(sorted_ids[position] == customer)
        row = order[position]
    else:
        found = np.zeros(customer.shape[0], dtype=bool)
        row = np.zeros(customer.shape[0], dtype=np.int64)

    def pick(values: np.ndarray, missing: object) -> np.ndarray:
        taken = values[row] if values.shape[0] else np.full(customer.shape[0], missing)
        return np.asarray(np.where(found, taken, np.asarray(missing, dtype=taken.dtype)))

    signup = _int64(customers, "signup_date") if customers.num_rows else np.zeros(0, np.int64)
    return {
        "age": pick(_numpy(customers, "age"), np.nan).astype(np.float64),
        "income": pick(_numpy(customers, "income"), 1.0).astype(np.float64),
        "loyal": pick(
            np.asarray(pc.fill_null(customers.column("is_loyalty_member"), False)), False
        ).astype(np.float64),
        "signup_day": pick(signup.astype(np.int64), 0).astype(np.int64),
        "region": pick(_labels(customers, "region"), ""),
        "segment": pick(_labels(customers, "segment"), ""),
    }


def _store_regions(stores: pa.Table, txn: pa.Table) -> np.ndarray:
    """Region of each transaction's store ("" online or when the store is unknown)."""
    store = np.asarray(
        pc.fill_null(txn.column("store_id").cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
    )
    ids = _numpy(stores, "store_id", np.int64)
    size = int(max(ids.max(initial=0), store.max(initial=0))) + 2
    region_by_id = np.full(size, "", dtype=object)  # the last cell answers -1 (no store)
    region_by_id[ids] = _labels(stores, "region")
    return np.asarray(region_by_id[np.where(store >= 0, store, size - 1)])
