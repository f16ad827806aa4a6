"""Benchmarks: one script per measured path, each writing its own section of
docs/BENCHMARKS.md and a PNG plot beside it. Run them as `python -m bench.<name>`."""
