"""synthpipe: large, realistic, partitioned synthetic retail datasets with a known truth."""

__version__ = "0.2.0"  # bumped whenever generated values change (refresh guards on it)
GENERATOR_NAME = "synthpipe"
