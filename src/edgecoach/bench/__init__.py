"""Benchmarks that print figures: `python -m edgecoach.bench NAME` (voice, model, e2e, outbox)."""
