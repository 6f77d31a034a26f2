"""Benchmark harness for the monthly pipeline (``python -m bench.run``; see bench/run.py)."""
