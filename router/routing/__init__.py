"""Which models, in which order: the catalog, strategies, model strings and planning."""
