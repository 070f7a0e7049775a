"""Benchmarks are run by `tests/bench/run.py`, never collected by pytest (not part of the suite's pass/fail)."""
collect_ignore_glob = ["*"]
