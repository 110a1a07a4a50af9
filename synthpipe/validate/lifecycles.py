"""Simulated purchase histories of the followed customers, for the laws that have no closed
form once customers can come back (``customers.lifetime.reactivation``).

Each followed customer is replayed ``REPLICATES`` times from its visible rates and signup
day with the generator's own lifecycle draws (``synthpipe.model.lifecycle``), a fresh
activity A ~ Gamma(k, 1/k) and Poisson purchases A x rho(d) on the days it buys, from a
stream of the validation entity (no data comes from it). The expected counts are the
replicates' counts over REPLICATES; a gate compares the data with them as with a sample
of REPLICATES x as many customers (``simulated_size``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthpipe.clock import UNIX_EPOCH
from synthpipe.model.lifecycle import buying_spells, draw_returns, lifetimes
from synthpipe.seeds import Entity, Stream, generator
from synthpipe.validate.context import ValidationContext

REPLICATES = 8  # simulated histories per followed customer
RETURN_MIN_PURCHASES = 6  # customers who buy this often show a dormant spell as a long gap
CELLS_PER_CHUNK = 4_000_000  # (history, day) cells simulated at once


@dataclass(frozen=True)
class SimulatedPurchases:
    """Histograms of the simulated histories, divided by REPLICATES."""

    per_customer: np.ndarray  # customers with n = 0, 1, ... purchases (the last: or more)
    gap_days: np.ndarray  # purchases whose next comes g = 0, 1, ..., days - 1 days later
    longest_gap_days: np.ndarray  # customers of RETURN_MIN_PURCHASES+ by their longest gap

    def gap_cells(self, edges: np.ndarray) -> np.ndarray:
        """``gap_days`` summed per cell of ``edges`` (left edges; below the first: dropped)."""
        return day_cells(self.gap_days, edges)


def day_cells(per_day: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """A histogram by days summed per cell of ``edges`` (left edges; below the first:
    dropped)."""
    cell = np.searchsorted(edges, np.arange(per_day.shape[0]), side="right") - 1
    inside = cell >= 0
    return np.bincount(cell[inside], weights=per_day[inside], minlength=edges.shape[0])


def simulated_size(n: float) -> float:
    """The sample size whose TVD spread matches data of ``n`` against a simulation of
    REPLICATES x n: n R / (R + 1)."""
    return n * REPLICATES / (REPLICATES + 1.0)


def buying_mask(ctx: ValidationContext, signup: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(histories, calendar days) whether each simulated history buys on each day: the
    model's own first lives and return spells drawn for the given signup days."""
    spec = ctx.spec
    rate, first_life, churn = lifetimes(spec, signup, rng)
    returns = draw_returns(spec, signup, first_life, rate, rng)
    owner, first, last = buying_spells(signup, churn, returns)
    days = ctx.days
    start = np.clip((first - ctx.dates[0]).astype(np.int64), 0, days)
    end = np.clip((last - ctx.dates[0]).astype(np.int64), 0, days)
    width = days + 1
    change = np.bincount(owner * width + start, minlength=signup.shape[0] * width)
    change -= np.bincount(owner * width + end, minlength=signup.shape[0] * width)
    return np.asarray(np.cumsum(change.reshape(-1, width), axis=1)[:, :days] > 0)


def gap_counts(counts: np.ndarray) -> np.ndarray:
    """Purchases per gap in days of daily counts (histories x days): a day's later purchases
    follow their predecessor after 0 days, and a day's first one follows the history's
    previous purchase day after the days between."""
    row, day = np.nonzero(counts)
    follows = row[1:] == row[:-1]
    gaps = np.bincount((day[1:] - day[:-1])[follows], minlength=counts.shape[1]).astype(float)
    gaps[0] += float(np.maximum(counts - 1, 0).sum())
    return gaps


def longest_gaps(row: np.ndarray, day: np.ndarray, rows: int) -> np.ndarray:
    """Per row, the longest gap in days between consecutive purchase days (``row`` and
    ``day`` sorted by row then day; 0 for a row with fewer than two)."""
    longest = np.zeros(rows, dtype=np.int64)
    follows = row[1:] == row[:-1]
    np.maximum.at(longest, row[1:][follows], (day[1:] - day[:-1])[follows])
    return longest


def simulate_purchases(
    ctx: ValidationContext, customers: np.ndarray, most: int
) -> SimulatedPurchases:
    """Simulated purchases of ``customers`` (rows of id, signup day, rate in store, rate
    online): customers with n = 0..``most`` purchases over the calendar and purchases per
    gap in days, each over REPLICATES."""
    k = ctx.spec.customers.activity_shape
    days = ctx.days
    per_customer = np.zeros(most + 1)
    gaps = np.zeros(days)
    longest_gap = np.zeros(days)
    step = max(1, CELLS_PER_CHUNK // (REPLICATES * max(days, 1)))
    for number, chunk in enumerate(range(0, customers.shape[0], step)):
        part = np.repeat(customers[chunk : chunk + step], REPLICATES, axis=0)
        rng = generator(ctx.spec.seed, Entity.VALIDATION, Stream.LIFECYCLE_SIMULATION, number)
        signup = UNIX_EPOCH + part[:, 1].astype(np.int64).astype("timedelta64[D]")
        buying = buying_mask(ctx, signup, rng)
        activity = np.asarray(rng.gamma(k, 1.0 / k, part.shape[0]))
        intensity = (part[:, 2:4] @ ctx.daily_factors.T) * activity[:, None]
        counts = rng.poisson(np.where(buying, intensity, 0.0))
        total = np.minimum(counts.sum(axis=1), most)
        per_customer += np.bincount(total, minlength=most + 1)
        gaps += gap_counts(counts)
        row, day = np.nonzero(counts)
        longest = longest_gaps(row, day, part.shape[0])[total >= RETURN_MIN_PURCHASES]
        longest_gap += np.bincount(longest, minlength=days)
    return SimulatedPurchases(
        per_customer / REPLICATES, gaps / REPLICATES, longest_gap / REPLICATES
    )
