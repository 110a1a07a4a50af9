"""Customer lifecycles (docs/process.md, "Lifecycle"): the first life of the Pareto/NBD, the returns
of reactivation, and the laws of the chain they make.

A customer is *active* (buying), *dormant* (stopped, and will come back) or *gone*. From
signup it is active; it drops out at rate mu (per year, mu ~ Gamma(dropout_shape, mean
dropout_per_year)); each dropout is dormant with probability p
(``customers.lifetime.reactivation.probability``) and gone otherwise; a dormant spell
ends at rate rho = 365.25 / ``dormant_days``. So, given mu, the chain's chance of being
active t years after entering the active state is

    P_A(t) = c1 e^(l1 t) + c2 e^(l2 t),   c1 = (-mu - l2) / (l1 - l2),   c2 = 1 - c1,

and after entering the dormant state P_D(t) = rho (e^(l1 t) - e^(l2 t)) / (l1 - l2), with
l1, l2 the roots of l^2 + (mu + rho) l + (1 - p) mu rho = 0. With p = 0, P_A(t) = e^(-mu t).

A day j after signup (j = 0 the signup day) is bought on when the chain is active at the
day's end, time (j + 1) / 365.25: the first life covers days [0, floor(tau)) of tau its
length in days, and a return spell [s, e) in continuous days covers [floor(s), floor(e)).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import gamma as gamma_function
from scipy.special import roots_genlaguerre

from synthpipe.clock import DAYS_PER_YEAR, UNIX_EPOCH
from synthpipe.spec.models import Spec

MAX_LIFETIME_YEARS = 1_000.0  # a churn day this far away means "never"
MAX_LIFETIME_DAYS = MAX_LIFETIME_YEARS * DAYS_PER_YEAR
QUADRATURE_NODES = 96  # Gauss-Laguerre nodes for the mixture over mu (error ~1e-8)
KEY_STRIDE = np.int64(1) << np.int64(32)  # (customer, day) packed into one sortable key


@dataclass(frozen=True)
class Returns:
    """The return spells of one block's customers, ordered by customer then time."""

    owner: np.ndarray  # int64 customer index within the block
    back_day: np.ndarray  # datetime64[D]: the first day bought on again
    gone_day: np.ndarray  # datetime64[D]: the first day no longer bought (next dropout)

    @property
    def size(self) -> int:
        """Number of return spells."""
        return int(self.owner.shape[0])


NO_RETURNS = Returns(
    np.zeros(0, dtype=np.int64),
    np.zeros(0, dtype="datetime64[D]"),
    np.zeros(0, dtype="datetime64[D]"),
)


def reactivates(spec: Spec) -> bool:
    """Whether customers of ``spec`` can come back after dropping out."""
    lifetime = spec.customers.lifetime
    return lifetime.reactivation.probability > 0 and lifetime.dropout_per_year > 0


def return_rate(spec: Spec) -> float:
    """rho, the rate per year at which a dormant spell ends: 365.25 / dormant_days."""
    return DAYS_PER_YEAR / spec.customers.lifetime.reactivation.dormant_days


