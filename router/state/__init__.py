"""Shared fast state for fleet mode (``state: redis://...``): cooldowns, rate limits, spend.

Every piece keeps a local copy or fallback, so an instance whose Redis is away
goes on serving with its own state and says so (``/health``, ``/metrics``, a log
line), then shares again when Redis returns. Nothing here is imported unless a
``state:`` URL or a budget is configured.
"""
