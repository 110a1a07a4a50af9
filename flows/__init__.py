"""Prefect flows of synthpipe. Thin: each task calls a synthpipe function."""
