"""Validation: measure the files on disk against the spec that generated them.

``units`` splits a dataset into independent pieces and computes each piece's mergeable
statistics (what Dask workers run), typed and declared in ``statistics``; ``merge`` adds
them up by their declared rules; the families of ``checks`` (gates from ``gates``) turn the
merged statistics into named checks; ``report`` and ``html`` present them.
The package imports nothing itself, so a worker loads only the modules it runs.
"""
