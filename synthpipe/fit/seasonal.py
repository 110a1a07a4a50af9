"""The Pareto/NBD with seasons, in whole days, for customers watched from signup.

A customer buys on day d at rate lambda x F(d) (F: the spec's day factors, lambda ~
Gamma(r, alpha) a year) until it stops, after Exponential(mu) years, mu ~ Gamma(s, beta).
It is watched from the later of its signup and the sample's first day, after D years alive
unwatched, and it is in the sample only if it bought there. Surviving D turns Gamma(s, beta)
into Gamma(s, beta + D); a customer still buying at the start of watching stops on watched
day k with P_k = S(k) - S(k + 1), S(k) = ((beta + D) / (beta + D + k / 365.25))^s, and has
then been exposed E_k = (F summed over its first k watched days) / 365.25. With x purchase
days, the last on watched day l, of T watched days, the likelihood given that it was seen is

    Gamma(r + x) / Gamma(r) alpha^r [S(T) (alpha + E_T)^-(r+x) + sum_{k=l+1}^{T-1} P_k
    (alpha + E_k)^-(r+x)] / (1 - P(no purchase)),

P(no purchase) = S(T) (alpha / (alpha + E_T))^r + sum_{k=0}^{T-1} P_k (alpha / (alpha + E_k))^r.
With F = 1 this is the classic Pareto/NBD in discrete time; with seasons it no longer reads
the swing of purchases through the year as a spread of dropout rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from synthpipe.clock import DAYS_PER_YEAR
from synthpipe.fit.kernels import dropout_day_sums


@dataclass(frozen=True)
class SeasonalSeen:
    """Seen customers' histories, grouped: one row per distinct (purchase days x, last
    purchase day, first watched day, days alive before) with its summed weight, the first
    watched days and days before as rows of the likelihood's tables, and one row per
    distinct (first watched day, days before), all that P(no purchase) depends on."""

    x: np.ndarray
    last: np.ndarray
    start_row: np.ndarray
    before_row: np.ndarray
    weight: np.ndarray
    starts: np.ndarray  # first watched day, days from the sample's first
    befores: np.ndarray  # days alive before watching
    pair_start_row: np.ndarray
    pair_before_row: np.ndarray
    pair_weight: np.ndarray
    cumulative: np.ndarray  # F summed over the sample's first d days / 365.25, d = 0..days

    @property
    def days(self) -> int:
        """Days in the sample."""
        return int(self.cumulative.shape[0] - 1)

    @staticmethod
    def of(
        x: np.ndarray,
        last: np.ndarray,
        start: np.ndarray,
        before: np.ndarray,
        weight: np.ndarray,
        factors: np.ndarray,
    ) -> SeasonalSeen:
        """Group customers' histories (days) under the day factors ``factors``."""
        rows, inverse = np.unique(
            np.stack([x, last, start, before], axis=1).astype(np.int64), axis=0, return_inverse=True
        )
        summed = np.bincount(inverse.ravel(), weights=weight, minlength=rows.shape[0])
        starts, start_row = np.unique(rows[:, 2], return_inverse=True)
        befores, before_row = np.unique(rows[:, 3], return_inverse=True)
        pairs, pair_inverse = np.unique(
            np.stack([start_row, before_row], axis=1), axis=0, return_inverse=True
        )
        return SeasonalSeen(
            x=rows[:, 0].astype(np.float64),
            last=np.ascontiguousarray(rows[:, 1]),
            start_row=start_row.astype(np.int64),
            before_row=before_row.astype(np.int64),
            weight=summed,
            starts=starts,
            befores=befores,
            pair_start_row=np.ascontiguousarray(pairs[:, 0]),
            pair_before_row=np.ascontiguousarray(pairs[:, 1]),
            pair_weight=np.bincount(pair_inverse.ravel(), weights=summed, minlength=pairs.shape[0]),
            cumulative=np.concatenate([[0.0], np.cumsum(factors)]) / DAYS_PER_YEAR,
        )


def log_rates(alpha: float, starts: np.ndarray, cumulative: np.ndarray) -> np.ndarray:
    """(starts, days + 1): log(alpha + E_k) for watching from each start, k = 0..days
    (the exposure stops growing at the sample's end)."""
    days = cumulative.shape[0] - 1
    ahead = np.minimum(starts[:, None] + np.arange(days + 1)[None, :], days)
    return np.ascontiguousarray(np.log(alpha + cumulative[ahead] - cumulative[starts][:, None]))


def staying(s: float, beta: float, befores: np.ndarray, days: int) -> np.ndarray:
    """(befores, days + 1): S(k) for each number of days alive before watching."""
    scale = beta + befores[:, None] / DAYS_PER_YEAR
    return np.ascontiguousarray(
        (scale / (scale + np.arange(days + 1)[None, :] / DAYS_PER_YEAR)) ** s
    )


def no_purchase(
    r: float, alpha: float, rates: np.ndarray, stay: np.ndarray, watched: np.ndarray
) -> np.ndarray:
    """P(no purchase in the watched days) for rows of ``log_rates`` and ``staying`` that
    belong together, each watched for ``watched`` days."""
    k = np.arange(stay.shape[1])[None, :]
    stops = np.where(k < watched[:, None], stay - np.roll(stay, -1, axis=1), 0.0)
    stops += np.where(k == watched[:, None], stay, 0.0)
    return np.asarray((stops * np.exp(r * (math.log(alpha) - rates))).sum(axis=1))


def seen_chance(
    params: tuple[float, float, float, float],
    start: np.ndarray,
    before: np.ndarray,
    cumulative: np.ndarray,
) -> np.ndarray:
    """P(a customer who signed up ``before`` days before its first watched day ``start``
    is in the sample): alive then, (beta / (beta + D))^s, and buying at least once."""
    r, alpha, s, beta = params
    days = cumulative.shape[0] - 1
    rates = log_rates(alpha, start, cumulative)
    stay = staying(s, beta, before, days)
    none = no_purchase(r, alpha, rates, stay, days - start)
    return np.asarray((beta / (beta + before / DAYS_PER_YEAR)) ** s * (1.0 - none))


def seasonal_log_likelihood(params: np.ndarray, seen: SeasonalSeen) -> float:
    """The weighted log-likelihood (module docstring) with log r, alpha, s, beta."""
    r, alpha, s, beta = (float(v) for v in np.exp(params))
    rates = log_rates(alpha, seen.starts, seen.cumulative)
    stay = staying(s, beta, seen.befores, seen.days)
    watched = seen.days - seen.starts
    sums = dropout_day_sums(
        r + seen.x, seen.last, watched[seen.start_row], seen.start_row, seen.before_row, rates, stay
    )
    head = special.gammaln(r + seen.x) - special.gammaln(r) + r * math.log(alpha)
    none = no_purchase(
        r,
        alpha,
        rates[seen.pair_start_row],
        stay[seen.pair_before_row],
        watched[seen.pair_start_row],
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        chance = np.log(np.maximum(1.0 - none, 1e-300))
    total = float((seen.weight * (head + sums)).sum() - (seen.pair_weight * chance).sum())
    return total if math.isfinite(total) else -1e300
