"""Benchmarks at the scale of a prefecture (10^6 market entities): `make bench`, figures in bench/results.json.

See docs/BENCHMARKS.md for what each figure means.
"""
