"""Benchmarks: `python -m bench` runs them all; figures go to docs/performance.md."""
