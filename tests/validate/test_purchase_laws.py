"""The closed forms behind the purchases checks, against scipy and a direct sum."""

from __future__ import annotations

import numpy as np
from scipy import stats

from synthpipe.validate.checks.purchases import MAX_PURCHASES, negative_binomial_cells
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
