"""The packed-target layout: `integral_keras.core.packing`, re-exported under its documented path."""
from integral_keras.core.packing import *  # noqa: F401,F403  (every public name of the layout)
