"""Applications on top of the library: they orchestrate `training/`, `serving/` and `evaluation/` for one purpose.

- `demo`: the end-to-end demo of `scripts/demo.py` (synthetic data, training, export, overlays, results table);
- `benchmarks/`: the performance benchmarks of `scripts/benchmark.py` (layers, model, pipeline, training);
- `reproduction/`: the scaled-down studies of the paper's tables on synthetic data (`scripts/reproduce.py`).

Nothing in the library imports this package (tests/test_layering.py), and command-line flags live in `scripts/`.
"""
