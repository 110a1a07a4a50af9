"""The leakage audit: does any artefact of how the data was written (bits of an id, a
timestamp's sub-second part, the cents of an amount) predict the fraud label?

Every transform of ``synthpipe.validate.leakage_transforms.TRANSFORMS`` is scored the way
a model would exploit it: target encoding, fitted on the calendar's first EARLY_SHARE,
scored on the rest. A category c seen in the earlier part with n_c transactions of which
k_c are fraud is encoded

    enc(c) = (k_c + m p) / (n_c + m),   p the earlier part's fraud share, m = SMOOTHING

(a category unseen there gets p), and the transform's score is the ROC AUC of enc on the
later part's transactions against ``is_fraud``. A transform that carries no information
scores 0.5 up to sampling noise: the Hanley-McNeil standard error of the AUC at the later
part's legitimate rows and effective fraud rows (fraud comes in events: Kish's effective
count of its rows clustered by account and day). An artefact fails at a gated value above
AUC_GATE: the AUC itself from POINT_ESTIMATE_POSITIVES effective later fraud rows, the AUC
less NOISE_SES standard errors below that. A behavioural signal is only listed.

Two refinements keep behaviour from being read as an artefact: a transform of an account
or store id is fitted on one half of the accounts (stores) and scored on the other half,
so an account's own repeated fraud does not count as a leak of its id's bits; and the
cents of money are judged within the behaviour they follow from (a transform's
``within`` strata: p becomes the stratum's smoothed mean, and fraud rows are compared with
legitimate rows of their stratum only).

The audit reads a bounded sample, like the learnability section: the transactions (and
their line items) of the first customer blocks that hold MAX_TRANSACTIONS together, every
row of them, or a seeded share of the rows when one block holds more.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synthpipe.clock import MICROS_PER_DAY, UNIX_EPOCH_DATE
from synthpipe.model.ids import mix64
from synthpipe.model.money import decimal_to_cents
from synthpipe.model.schema import LINE_ITEMS_SCHEMA
from synthpipe.seeds import Entity, Stream, generator, integer_seed64
from synthpipe.spec.models import Spec
from synthpipe.storage import Location
from synthpipe.validate import statistics as st
from synthpipe.validate.leakage_transforms import (
    ARTEFACT,
    IDENTITY_KEYS,
    TRANSFORMS,
    Sample,
    Transform,
)
from synthpipe.validate.listing import BlockStop, Listing, first_blocks
from synthpipe.validate.reading import read_file
from synthpipe.validate.statistics import Stats

MAX_TRANSACTIONS = 300_000  # the sample's bound: the audit's cost does not grow with the data
EARLY_SHARE = 0.7  # target encoding is fitted on the calendar's first 70%, scored on the rest
SMOOTHING = 20.0  # m: a category's mean is shrunk towards the prior as if m more rows had it
AUC_GATE = 0.6  # an artefact scoring above this fails the audit
POINT_ESTIMATE_POSITIVES = 200  # from this many effective later fraud rows: the AUC is gated
NOISE_SES = 2.0  # below that, AUC - NOISE_SES x its standard error is gated
MIN_POSITIVES = 5  # fewer fraud rows than this in either part: the transform is not scored
# An identity key's fraud rows come on a few rings' devices, cards and drop addresses, so a
# code's class matches a fit entity's by chance far more often than the Hanley-McNeil
# error says at a few entities: its standard error is at least van Dantzig's bound on an
# AUC's, sqrt(1 / (4 n)) at n effective fraud entities
VAN_DANTZIG_VARIANCE = 0.25
DENSE_LIMIT = 1 << 21  # codes below this are factorised by a table, larger ones by sorting
CLUSTER_DAY_BITS = 17  # an event's key: account << CLUSTER_DAY_BITS | day
TRANSACTION_COLUMNS = [
    "transaction_id", "ts", "customer_id", "store_id", "channel", "transaction_type",
    "payment_method", "items", "amount", "ship_region", "is_fraud",
    "device_id", "ip_id", "card_id", "ship_address_id",
]  # fmt: skip
LINE_COLUMNS = ["transaction_id", "line_number", "quantity", "unit_price", "discount"]
ENTITY_SPLIT = 1  # block key of the entity split's hash (the row share draws key 0)


@dataclass(frozen=True)
class Score:
    """A transform's target-encoding ROC AUC on the later part, its standard error, and
    the later part's fraud and legitimate rows it compared (fraud rows also as the
    effective number of independent events)."""

    auc: float
    se: float
    positives: int
    negatives: int
    effective_positives: float

    def gated(self) -> float:
        """The value gated against AUC_GATE: the AUC itself with POINT_ESTIMATE_POSITIVES
        effective later fraud rows or more, else the AUC less NOISE_SES standard errors."""
        if self.effective_positives >= POINT_ESTIMATE_POSITIVES:
            return self.auc
        return self.auc - NOISE_SES * self.se


def hanley_mcneil_se(auc: float, positives: float, negatives: float) -> float:
    """Standard error of an AUC estimated from ``positives`` and ``negatives`` (Hanley and
    McNeil 1982)."""
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    variance = (
        auc * (1.0 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)
    ) / max(positives * negatives, 1.0)
    return math.sqrt(max(variance, 0.0))


def factorize(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense indices 0..k-1 of non-negative integer ``values`` (in value order), and k:
    by a table when the values are small, else by sorting."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return values, 0
    top = int(values.max())
    if top < DENSE_LIMIT:
        present = np.zeros(top + 1, dtype=bool)
        present[values] = True
        rank = np.cumsum(present) - 1
        return np.asarray(rank[values], dtype=np.int64), int(rank[-1]) + 1
    unique, inverse = np.unique(values, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64), int(unique.shape[0])


def grouped_auc(
    score: np.ndarray, positives: np.ndarray, negatives: np.ndarray, stratum: np.ndarray
) -> tuple[float, int, int]:
    """ROC AUC of rows grouped by category (each category's ``score`` and its positive and
    negative rows), comparing positives with negatives of the same ``stratum`` only (ties
    count a half; one stratum: the usual AUC, ``roc_auc_score``'s); with the positives and
    negatives compared. NaN when no pair is compared."""
    order = np.lexsort((score, stratum))
    strata, scores = stratum[order], score[order]
    starts = np.ones(order.shape[0], dtype=bool)
    starts[1:] = (strata[1:] != strata[:-1]) | (scores[1:] != scores[:-1])
    group = np.cumsum(starts) - 1
    pos = np.bincount(group, weights=positives[order])
    neg = np.bincount(group, weights=negatives[order])
    group_stratum = strata[starts]
    first = np.ones(group_stratum.shape[0], dtype=bool)
    first[1:] = group_stratum[1:] != group_stratum[:-1]
    below = np.cumsum(neg) - neg  # negatives of lower groups, all strata so far
    start = np.maximum.accumulate(np.where(first, np.arange(first.shape[0]), 0))
    below -= below[start]  # of lower groups in the same stratum
    by_stratum = np.cumsum(first) - 1
    pos_s = np.bincount(by_stratum, weights=pos)
    neg_s = np.bincount(by_stratum, weights=neg)
    pairs = float((pos_s * neg_s).sum())
    wins = float((pos * (below + 0.5 * neg)).sum())
    compared_pos = int(pos_s[neg_s > 0].sum())
    compared_neg = int(neg_s[pos_s > 0].sum())
    return (wins / pairs if pairs else math.nan), compared_pos, compared_neg


def target_encoding_auc(
    codes: np.ndarray,
    labels: np.ndarray,
    fit: np.ndarray,
    scored: np.ndarray,
    strata: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    smoothing: float = SMOOTHING,
) -> Score | None:
    """ROC AUC on the ``scored`` rows of ``codes`` target-encoded on the ``fit`` rows (rows
    with a negative code or stratum are left out). With ``strata``, each (stratum, code) is
    encoded, shrunk towards its stratum's smoothed mean, and fraud rows are compared with
    legitimate ones of their stratum only. ``clusters`` (one key per event, e.g. account
    and day) give the effective fraud rows of the standard error. None when the fit or
    the scored rows hold fewer than MIN_POSITIVES fraud rows or no pair is compared."""
    codes = np.asarray(codes, dtype=np.int64)
    labels = np.asarray(labels, dtype=bool)
    strata = np.zeros_like(codes) if strata is None else np.asarray(strata, dtype=np.int64)
    defined = (codes >= 0) & (strata >= 0)
    fit, scored = np.asarray(fit) & defined, np.asarray(scored) & defined
    if int(labels[fit].sum()) < MIN_POSITIVES or int(labels[scored].sum()) < MIN_POSITIVES:
        return None
    stratum, n_strata = factorize(strata[defined])
    code, n_codes = factorize(codes[defined])
    joint, n_joint = factorize(stratum * n_codes + code)
    category = np.full(codes.shape, -1, dtype=np.int64)
    category[defined] = joint
    of_category = np.zeros(n_joint, dtype=np.int64)
    of_category[joint] = stratum
    rows = np.bincount(category[fit], minlength=n_joint).astype(np.float64)
    fraud = np.bincount(category[fit], weights=labels[fit], minlength=n_joint)
    prior = float(labels[fit].mean())
    stratum_rows = np.bincount(of_category, weights=rows, minlength=n_strata)
    stratum_fraud = np.bincount(of_category, weights=fraud, minlength=n_strata)
    stratum_prior = (stratum_fraud + smoothing * prior) / (stratum_rows + smoothing)
    encoded = (fraud + smoothing * stratum_prior[of_category]) / (rows + smoothing)
    hit, miss = scored & labels, scored & ~labels
    auc, positives, negatives = grouped_auc(
        encoded,
        np.bincount(category[hit], minlength=n_joint),
        np.bincount(category[miss], minlength=n_joint),
        of_category,
    )
    if positives < MIN_POSITIVES or negatives < 1:
        return None
    effective = positives * _clustering(clusters[hit]) if clusters is not None else positives
    se = hanley_mcneil_se(auc, effective, negatives)
    return Score(auc, se, positives, negatives, effective)


def _clustering(keys: np.ndarray) -> float:
    """Kish's effective share of rows that come in clusters of equal ``keys``:
    (sum n)^2 / sum n^2 over the clusters, divided by the rows."""
    _, sizes = np.unique(keys, return_counts=True)
    sizes = sizes.astype(np.float64)
    return float(sizes.sum() / (sizes * sizes).sum()) if sizes.size else 1.0


def chosen_files(listing: Listing) -> tuple[str, ...]:
    """The transactions and line-items files of the first customer blocks that together
    hold MAX_TRANSACTIONS transactions (at least one block), in pairs of a partition's
    transactions file and its line-items file ("" when it has none)."""
    chosen = first_blocks(listing, MAX_TRANSACTIONS, BlockStop.WITHIN_BOUND).blocks
    lines = {f.partition: f.path for f in listing.of_table("line_items")}
    pairs = sorted(
        (f.partition.key, f.path, lines.get(f.partition, ""))
        for f in listing.of_table("transactions")
        if f.partition.block in chosen
    )
    return tuple(path for _, transactions, items in pairs for path in (transactions, items))


def read_sample(spec: Spec, location: Location, paths: tuple[str, ...]) -> Sample:
    """The audited sample of ``paths`` (as ``chosen_files`` gives them): their
    transactions with their lines aggregated, a seeded share of them when they hold more
    than MAX_TRANSACTIONS."""
    transaction_paths, line_paths = paths[0::2], [p for p in paths[1::2] if p]
    parts = [
        read_file(location, p, TRANSACTION_COLUMNS, checksum=False).table for p in transaction_paths
    ]
    transactions = pa.concat_tables(parts, promote_options="permissive")
    lines = pa.concat_tables(
        [LINE_ITEMS_SCHEMA.empty_table().select(LINE_COLUMNS)]
        + [read_file(location, p, LINE_COLUMNS, checksum=False).table for p in line_paths],
        promote_options="permissive",
    )
    if transactions.num_rows > MAX_TRANSACTIONS:
        draw = generator(spec.seed, Entity.VALIDATION, Stream.LEAKAGE_SAMPLE).random(
            transactions.num_rows
        )
        transactions = transactions.filter(
            pa.array(draw < MAX_TRANSACTIONS / transactions.num_rows)
        )
    return sample_of(transactions, lines)


def _ints(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.int64())
    return np.asarray(column.fill_null(-1).to_numpy(), dtype=np.int64)


def _category_codes(table: pa.Table, name: str) -> np.ndarray:
    """Codes of a category column in order of its labels' first appearance (-1: null)."""
    encoded = pc.dictionary_encode(table.column(name).cast(pa.string())).combine_chunks()
    return np.asarray(encoded.indices.fill_null(-1).to_numpy(), dtype=np.int64)


def sample_of(transactions: pa.Table, lines: pa.Table) -> Sample:
    """The audit's columns of ``transactions``, with ``lines`` aggregated per
    transaction (lines of other transactions are ignored)."""
    ids = _ints(transactions, "transaction_id")
    order = np.argsort(ids, kind="stable")
    line_ids = _ints(lines, "transaction_id")
    position = np.minimum(np.searchsorted(ids, line_ids, sorter=order), max(ids.shape[0] - 1, 0))
    owner = order[position] if ids.shape[0] else position
    mine = ids[owner] == line_ids if ids.shape[0] else np.zeros(0, dtype=bool)
    owner = owner[mine]
    quantity = _ints(lines, "quantity")[mine]
    discount = decimal_to_cents(lines.column("discount"))[mine]
    price = decimal_to_cents(lines.column("unit_price"))[mine]
    first = _ints(lines, "line_number")[mine] == 1
    size = ids.shape[0]
    first_price = np.full(size, -1, dtype=np.int64)
    first_price[owner[first]] = price[first]
    return Sample(
        transaction_id=ids,
        micros=_ints(transactions, "ts"),
        customer_id=_ints(transactions, "customer_id"),
        store_id=_ints(transactions, "store_id"),
        channel=_category_codes(transactions, "channel"),
        transaction_type=_category_codes(transactions, "transaction_type"),
        payment_method=_category_codes(transactions, "payment_method"),
        items=_ints(transactions, "items"),
        cents=decimal_to_cents(transactions.column("amount")),
        ship_region=_category_codes(transactions, "ship_region"),
        lines=np.bincount(owner, minlength=size),
        unit_lines=np.bincount(owner, weights=np.abs(quantity) == 1, minlength=size).astype(
            np.int64
        ),
        discounted_lines=np.bincount(owner, weights=discount > 0, minlength=size).astype(np.int64),
        discount_cents=np.bincount(owner, weights=discount, minlength=size).astype(np.int64),
        first_price_cents=first_price,
        **{key: _ints(transactions, key) for key in IDENTITY_KEYS},
        is_fraud=np.asarray(
            transactions.column("is_fraud").fill_null(False).to_numpy(zero_copy_only=False),
            dtype=bool,
        ),
    )


def cut_day(spec: Spec) -> int:
    """Days since 1970 of the later part's first day."""
    start, end = spec.calendar.start, spec.calendar.end
    cut = start + dt.timedelta(days=int(((end - start).days + 1) * EARLY_SHARE))
    return (cut - UNIX_EPOCH_DATE).days


def entity_fold(ids: np.ndarray, seed: int) -> np.ndarray:
    """True for the half of the entities (accounts, stores) that a split transform is
    scored on, by a keyed hash of the id (the fit uses the other half)."""
    key = np.uint64(integer_seed64(seed, Entity.VALIDATION, Stream.LEAKAGE_SAMPLE, ENTITY_SPLIT))
    with np.errstate(over="ignore"):
        mixed = mix64(np.asarray(ids).astype(np.uint64) ^ key)
    return np.asarray((mixed & np.uint64(1)) == 1)


def audit(
    sample: Sample, cut: int, seed: int, transforms: tuple[Transform, ...] = TRANSFORMS
) -> dict[str, Any]:
    """Every transform's score on ``sample``, split at day ``cut``: the report's
    ``leakage`` section."""
    day = sample.micros // MICROS_PER_DAY
    early = day < cut
    events = (sample.customer_id << np.int64(CLUSTER_DAY_BITS)) | (
        day & ((1 << CLUSTER_DAY_BITS) - 1)
    )
    folds: dict[str, np.ndarray] = {}
    scored: list[dict[str, Any]] = []
    for transform in transforms:
        fit, later = early, ~early
        if transform.split_by:
            if transform.split_by not in folds:
                folds[transform.split_by] = entity_fold(getattr(sample, transform.split_by), seed)
            fold = folds[transform.split_by]
            fit, later = early & ~fold, ~early & fold
        within = None if transform.within is None else transform.within(sample)
        clusters = getattr(sample, transform.cluster_by) if transform.cluster_by else events
        score = target_encoding_auc(
            transform.codes(sample), sample.is_fraud, fit, later, within, clusters
        )
        if score is not None and transform.cluster_by:
            bound = math.sqrt(VAN_DANTZIG_VARIANCE / max(score.effective_positives, 1.0))
            score = replace(score, se=max(score.se, bound))
        scored.append(_record(transform, score))
    return {
        "sample": {
            "transactions": sample.rows,
            "fraud": int(sample.is_fraud.sum()),
            "earlier_until": (UNIX_EPOCH_DATE + dt.timedelta(days=cut)).isoformat(),
            "earlier_fraud": int(sample.is_fraud[early].sum()),
            "later_fraud": int(sample.is_fraud[~early].sum()),
        },
        "smoothing": SMOOTHING,
        "gate": AUC_GATE,
        "point_estimate_positives": POINT_ESTIMATE_POSITIVES,
        "transforms": scored,
    }


def _record(transform: Transform, score: Score | None) -> dict[str, Any]:
    """A transform's line of the section (``passed`` for artefacts only)."""
    record: dict[str, Any] = {
        "name": transform.name,
        "column": transform.column,
        "kind": transform.kind,
        "what": transform.what,
        "within_strata": transform.within is not None,
        "entity_split": transform.split_by or None,
    }
    if score is None:
        record.update(
            roc_auc=None,
            se=None,
            gated_value=None,
            later_fraud=None,
            later_legitimate=None,
            effective_fraud=None,
        )
    else:
        record.update(
            roc_auc=round(score.auc, 4),
            se=round(score.se, 4),
            gated_value=round(score.gated(), 4),
            later_fraud=score.positives,
            later_legitimate=score.negatives,
            effective_fraud=round(score.effective_positives, 1),
        )
    if transform.kind == ARTEFACT:
        record["passed"] = score is None or round(score.gated(), 4) <= AUC_GATE
    return record


def leakage_audit(spec: Spec, location: Location, paths: tuple[str, ...]) -> dict[str, Any]:
    """The leakage section of the dataset's files ``paths`` (see ``chosen_files``)."""
    return audit(read_sample(spec, location, paths), cut_day(spec), spec.seed)


def leakage_stats(spec: Spec, location: Location, paths: tuple[str, ...]) -> Stats:
    """The validation unit's statistics: the audit, or why it could not be computed (a
    file it reads is broken: its own unit reports the file)."""
    try:
        section = leakage_audit(spec, location, paths)
    except Exception as exc:  # the files' integrity checks say what is wrong with them
        section = {"note": f"not computed: {type(exc).__name__}: {exc}"[:300], "transforms": []}
    return {st.LEAKAGE_AUDIT: section}
