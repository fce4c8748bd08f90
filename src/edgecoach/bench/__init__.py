"""Benchmarks that print figures: `python -m edgecoach.bench NAME`.

NAME: voice, model, judge (blind judging of lines), e2e, outbox.
"""
