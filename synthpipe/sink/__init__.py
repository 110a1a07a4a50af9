"""The sink: writes Arrow tables to any fsspec URL atomically; manifest; publishing."""
