"""Benchmarks: ``python -m benchmarks`` runs them all; results in benchmarks/README.md."""
