"""How much of the volume laws' spread the customers make (docs/fidelity.md).

A day's legitimate sales are Poisson given each customer's intensity A x rho_c(d) on the
days it buys, A ~ Gamma(k, 1/k) its latent activity and its buying days set by its latent
lifetime (dropout, returns). Those latent draws are the customer's for the whole
calendar: one long-lived, very active customer lifts every month after its signup
together, and one that drops out early lowers them all. Over a year of a large customer
base this adds little to the Poisson spread; over decades of a few hundred customers (the
trend compounding the survivors' rates) it is most of it, and it is correlated from month
to month. The gates of the volume, the month and day profiles and the holiday lifts take
it from ``month_covariance``: the covariance, over those latent draws, of each calendar
month's expected first sales, for the customers on disk.

It is simulated like ``synthpipe.validate.lifecycles``: each followed customer (thinned
to at most SPREAD_HISTORIES histories in all) is replayed SPREAD_REPLICATES times from its
visible rates and signup day with the generator's own lifecycle draws and a fresh
activity, from a stream of the validation entity; each customer's covariance over its
replicates is summed. Its total, the variance of the whole calendar's expected first
sales, is known exactly (``customers.class_extra_variance``, summed over every customer:
sum of m^2 ((1 + 1/k) E[T^2] / E[T]^2 - 1)), so the simulation gives the covariance's
shape over the months and that sum its scale.

A profile's gate (``profile_threshold``) then treats the cells' share deviations as
Gaussian with the Poisson part (compound: a first sale brings a same-day repeat with
probability r, so a cell's count has variance (1 + 3r) / (1 + r) x its mean) plus the
customers' part, correlated across months, and sits GATE_SIGMAS standard deviations of
the TVD above its mean, both exact for Gaussian deviations of that covariance.
"""

from __future__ import annotations

import math

import numpy as np

from synthpipe.clock import UNIX_EPOCH
from synthpipe.model.lifecycle import buying_spells, draw_returns, lifetimes
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.validate import statistics as st
from synthpipe.validate.context import ValidationContext
from synthpipe.validate.gates import GATE_SIGMAS, normalise
from synthpipe.validate.merge import Stats

SPREAD_REPLICATES = 8  # simulated histories per followed customer
SPREAD_HISTORIES = 16_000  # simulated histories at most (customers thinned to fit)
SPREAD_CELLS = 4_000_000  # (spell, month) cells evaluated at once
SPREAD_KEY = 1  # the simulation's key under Stream.LIFECYCLE_SIMULATION (0: lifecycles')


