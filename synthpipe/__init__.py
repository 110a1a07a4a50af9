"""synthpipe: large, realistic, partitioned synthetic retail datasets with a known truth."""

# Bumped whenever generated values or file bytes change (refresh guards on it).
__version__ = "0.11.0"
GENERATOR_NAME = "synthpipe"
