"""Reproduction studies: the paper's claims tested on the bundled synthetic data (`scripts/reproduce.py`).

`studies` defines the studies (runs, configs, data, claims, budgets), `runner.run_study` runs one resumably,
`claims` computes the verdicts, `tables` and `plots` write the results, `paper` reads the paper's numbers.
"""
from integral_keras.apps.reproduction.runner import run_study
from integral_keras.apps.reproduction.studies import STUDIES, get_budget, get_study

__all__ = ["STUDIES", "get_budget", "get_study", "run_study"]
