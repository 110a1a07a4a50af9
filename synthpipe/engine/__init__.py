"""The engine: runs partition tasks on a Dask cluster (a LocalCluster or a scheduler)."""
