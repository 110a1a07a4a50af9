"""The retail world: customers, products, stores, sales, seasonality and fraud. Pure
functions of (spec, data block) -> Arrow tables; no I/O."""
