"""Performance benchmarks (`scripts/benchmark.py <name>`): each module holds the measurement of one table of
docs/benchmarks.md and a function that runs it with plain arguments."""
