"""The closed forms behind the purchases checks, against scipy and a direct sum."""

from __future__ import annotations

import numpy as np
from helpers import small_spec
from scipy import stats

from synthpipe.validate.checks.purchases import MAX_PURCHASES, negative_binomial_cells
from synthpipe.validate.context import per_signup_day, returning_second_moment, validation_context
from synthpipe.validate.gates import kish_effective


def test_the_negative_binomial_recursion_is_scipys() -> None:
    means = np.asarray([[0.0, 0.5, 4.0], [12.0, 30.0, 80.0]])
    for k in (0.3, 1.2, 25.0):
        cells = negative_binomial_cells(k, means)
        p = k / (k + means[..., None])
        pmf = stats.nbinom.pmf(np.arange(MAX_PURCHASES), k, p)
        assert np.allclose(cells[..., :-1], pmf, atol=1e-14)
        tail = stats.nbinom.sf(MAX_PURCHASES - 1, k, k / (k + means))
        assert np.allclose(cells[..., -1], tail, atol=1e-12)
        assert np.allclose(cells.sum(axis=-1), 1.0)


def test_kish_effective_size() -> None:
    assert kish_effective(np.ones(50)) == 50.0
    assert kish_effective(np.asarray([100.0])) == 1.0
    assert abs(kish_effective(np.asarray([1.0, 3.0])) - 16.0 / 10.0) < 1e-12


def test_the_second_moment_with_returns_reduces_to_the_first_lives() -> None:
    """E[T^2] by the chain (two backward recursions a dropout-rate node) equals the
    closed form of a single life when nobody comes back, and exceeds the mean squared."""
    spec = small_spec()
    ctx = validation_context(spec)
    overall = ctx.daily_factors.sum(axis=1)
    window = ctx.exposure_from_signup.shape[0]
    mean = per_signup_day(overall, ctx.active_by_lag, window)
    chained = returning_second_moment(spec, overall, window)
    assert np.allclose(chained / mean**2, ctx.exposure_ratio_from_signup, rtol=1e-6)
    returning = small_spec(**{"customers.lifetime.reactivation.probability": 0.6})
    ratio = validation_context(returning).exposure_ratio_from_signup
    assert np.all(ratio >= 1.0 - 1e-9)
    # coming back makes the buying days less spread than stopping for good
    assert float(ratio.mean()) < float(ctx.exposure_ratio_from_signup.mean())
