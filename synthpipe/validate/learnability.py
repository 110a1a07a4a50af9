"""How learnable the fraud is: three standard learners trained on a bounded sample of
the dataset with a time split, trained on the true labels and on the labels known at the
split, scored on the true ones.

Reads a sample of whole customers (every transaction of every customer whose id falls on
the sampling stride, in the first customer blocks: only their files are read), builds
``synthpipe.features``'s table, trains on the first TRAIN_SHARE of the calendar and tests
on the rest (scikit-learn's learners: a runtime dependency). Its cost is bounded by
MAX_TRANSACTIONS, whatever the dataset's size.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa

from synthpipe.clock import MICROS_PER_DAY, UNIX_EPOCH_DATE
from synthpipe.features import GRAPH_KEYS, feature_names, transaction_features, without_graph
from synthpipe.seeds import Entity, Stream, integer_seed
from synthpipe.spec.models import Spec
from synthpipe.storage import Location
from synthpipe.validate.listing import BlockStop, Listing, first_blocks
from synthpipe.validate.reading import read_file

MAX_TRANSACTIONS = 200_000  # the sample's size bound: its cost is part of validation's
TRAIN_SHARE = 0.75  # the calendar's first three quarters train, the last quarter tests
MIN_POSITIVES = 5  # fewer fraud rows than this in a split: that score is not reported
# gradient boosting as a practitioner would set it for rare positives: slower learning,
# more rounds, larger leaves, some shrinkage; scikit-learn's defaults stop early on a
# validation tenth that holds a few dozen positives and score below logistic regression
BOOSTING_LEARNING_RATE = 0.1
BOOSTING_ROUNDS = 200
BOOSTING_MIN_LEAF = 40
BOOSTING_L2 = 1.0
LEARNERS = ("naive_bayes", "logistic_regression", "gradient_boosting")
TRANSACTION_COLUMNS = [
    "transaction_id", "ts", "customer_id", "store_id", "channel", "transaction_type",
    "payment_method", "items", "amount", "ship_region", "is_fraud", "fraud_type",
    "fraud_reported", "fraud_reported_at", *GRAPH_KEYS,
]  # fmt: skip
CUSTOMER_COLUMNS = [
    "customer_id",
    "age",
    "income",
    "segment",
    "region",
    "signup_date",
    "is_loyalty_member",
]


def sample_features(location: Location, listing: Listing) -> tuple[pa.Table, int]:
    """The feature table of a sample of whole customers, and the sampling stride: 1 in
    ``stride`` customers of the first customer blocks that together hold
    MAX_TRANSACTIONS transactions, so that only those blocks' files are read, whatever
    the dataset's size."""
    sampled = first_blocks(listing, MAX_TRANSACTIONS, BlockStop.REACH_BOUND)
    chosen = sampled.blocks
    stride = max(1, math.ceil(sampled.transactions / MAX_TRANSACTIONS))
    stores = read_file(location, listing.of_table("stores")[0].path, ["store_id", "region"])
    customers, transactions = [], []
    for listed in listing.of_table("customers"):
        if listed.partition.block not in chosen:
            continue
        table = read_file(location, listed.path, CUSTOMER_COLUMNS, checksum=False).table
        customers.append(_every(table, stride))
    for listed in listing.of_table("transactions"):
        if listed.partition.block not in chosen:
            continue
        table = read_file(location, listed.path, TRANSACTION_COLUMNS, checksum=False).table
        transactions.append(_every(table, stride))
    features = transaction_features(
        pa.concat_tables(transactions, promote_options="permissive"),
        pa.concat_tables(customers),
        stores.table,
        graph=True,
    )
    return features, stride


def _every(table: pa.Table, stride: int) -> pa.Table:
    """The rows of customers whose id is a multiple of ``stride``."""
    if stride == 1:
        return table
    ids = np.asarray(table.column("customer_id").to_numpy(zero_copy_only=False))
    return table.filter(pa.array(ids % stride == 0))


def learnability(spec: Spec, location: Location, listing: Listing) -> dict[str, Any]:
    """The report's learnability section."""
    features, stride = sample_features(location, listing)
    return score_learners(features, spec, stride)


def _matrix(features: pa.Table, names: list[str]) -> np.ndarray:
    """The model inputs ``names`` of the feature table, NaN as 0."""
    return np.column_stack([np.nan_to_num(features.column(n).to_numpy(), nan=0.0) for n in names])


