"""Statistics of a sales partition, family by family: ``frame`` decodes the partition once
into typed columns, and each other module computes, from that frame alone, the
statistics one family of checks reads (``measures/baskets.py`` feeds
``checks/baskets.py``). ``synthpipe.validate.sales`` runs them in turn and merges their
results."""
