"""synthpipe: large, realistic, partitioned synthetic retail datasets with a known truth."""

__version__ = "0.1.0"
GENERATOR_NAME = "synthpipe"