def lifetimes(
    spec: Spec, signup: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's latent dropout rate mu ~ Gamma(dropout_shape, mean dropout_per_year)
    (per year), the length of its first life in days, 365.25 tau, tau ~ Exponential(mu)
    years (at most MAX_LIFETIME_YEARS: "never" within any calendar), and its churn day,
    signup + floor(365.25 tau). The block's whole column of rates, then one uniform a
    customer, from the block's own stream."""
    lifetime = spec.customers.lifetime
    shape = lifetime.dropout_shape
    n = int(signup.shape[0])
    if lifetime.dropout_per_year <= 0:
        rate = np.zeros(n)
    else:
        rate = rng.gamma(shape, lifetime.dropout_per_year / shape, n)
    u = rng.random(n)
    with np.errstate(divide="ignore"):
        years = np.where(rate > 0, -np.log1p(-u) / np.maximum(rate, 1e-300), np.inf)
    length = np.minimum(years, MAX_LIFETIME_YEARS) * DAYS_PER_YEAR
    days = np.floor(length).astype(np.int64)
    return np.asarray(rate), length, np.asarray(signup + days.astype("timedelta64[D]"))


def draw_returns(
    spec: Spec,
    signup: np.ndarray,
    first_life: np.ndarray,
    rate: np.ndarray,
    rng: np.random.Generator,
) -> Returns:
    """The return spells: K ~ Geometric returns a customer (P(K >= j) = p^j; none for a
    customer who never drops out), then for each return a dormant spell of
    Exponential(dormant_days) days and an active one of Exponential(mu) years, laid end to
    end after the first life (``first_life`` days long). One uniform a customer, then two
    a return, whole-column from the block's own stream."""
    if not reactivates(spec):
        return NO_RETURNS
    reactivation = spec.customers.lifetime.reactivation
    n = int(signup.shape[0])
    with np.errstate(divide="ignore"):
        count = np.floor(np.log1p(-rng.random(n)) / np.log(reactivation.probability))
    count = np.where(rate > 0, count, 0).astype(np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), count)
    u = rng.random((owner.shape[0], 2))
    dormant = -np.log1p(-u[:, 0]) * reactivation.dormant_days
    active = -np.log1p(-u[:, 1]) / np.maximum(rate[owner], 1e-300) * DAYS_PER_YEAR
    step = dormant + active
    before = np.cumsum(step) - step  # the steps of the customers ahead, and its own
    returning = count > 0
    first = (np.cumsum(count) - count)[returning]
    own = before - np.repeat(before[first], count[returning])
    start = np.minimum(first_life[owner] + own + dormant, MAX_LIFETIME_DAYS)
    end = np.minimum(start + active, MAX_LIFETIME_DAYS)
    base = signup[owner]
    return Returns(
        owner,
        base + np.floor(start).astype(np.int64).astype("timedelta64[D]"),
        base + np.floor(end).astype(np.int64).astype("timedelta64[D]"),
    )


def active_on(
    churn_day: np.ndarray, returns: Returns, customer: np.ndarray, date: np.ndarray
) -> np.ndarray:
    """Whether each (customer, date) falls in a spell the customer buys in: before its
    churn day, or in one of its return spells [back_day, gone_day)."""
    active = date < churn_day[customer]
    if returns.size == 0:
        return np.asarray(active)
    late = np.flatnonzero(~active)
    back = (returns.back_day - UNIX_EPOCH).astype(np.int64)
    keys = returns.owner * KEY_STRIDE + back
    day = (date[late] - UNIX_EPOCH).astype(np.int64)
    at = np.searchsorted(keys, customer[late] * KEY_STRIDE + day, side="right") - 1
    found = at >= 0
    at = np.maximum(at, 0)
    active[late] = (
        found & (returns.owner[at] == customer[late]) & (date[late] < returns.gone_day[at])
    )
    return np.asarray(active)


