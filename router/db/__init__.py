"""Shared storage for fleet mode: which backend a URL names, PostgreSQL connections, migrations.

``store: postgresql://...`` moves the decision log, feedback, rules and the model
registry into PostgreSQL; ``state: redis://...`` (router/state) shares cooldowns
and counters. Nothing here is imported unless one of them is configured.
"""
