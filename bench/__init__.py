"""Benchmarks: `python -m bench NAME [options]` runs bench/NAME.py and prints one JSON line per measured figure."""