def chain_roots(mu: np.ndarray, p: float, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """The roots l1 >= l2 of l^2 + (mu + rho) l + (1 - p) mu rho = 0 (l1 from the product of
    the roots, which keeps its digits when it is small)."""
    mu = np.asarray(mu, dtype=np.float64)
    l2 = -0.5 * ((mu + rho) + np.sqrt((mu - rho) ** 2 + 4.0 * p * mu * rho))
    l1 = (1.0 - p) * mu * rho / l2
    return l1, l2


def active_terms(mu: np.ndarray, p: float, rho: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c1, l1, l2) of P_A(t) = c1 e^(l1 t) + (1 - c1) e^(l2 t), given mu (p > 0)."""
    l1, l2 = chain_roots(mu, p, rho)
    return (-np.asarray(mu, dtype=np.float64) - l2) / (l1 - l2), l1, l2


def active_after_active(
    mu: np.ndarray, years: np.ndarray | float, p: float, rho: float
) -> np.ndarray:
    """P_A(t): the chance of being active ``years`` after entering the active state, given
    the dropout rate mu (broadcast)."""
    mu = np.asarray(mu, dtype=np.float64)
    if p <= 0:
        return np.asarray(np.exp(-mu * years))
    c1, l1, l2 = active_terms(mu, p, rho)
    return np.asarray(c1 * np.exp(l1 * years) + (1.0 - c1) * np.exp(l2 * years))


def active_after_dormant(
    mu: np.ndarray, years: np.ndarray | float, p: float, rho: float
) -> np.ndarray:
    """P_D(t): the chance of being active ``years`` after entering the dormant state."""
    l1, l2 = chain_roots(mu, p, rho)
    return np.asarray(rho * (np.exp(l1 * years) - np.exp(l2 * years)) / (l1 - l2))


@lru_cache(maxsize=16)
def dropout_nodes(shape: float, mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the generalized Gauss-Laguerre rule for E[f(mu)], mu ~
    Gamma(shape, mean): sum_i w_i f(mu_i), the weights summing to 1."""
    x, w = roots_genlaguerre(QUADRATURE_NODES, shape - 1.0)
    return np.asarray(x * mean / shape), np.asarray(w / gamma_function(shape))


def survival(spec: Spec, days: np.ndarray) -> np.ndarray:
    """P(a customer is still in its first life on the day ``days`` after signing up; day 0
    is the signup day): the Pareto/NBD survival (1 + t x dropout_per_year / dropout_shape)
    ** -dropout_shape at t = (days + 1) / 365.25 years (the churn day is whole; 0 before)."""
    lifetime = spec.customers.lifetime
    years = (np.maximum(np.asarray(days, dtype=np.float64), 0.0) + 1.0) / DAYS_PER_YEAR
    alive = (1.0 + years * lifetime.dropout_per_year / lifetime.dropout_shape) ** (
        -lifetime.dropout_shape
    )
    return np.asarray(np.where(np.asarray(days) >= 0, alive, 0.0))


def active_probability(spec: Spec, days: np.ndarray) -> np.ndarray:
    """P(a customer buys on the day ``days`` after signing up): ``survival`` without
    reactivation, else E[P_A((days + 1) / 365.25)] over mu by quadrature (0 before)."""
    if not reactivates(spec):
        return survival(spec, days)
    lifetime = spec.customers.lifetime
    mu, weight = dropout_nodes(lifetime.dropout_shape, lifetime.dropout_per_year)
    days = np.asarray(days)
    years = (np.maximum(days.astype(np.float64), 0.0) + 1.0) / DAYS_PER_YEAR
    p = lifetime.reactivation.probability
    chance = active_after_active(mu[:, None], years.ravel()[None, :], p, return_rate(spec))
    alive = (weight @ chance).reshape(days.shape)
    return np.asarray(np.where(days >= 0, alive, 0.0))


def buying_spells(
    signup_day: np.ndarray, churn_day: np.ndarray, returns: Returns
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every spell the block's customers buy in, as (customer index, first day, first day
    after it): each first life, then each return spell."""
    owner = np.concatenate([np.arange(signup_day.shape[0], dtype=np.int64), returns.owner])
    start = np.concatenate([signup_day, returns.back_day])
    end = np.concatenate([churn_day, returns.gone_day])
    return owner, start, end


@dataclass(frozen=True)
class StateAtEnd:
    """Each customer's latent state at the end of a day: bought on that day, or dormant
    (stopped, with a return to come), with its returns begun so far, its last dropout
    and its next return."""

    buying: np.ndarray  # bool: active (the day is bought on)
    dormant: np.ndarray  # bool: stopped, and a return spell begins later
    returns: np.ndarray  # int: return spells begun by the day
    last_dropout: np.ndarray  # datetime64[D]: the latest dropout day on or before it (NaT: none)
    next_return: np.ndarray  # datetime64[D]: the next return's first day (NaT: none)


def state_at(
    signup_day: np.ndarray, churn_day: np.ndarray, returns: Returns, day: np.datetime64
) -> StateAtEnd:
    """The customers' ``StateAtEnd`` on ``day`` (whole columns)."""
    n = int(signup_day.shape[0])
    everyone = np.arange(n, dtype=np.int64)
    buying = (signup_day <= day) & active_on(churn_day, returns, everyone, np.full(n, day))
    begun = returns.back_day <= day
    count = np.bincount(returns.owner[begun], minlength=n)
    ahead = np.flatnonzero(~begun)
    owners, first = np.unique(returns.owner[ahead], return_index=True)
    next_return = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    next_return[owners] = returns.back_day[ahead[first]]
    never = np.iinfo(np.int64).min
    last = np.where(churn_day <= day, (churn_day - UNIX_EPOCH).astype(np.int64), never)
    ended = returns.gone_day <= day
    np.maximum.at(
        last, returns.owner[ended], (returns.gone_day[ended] - UNIX_EPOCH).astype(np.int64)
    )
    last_dropout = np.where(
        last > never,
        UNIX_EPOCH + np.maximum(last, 0).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    )
    dormant = (signup_day <= day) & ~buying & ~np.isnat(next_return)
    return StateAtEnd(buying, dormant, count, last_dropout.astype("datetime64[D]"), next_return)
