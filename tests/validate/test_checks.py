"""The statistics behind the gates agree with scipy.stats' reference implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import small_spec
from scipy import stats as scipy_stats

from synthpipe.validate.context import (
    INCOME_BANDS,
    INTENSITY_INCOME_EDGES,
    LOYALTY_STATES,
    validation_context,
)
from synthpipe.validate.gates import (
    CI_CONFIDENCE,
    KS_GATE_ALPHA,
    binomial_interval,
    chi_square_sum_p,
    ks_threshold,
    normal_cdf,
)


@pytest.mark.parametrize(
    ("successes", "trials"),
    [(0, 10), (10, 10), (1, 1), (3, 1_000), (512, 1_758_880), (17_588, 1_758_880), (0, 1)],
)
def test_binomial_interval_is_scipys_exact_interval(successes: int, trials: int) -> None:
    reference = scipy_stats.binomtest(successes, trials).proportion_ci(
        CI_CONFIDENCE, method="exact"
    )
    low, high = binomial_interval(successes, trials)
    # scipy finds the ends by a root search (tolerance about 1e-8 relative) ...
    assert low == pytest.approx(reference.low, rel=1e-6, abs=1e-15)
    assert high == pytest.approx(reference.high, rel=1e-6, abs=1e-15)
    assert low <= successes / trials <= high
    # ... and ours are the exact ends: each tail beyond them holds (1 - confidence) / 2
    tail = (1.0 - CI_CONFIDENCE) / 2.0
    if successes > 0:
        assert scipy_stats.binom.sf(successes - 1, trials, low) == pytest.approx(tail, rel=1e-9)
    if successes < trials:
        assert scipy_stats.binom.cdf(successes, trials, high) == pytest.approx(tail, rel=1e-9)


def test_binomial_interval_without_trials_is_everything() -> None:
    assert binomial_interval(0, 0) == (0.0, 1.0)


def test_normal_cdf_is_scipys() -> None:
    x = np.linspace(-40.0, 40.0, 10_001)
    np.testing.assert_allclose(normal_cdf(x), scipy_stats.norm.cdf(x), rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [1, 30, 5_000, 4_140_230])
def test_ks_threshold_is_the_kstwo_quantile_plus_slack(n: int) -> None:
    expected = float(scipy_stats.kstwo.isf(KS_GATE_ALPHA, n))
    assert ks_threshold(n, 0.01) == pytest.approx(expected + 0.01, rel=1e-12)
    assert ks_threshold(n + 0.7, 0.0) == pytest.approx(expected, rel=1e-12)
    assert ks_threshold(0, 0.01) == math.inf


def test_chi_square_sum_p_is_the_upper_tail_of_squared_normals() -> None:
    rng = np.random.default_rng(4)
    sums = (rng.standard_normal((20_000, 36)) ** 2).sum(axis=1)
    # the share of simulated sums beyond each statistic matches its p-value
    for statistic in (20.0, 36.0, 50.0):
        p = chi_square_sum_p(statistic, 36)
        assert p is not None
        assert float(np.mean(sums > statistic)) == pytest.approx(p, abs=0.01)
    assert chi_square_sum_p(3.0, 0) is None


def test_purchase_rate_classes_follow_segment_loyalty_and_income_band() -> None:
    spec = small_spec()
    ctx = validation_context(spec)
    rng = np.random.default_rng(6)
    n = 5_000
    segment = rng.integers(-1, len(ctx.segments), n)
    loyal = rng.random(n) < 0.3
    income = np.exp(rng.normal(math.log(ctx.income_reference), 1.0, n)).round()
    codes = ctx.intensity_class(segment, loyal, income)
    for k in range(n):
        if segment[k] < 0:
            assert codes[k] == -1
            continue
        relative = math.log(max(income[k], 1) / ctx.income_reference)
        band = sum(relative >= edge for edge in INTENSITY_INCOME_EDGES)
        assert codes[k] == (segment[k] * 2 + loyal[k]) * INCOME_BANDS + band
        label = ctx.intensity_label(int(codes[k]))
        assert label.startswith(f"{ctx.segments[segment[k]]}, {LOYALTY_STATES[int(loyal[k])]},")
    assert codes.max() < ctx.intensity_classes()