def followed_rates(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """The followed customers with known rates who signed up by calendar.end: rows of (id,
    signup day since 1970, expected first sales a day in store, online), sorted by id."""
    people = [p for p in stats.get(st.CUSTOMERS_SAMPLE, []) if p.shape[0]]
    if not people:
        return np.zeros((0, 4))
    customers = np.concatenate(people)
    end = int((ctx.dates[-1] - UNIX_EPOCH).astype(np.int64))
    customers = customers[np.isfinite(customers).all(axis=1) & (customers[:, 1] <= end)]
    return np.asarray(customers[np.argsort(customers[:, 0], kind="stable")])


def month_bounds(ctx: ValidationContext) -> tuple[np.ndarray, np.ndarray]:
    """Each calendar month's first day and first day after it, as calendar indices."""
    months = len(ctx.months)
    first = np.searchsorted(ctx.month_of_day, np.arange(months), side="left")
    return first, np.append(first[1:], ctx.days)


def simulated_months(
    ctx: ValidationContext, customers: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(customers, months): one history's expected first sales in each calendar month for
    each row of ``customers`` (id, signup day, rate in store, rate online): A x the sum of
    its rates x the day factors over the month's days it buys in."""
    spec = ctx.spec
    signup = UNIX_EPOCH + customers[:, 1].astype(np.int64).astype("timedelta64[D]")
    rate, first_life, churn = lifetimes(spec, signup, rng)
    returns = draw_returns(spec, signup, first_life, rate, rng)
    k = spec.customers.activity_shape
    activity = np.asarray(rng.gamma(k, 1.0 / k, customers.shape[0]))
    owner, first, last = buying_spells(signup, churn, returns)
    days = ctx.days
    start = np.clip((first - ctx.dates[0]).astype(np.int64), 0, days)
    end = np.clip((last - ctx.dates[0]).astype(np.int64), 0, days)
    inside = end > start
    owner, start, end = owner[inside], start[inside], end[inside]
    running = np.vstack([np.zeros((1, 2)), np.cumsum(ctx.daily_factors, axis=0)])
    month_first, month_end = month_bounds(ctx)
    months = month_first.shape[0]
    out = np.zeros((customers.shape[0], months))
    step = max(1, SPREAD_CELLS // max(months, 1))
    for chunk in range(0, owner.shape[0], step):
        who = owner[chunk : chunk + step]
        low = np.clip(start[chunk : chunk + step, None], month_first, month_end)
        high = np.clip(end[chunk : chunk + step, None], month_first, month_end)
        rates = customers[who, 2:4]
        bought = rates[:, 0, None] * (running[high, 0] - running[low, 0]) + rates[:, 1, None] * (
            running[high, 1] - running[low, 1]
        )
        np.add.at(out, who, bought)
    return np.asarray(out * activity[:, None])


def month_covariance(ctx: ValidationContext, stats: Stats) -> np.ndarray:
    """(months, months) covariance, over the customers' latent activity and lifetimes, of
    each calendar month's expected legitimate first sales of the customers on disk (see the
    module's docstring); zeros when no customer is followed."""
    months = len(ctx.months)
    covariance = np.zeros((months, months))
    customers = followed_rates(ctx, stats)
    if customers.shape[0] == 0:
        return covariance
    thin = max(1, math.ceil(customers.shape[0] * SPREAD_REPLICATES / SPREAD_HISTORIES))
    customers = customers[::thin]
    per_chunk = max(1, SPREAD_HISTORIES // SPREAD_REPLICATES)
    for number, chunk in enumerate(range(0, customers.shape[0], per_chunk)):
        part = customers[chunk : chunk + per_chunk]
        rng = generator(
            ctx.spec.seed, Entity.VALIDATION, Stream.LIFECYCLE_SIMULATION, SPREAD_KEY, number
        )
        histories = simulated_months(ctx, np.repeat(part, SPREAD_REPLICATES, axis=0), rng)
        histories = histories.reshape(part.shape[0], SPREAD_REPLICATES, months)
        centred = (histories - histories.mean(axis=1, keepdims=True)).reshape(-1, months)
        covariance += centred.T @ centred / (SPREAD_REPLICATES - 1)
    simulated_total = float(covariance.sum())
    exact_total = float(np.sum(stats.get(st.CUSTOMERS_CLASS_EXTRA_VARIANCE, 0.0)))
    if simulated_total <= 0:
        return np.zeros((months, months))
    return np.asarray(covariance * (exact_total / simulated_total))


def _abs_covariance(rho: np.ndarray) -> np.ndarray:
    """Cov(|X|, |Y|) / (sd X sd Y) of standard bivariate normals of correlation ``rho``:
    (2 / pi) (rho arcsin rho + sqrt(1 - rho^2) - 1)."""
    r = np.clip(rho, -1.0, 1.0)
    return np.asarray((2.0 / math.pi) * (r * np.arcsin(r) + np.sqrt(1.0 - r * r) - 1.0))


def profile_threshold(
    expected: np.ndarray,
    n: float,
    repeat: float,
    covariance: np.ndarray,
    month_of_cell: np.ndarray,
    slack: float,
) -> float:
    """Gate for the TVD of n sales over cells (``profile_spread``): its mean +
    GATE_SIGMAS sd + ``slack``."""
    if n <= 0:
        return math.inf
    mean, sd = profile_spread(expected, n, repeat, covariance, month_of_cell)
    return mean + GATE_SIGMAS * sd + slack


def profile_spread(
    expected: np.ndarray,
    n: float,
    repeat: float,
    covariance: np.ndarray,
    month_of_cell: np.ndarray,
) -> tuple[float, float]:
    """Mean and sd of the TVD of n sales over cells (calendar days or months, each inside
    the month ``month_of_cell``) from the shares of ``expected``, for Gaussian share
    deviations of covariance a (diag(p) - p p^T) / n + (1 + r)^2 w w' Y / n^2,
    a = (1 + 3r) / (1 + r) (compound Poisson counts), Y the
    customers' covariance (``month_covariance``) of the months' first sales less p_month
    times the total's, and w a cell's share of its month. The mean is exact; the variance
    sums Cov(|x|, |y|) over the pairs of cells, taking the cells of one month alike (their
    mean spread, share and weight) for the pairs of different cells."""
    p = normalise(expected)
    months = covariance.shape[0]
    month_share = np.bincount(month_of_cell, weights=p, minlength=months)
    weight = np.divide(
        p, month_share[month_of_cell], out=np.zeros_like(p), where=month_share[month_of_cell] > 0
    )
    row = covariance.sum(axis=1)
    deviations = (
        covariance
        - np.outer(month_share, row)
        - np.outer(row, month_share)
        + np.outer(month_share, month_share) * float(row.sum())
    ) * ((1.0 + repeat) ** 2 / (n * n))
    poisson = (1.0 + 3.0 * repeat) / (1.0 + repeat) / n
    variance = poisson * p * (1.0 - p) + weight**2 * np.diag(deviations)[month_of_cell]
    sd = np.sqrt(np.maximum(variance, 0.0))
    mean = 0.5 * math.sqrt(2.0 / math.pi) * float(sd.sum())
    # the pairs of distinct cells, a month's cells taken alike
    cells = np.bincount(month_of_cell, minlength=months).astype(np.float64)
    some = np.maximum(cells, 1.0)
    sd_m = np.bincount(month_of_cell, weights=sd, minlength=months) / some
    weight_m = np.bincount(month_of_cell, weights=weight, minlength=months) / some
    p_m = month_share / some
    cross = np.outer(weight_m, weight_m) * deviations - poisson * np.outer(p_m, p_m)
    scale = np.outer(sd_m, sd_m)
    rho = np.divide(cross, scale, out=np.zeros_like(cross), where=scale > 0)
    pairs = np.outer(cells, cells) * scale * _abs_covariance(rho)
    distinct = float(pairs.sum()) - float(np.sum(cells * sd_m**2 * np.diag(_abs_covariance(rho))))
    own = (1.0 - 2.0 / math.pi) * float((sd * sd).sum())
    return mean, 0.5 * math.sqrt(max(own + distinct, 0.0))
