"""Test statistics and their gates.

Verdicts gate on effect sizes (total variation distance, KS distance, relative error)
against tolerances derived from the sample size: the gate sits GATE_SIGMAS standard
deviations above what sampling noise alone produces, plus a small stated slack for the
approximations of the expectation. p-values from scipy.stats are reported beside, never
gated on: at millions of rows any p-value falls for differences nobody cares about.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special as scipy_special
from scipy import stats as scipy_stats

GATE_SIGMAS = 6.0  # a correct generator fails a gate with probability ~1e-9 per test
KS_GATE_ALPHA = 1e-9  # KS gate: the distance exceeded by chance with this probability
CI_CONFIDENCE = 1 - 1e-6  # binomial confidence of fraud-rate intervals


@dataclass(frozen=True)
class Check:
    """One named test with its statistic, threshold and verdict."""

    name: str
    group: str  # integrity, fidelity, fraud, signature, leakage, reference
    statistic: str
    value: float
    threshold: float
    passed: bool
    explanation: str
    p_value: float | None = None
    comparator: str = "<="

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers become None)."""
        document = asdict(self)
        for key in ("value", "threshold", "p_value"):
            number = document[key]
            if number is not None and not math.isfinite(number):
                document[key] = None
        return document


def at_most(
    name: str,
    group: str,
    statistic: str,
    value: float,
    threshold: float,
    explanation: str,
    p_value: float | None = None,
) -> Check:
    """A check that passes when ``value <= threshold``."""
    return Check(
        name,
        group,
        statistic,
        float(value),
        float(threshold),
        bool(value <= threshold),
        explanation,
        p_value,
        "<=",
    )


def at_least(
    name: str,
    group: str,
    statistic: str,
    value: float,
    threshold: float,
    explanation: str,
    p_value: float | None = None,
) -> Check:
    """A check that passes when ``value >= threshold``."""
    return Check(
        name,
        group,
        statistic,
        float(value),
        float(threshold),
        bool(value >= threshold),
        explanation,
        p_value,
        ">=",
    )


def zero(name: str, count: int, explanation: str) -> Check:
    """An integrity check: the number of violations must be zero."""
    return at_most(name, "integrity", "violations", count, 0, explanation)


