"""Reliability and security campaigns: each `python -m campaigns.<name> [--full]` prints
its figures (see docs/reliability.md); tests/test_campaigns.py runs the CI sizes."""
