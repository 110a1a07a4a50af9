"""Static reference data shipped with synthpipe (geography tables). No randomness, no I/O
beyond reading the package's own files."""
