"""The method table: `integral_keras.core.methods`, re-exported under its documented path."""
from integral_keras.core.methods import *  # noqa: F401,F403  (every public name of the table)
