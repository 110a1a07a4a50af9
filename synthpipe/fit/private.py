"""``synthpipe fit --epsilon``: the estimates that rest on counts, released with
customer-level differential privacy through OpenDP.

Each customer contributes at most ROWS_PER_CUSTOMER transactions (its first ones by day);
the released aggregates are integer counts (and one clipped sum of items), each a
histogram whose L1 distance between neighbouring samples (one customer added or removed)
is at most ROWS_PER_CUSTOMER, times ITEMS_CAP for the items sum. OpenDP adds discrete
Laplace noise of scale sensitivity / epsilon_q to each, and its privacy map gives the
epsilon each spends; by sequential composition the fit spends their sum, the --epsilon
asked for. The noise comes from OpenDP's own secure generator, not from the spec's seed:
a private fit is not repeatable, on purpose. Estimates that need each customer's history
(the Pareto/NBD lifecycle) or unbounded amounts (the price scale) are not released.

OpenDP was chosen over diffprivlib: diffprivlib 0.6.6 does not import with scikit-learn
1.9 (it reaches into sklearn's private tree module), while OpenDP's discrete Laplace is a
vetted, maintained mechanism with an explicit privacy map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synthpipe.clock import DAYS_PER_WEEK, HOURS_PER_DAY, weekday_of
from synthpipe.errors import InputError
from synthpipe.fit.baskets import basket_from, online_share_from
from synthpipe.fit.sample import Sample
from synthpipe.fit.shared import Values, spec_profile
from synthpipe.spec.base import field_bounds
from synthpipe.spec.models import Fraud, Spec
from synthpipe.vocabulary import CHANNELS, ONLINE

ROWS_PER_CUSTOMER = 64  # a customer's contribution bound
ITEMS_CAP = 50  # items per transaction counted, at most
FRAUD_RATE = field_bounds(Fraud, "rate")  # the spec's range of fraud.rate
NOISE_MARGIN = 10.0  # a noisy denominator under this many noise scales releases no ratio
RELEASES = 5  # weekday counts, channel x hour, channel x payment, fraud, items: equal shares
PRIVATE_FIELDS = (
    "sales.weekday",
    "sales.channels.in_store.hours",
    "sales.channels.online.hours",
    "sales.channels.online_share",
    "sales.channels.in_store.payment",
    "sales.channels.online.payment",
    "fraud.rate",
    "sales.basket_mean_items",
)


@dataclass(frozen=True)
class Release:
    """One released aggregate: its name, L1 sensitivity and the epsilon it spent."""

    name: str
    sensitivity: int
    epsilon: float


def bounded(sample: Sample) -> np.ndarray:
    """The rows kept: each customer's first ROWS_PER_CUSTOMER transactions by day."""
    order = np.lexsort((np.arange(sample.rows), sample.day, sample.customer))
    customer = sample.customer[order]
    starts = np.flatnonzero(np.concatenate([[True], customer[1:] != customer[:-1]]))
    rank = np.arange(order.shape[0]) - np.repeat(starts, np.diff(np.append(starts, order.shape[0])))
    return np.sort(order[rank < ROWS_PER_CUSTOMER])


def noisy(counts: np.ndarray, sensitivity: int, epsilon: float) -> tuple[np.ndarray, float]:
    """Counts with discrete Laplace noise of scale sensitivity / epsilon (OpenDP), and the
    epsilon OpenDP's privacy map says the release spends."""
    try:
        import opendp.prelude as dp
    except ImportError:
        raise InputError("--epsilon needs OpenDP: pip install 'synthpipe[privacy]'") from None
    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = space >> dp.m.then_laplace(scale=sensitivity / epsilon)
    released = measurement([int(v) for v in np.asarray(counts, dtype=np.int64).ravel()])
    spent = float(measurement.map(sensitivity))
    return np.asarray(released, dtype=np.float64).reshape(np.shape(counts)), spent