def normalise(weights: np.ndarray) -> np.ndarray:
    """Weights scaled to sum to 1 (all zeros stay zeros)."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    return w / total if total > 0 else w


def tvd(observed: np.ndarray, expected: np.ndarray) -> float:
    """Total variation distance between observed counts and expected weights."""
    return 0.5 * float(np.abs(normalise(observed) - normalise(expected)).sum())


def kish_effective(cluster_sizes: np.ndarray) -> float:
    """Kish's effective sample size of draws that come in correlated clusters:
    (sum n)^2 / sum n^2."""
    sizes = np.asarray(cluster_sizes, dtype=np.float64)
    return float(sizes.sum()) ** 2 / max(float((sizes * sizes).sum()), 1e-300)


def tvd_threshold(n: float, expected: np.ndarray, slack: float) -> float:
    """Gate for the TVD of n draws from ``expected``: mean + GATE_SIGMAS sd of its sampling
    distribution (cells treated as independent normals) + ``slack``."""
    if n <= 0:
        return math.inf
    p = normalise(expected)
    sigma = np.sqrt(p * (1.0 - p) / n)
    mean = 0.5 * math.sqrt(2.0 / math.pi) * float(sigma.sum())
    sd = 0.5 * math.sqrt((1.0 - 2.0 / math.pi) * float((sigma**2).sum()))
    return mean + GATE_SIGMAS * sd + slack


def chi_square_p(observed: np.ndarray, expected: np.ndarray) -> float | None:
    """Pearson chi-squared p-value of counts against expected weights (scipy.stats)."""
    obs = np.asarray(observed, dtype=np.float64).ravel()
    exp = normalise(np.asarray(expected, dtype=np.float64).ravel()) * obs.sum()
    if obs.sum() <= 0:
        return None
    if np.any((exp == 0) & (obs > 0)):
        return 0.0
    keep = exp > 0
    if keep.sum() < 2:
        return None
    return float(scipy_stats.chisquare(obs[keep], exp[keep]).pvalue)


def chi_square_sum_p(statistic: float, degrees: int) -> float | None:
    """Upper-tail p-value of a sum of ``degrees`` squared standard normals (scipy.stats)."""
    if degrees <= 0:
        return None
    return float(scipy_stats.chi2.sf(statistic, degrees))


def ks_distance(observed_counts: np.ndarray, expected_cdf: np.ndarray) -> float:
    """KS distance between a binned sample and a CDF, both evaluated at the bin edges.

    ``observed_counts`` has one more cell than ``expected_cdf`` has edges (underflow and
    overflow cells); the distance is taken at the edges only, which is exact there and a
    lower bound of the continuous statistic, so the p-value is conservative.
    """
    counts = np.asarray(observed_counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return 0.0
    observed_cdf = np.cumsum(counts)[:-1] / total
    return float(np.max(np.abs(observed_cdf - np.asarray(expected_cdf))))


def ks_p_value(distance: float, n: float) -> float | None:
    """One-sample KS p-value (scipy.stats.kstwo)."""
    if n < 1:
        return None
    return float(scipy_stats.kstwo.sf(distance, int(n)))


def ks_threshold(n: float, slack: float) -> float:
    """Gate for a KS distance of n draws: the distance chance exceeds with KS_GATE_ALPHA."""
    if n < 1:
        return math.inf
    return _ks_critical(int(n)) + slack


@lru_cache(maxsize=256)
def _ks_critical(n: int) -> float:
    """kstwo.isf is a root search (about 10 ms): many checks share the same n."""
    return float(scipy_stats.kstwo.isf(KS_GATE_ALPHA, n))


def binomial_interval(successes: int, trials: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a proportion, as beta quantiles
    (scipy.special.betaincinv): the ends binomtest(...).proportion_ci(method="exact")
    finds by a root search, to full precision and without its per-call set-up (the
    report asks for a hundred of them)."""
    if trials <= 0:
        return (0.0, 1.0)
    k, n = int(successes), int(trials)
    tail = (1.0 - CI_CONFIDENCE) / 2.0
    low = 0.0 if k == 0 else float(scipy_special.betaincinv(k, n - k + 1, tail))
    high = 1.0 if k == n else float(scipy_special.betaincinv(k + 1, n - k, 1.0 - tail))
    return low, high


def binomial_p_value(successes: int, trials: int, p: float) -> float | None:
    """Two-sided exact binomial test p-value (scipy.stats)."""
    if trials <= 0:
        return None
    return float(scipy_stats.binomtest(int(successes), int(trials), min(max(p, 0.0), 1.0)).pvalue)


def poisson_ratio_threshold(expected: float, extra_cv2: float, slack: float) -> float:
    """Gate on |observed / expected - 1| for a Poisson count whose mean itself varies with
    relative variance ``extra_cv2`` (for example from the random customer base):
    GATE_SIGMAS sd of each part, added in quadrature. The Poisson part is read from the
    count's exact upper tail at the probability of GATE_SIGMAS normal sds
    (``poisson_excess``): for a mean of a few, or under one, the normal approximation
    understates how far a count strays (one sale where 0.01 are expected happens once in
    a hundred, not once in 10 sigma)."""
    if expected <= 0:
        return math.inf
    poisson = poisson_excess(expected) / expected
    return math.sqrt(poisson * poisson + GATE_SIGMAS * GATE_SIGMAS * extra_cv2) + slack


@lru_cache(maxsize=1024)
def poisson_excess(expected: float) -> float:
    """How far above its mean a Poisson count of mean ``expected`` goes with the chance of
    GATE_SIGMAS normal sds (scipy.stats.poisson.isf), and at least GATE_SIGMAS sds: about
    GATE_SIGMAS sqrt(mean) for a large mean."""
    tail = float(scipy_stats.norm.sf(GATE_SIGMAS))
    count = float(scipy_stats.poisson.isf(tail, expected))
    return max(count - expected, GATE_SIGMAS * math.sqrt(expected))


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF (scipy.special.ndtr: what scipy.stats.norm.cdf evaluates,
    without its argument checking on large grids)."""
    return np.asarray(scipy_special.ndtr(x))


def two_sided_normal_p(z: float) -> float:
    """Two-sided p-value of a z statistic (scipy.stats)."""
    return float(2.0 * scipy_stats.norm.sf(abs(z)))