def score_learners(features: pa.Table, spec: Spec, stride: int = 1) -> dict[str, Any]:
    """Train each learner on the calendar's first TRAIN_SHARE and score the rest: ROC AUC
    and average precision, overall and per fraud type (that type against legitimate).
    The per-transaction features score on the true and the observed labels; when the
    table has the identity graph's features (``synthpipe.features.GRAPH_FEATURES``), each
    learner is trained again on the true labels with them (``with_graph``): the fraud
    that only what accounts share reveals (rings) shows in the difference."""
    graph = features
    features = without_graph(features)
    names = feature_names(features)
    x = _matrix(features, names)
    y = np.asarray(features.column("is_fraud").to_numpy(zero_copy_only=False), dtype=bool)
    kind = np.asarray(
        features.column("fraud_type")
        .cast(pa.string())
        .fill_null("")
        .to_numpy(zero_copy_only=False),
        dtype=object,
    )
    day = np.asarray(features.column("ts").cast(pa.int64()).to_numpy()) // MICROS_PER_DAY
    cut = _cut_day(spec)
    train, test = day < cut, day >= cut
    section: dict[str, Any] = {
        "available": True,
        "sample": {
            "customers_stride": stride,
            "transactions": int(y.shape[0]),
            "fraud": int(y.sum()),
            "train_until": (UNIX_EPOCH_DATE + dt.timedelta(days=int(cut))).isoformat(),
            "features": names,
        },
        "prevalence_test": float(y[test].mean()) if test.any() else None,
    }
    if y[train].sum() < MIN_POSITIVES or y[test].sum() < MIN_POSITIVES:
        section["note"] = "too few fraud transactions in the sample's train or test period"
        return section
    seed = integer_seed(spec.seed, Entity.LEARNING, Stream.MODEL)
    section["true_labels"] = _fit_and_score(x, y, y, kind, train, test, seed)
    observed = _observed_by(features, cut)
    if observed is not None and observed[train].sum() >= MIN_POSITIVES:
        # trained on what was reported by the end of the training period, scored on truth
        section["observed_labels"] = _fit_and_score(x, observed, y, kind, train, test, seed)
    else:
        section["observed_labels"] = None
    graph_names = feature_names(graph)
    if graph_names != names:
        section["with_graph"] = _fit_and_score(
            _matrix(graph, graph_names), y, y, kind, train, test, seed
        )
        section["sample"]["graph_features"] = [n for n in graph_names if n not in names]
    return section


def _observed_by(features: pa.Table, cut: int) -> np.ndarray | None:
    """The labels known on day ``cut``: reported, with the report before that day."""
    if "fraud_reported_at" not in features.column_names:
        return None
    at = features.column("fraud_reported_at").cast(pa.int64()).fill_null(-1).to_numpy()
    known = np.asarray(at, dtype=np.int64)
    return np.asarray((known >= 0) & (known // MICROS_PER_DAY < cut))


def _fit_and_score(
    x: np.ndarray,
    train_labels: np.ndarray,
    truth: np.ndarray,
    kind: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
) -> dict[str, Any]:
    """Each learner fitted on ``train_labels`` of the train rows, scored on ``truth`` of
    the test rows, overall and per fraud type."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = truth
    scores: dict[str, Any] = {}
    for learner in LEARNERS:
        model = _model(learner, seed)
        model.fit(x[train], train_labels[train])
        p = model.predict_proba(x[test])[:, 1]
        by_type = {}
        for name in sorted({str(k) for k in kind[test] if k}):
            subset = ~y[test] | (kind[test] == name)
            if (kind[test][subset] == name).sum() >= MIN_POSITIVES:
                by_type[name] = _scores(
                    y[test][subset], p[subset], roc_auc_score, average_precision_score
                )
        scores[learner] = {
            **_scores(y[test], p, roc_auc_score, average_precision_score),
            "by_type": by_type,
        }
    return scores


def _scores(y: np.ndarray, p: np.ndarray, auc: Any, ap: Any) -> dict[str, float]:
    return {"roc_auc": round(float(auc(y, p)), 4), "average_precision": round(float(ap(y, p)), 4)}


def _cut_day(spec: Spec) -> int:
    """Days since 1970 of the first test day."""
    start, end = spec.calendar.start, spec.calendar.end
    cut = start + dt.timedelta(days=int((end - start).days * TRAIN_SHARE))
    return (cut - UNIX_EPOCH_DATE).days


def _model(learner: str, seed: int) -> Any:
    """A fresh scikit-learn estimator."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if learner == "naive_bayes":
        return GaussianNB()
    if learner == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2_000))
    return HistGradientBoostingClassifier(
        learning_rate=BOOSTING_LEARNING_RATE,
        max_iter=BOOSTING_ROUNDS,
        early_stopping=False,  # a held-out tenth of a few hundred positives stops it early
        min_samples_leaf=BOOSTING_MIN_LEAF,
        l2_regularization=BOOSTING_L2,
        random_state=seed % 2**31,
    )
