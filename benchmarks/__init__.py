"""Benchmarks for the course (run with `make bench`); results go to docs/benchmarks.md."""
