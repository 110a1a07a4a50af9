"""Validation: measure the files on disk against the spec that generated them.

``units`` splits a dataset into independent pieces and computes each piece's mergeable
statistics (what Dask workers run); ``merge`` adds them up; ``verdicts`` turns the merged
statistics into named checks with scipy.stats; ``report`` and ``html`` present them.
The package imports nothing itself, so a worker loads only the modules it runs.
"""