def private_estimates(
    sample: Sample, spec: Spec, epsilon: float, min_count: int
) -> tuple[Values, list[Release]]:
    """The count-based estimates under epsilon-DP, and what each release spent."""
    rows = bounded(sample)
    share = epsilon / RELEASES
    legit = np.ones(rows.shape[0], dtype=bool) if sample.fraud is None else ~sample.fraud[rows]
    sale = legit & (sample.amount[rows] >= 0)
    values: Values = {}
    releases: list[Release] = []

    def release(name: str, counts: np.ndarray, sensitivity: int) -> np.ndarray:
        result, spent = noisy(counts, sensitivity, share)
        releases.append(Release(name, sensitivity, spent))
        return np.asarray(np.maximum(result, 0.0))

    weekday = weekday_of(sample.day[rows])
    by_weekday = np.bincount(weekday[sale], minlength=DAYS_PER_WEEK)
    calendar = np.arange(int(sample.day.min()), int(sample.day.max()) + 1)
    occurrences = np.bincount(weekday_of(calendar), minlength=DAYS_PER_WEEK)
    noisy_weekdays = release("purchases per weekday", by_weekday, ROWS_PER_CUSTOMER)
    values["sales.weekday"] = spec_profile(noisy_weekdays / np.maximum(occurrences, 1))
    channel = (
        np.zeros(rows.shape[0], dtype=np.int64)
        if sample.channel is None
        else np.maximum(sample.channel[rows], 0)
    )
    hour = np.zeros(rows.shape[0], dtype=np.int64) if sample.hour is None else sample.hour[rows]
    by_hour = np.bincount(
        (channel * HOURS_PER_DAY + hour)[sale], minlength=len(CHANNELS) * HOURS_PER_DAY
    ).reshape(len(CHANNELS), HOURS_PER_DAY)
    hours = release("purchases per channel and hour", by_hour, ROWS_PER_CUSTOMER)
    per_channel = hours.sum(axis=1)
    for c, name in enumerate(CHANNELS):
        if sample.hour is not None and per_channel[c] >= min_count:
            values[f"sales.channels.{name}.hours"] = spec_profile(hours[c])
    if sample.channel is not None and per_channel.sum() > 0:
        values |= online_share_from(float(per_channel[ONLINE] / per_channel.sum()), spec)
    if sample.payment is not None:
        values |= _payments(sample, spec, rows, legit, channel, release, min_count)
    if sample.fraud is not None:
        fraud = np.bincount(sample.fraud[rows].astype(np.int64), minlength=2)
        counted = release("transactions not fraud / fraud", fraud, ROWS_PER_CUSTOMER)
        rate = float(counted[1] / max(counted.sum(), 1.0))
        values["fraud.rate"] = round(FRAUD_RATE.clip(rate), 6)
    if sample.items is not None:
        items = np.minimum(sample.items[rows], ITEMS_CAP)
        totals = np.asarray([int(items[sale].sum()), int(np.count_nonzero(sale))])
        sensitivity = ROWS_PER_CUSTOMER * (ITEMS_CAP + 1)
        summed = release("items and sales", totals, sensitivity)
        # a count that the noise could have made: no mean is released from it
        if summed[1] >= NOISE_MARGIN * sensitivity / share:
            mean_items = min(float(summed[0] / summed[1]), float(ITEMS_CAP))
            values |= basket_from(mean_items, spec)
    return values, releases


def _payments(
    sample: Sample,
    spec: Spec,
    rows: np.ndarray,
    legit: np.ndarray,
    channel: np.ndarray,
    release: Callable[[str, np.ndarray, int], np.ndarray],
    min_count: int,
) -> Values:
    """Payment mixes per channel from one noisy (channel, our method) histogram; labels
    that are not ours are never counted, and a method below min_count keeps out."""
    assert sample.payment is not None
    methods = sorted({m for c in range(len(CHANNELS)) for m in spec.sales.channels.of(c).payment})
    code = np.full(len(sample.payment_labels), -1, dtype=np.int64)
    for i, label in enumerate(sample.payment_labels):
        if label in methods:
            code[i] = methods.index(label)
    method = code[sample.payment[rows]]
    known = legit & (method >= 0)
    counts = np.bincount(
        (channel * len(methods) + method)[known], minlength=len(CHANNELS) * len(methods)
    ).reshape(len(CHANNELS), len(methods))
    released = release("payments per channel and method", counts, ROWS_PER_CUSTOMER)
    values: Values = {}
    for c, name in enumerate(CHANNELS):
        ours = list(spec.sales.channels.of(c).payment)
        mix = {m: float(released[c, methods.index(m)]) for m in ours}
        mix = {m: v for m, v in mix.items() if v >= min_count}
        total = sum(mix.values())
        if total > 0:
            values[f"sales.channels.{name}.payment"] = {
                m: round(v / total, 5) for m, v in mix.items()
            }
    return values
