"""Shared pytest set-up: quiet TensorFlow logs, deterministic seeds."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slower test (still runs in CI)")


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)
    yield
