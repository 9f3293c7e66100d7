"""integral_keras: Integral Human Pose Regression (Sun et al., ECCV 2018) for Keras 3.

Subpackages are imported lazily so that data-only tools do not pay for importing
Keras, and so that ``integral_keras.layers.HeatmapSoftmax`` works after a plain
``import integral_keras``.
"""
import importlib

__version__ = "0.1.0"

_SUBPACKAGES = (
    "codecs",
    "configs",
    "data",
    "evaluation",
    "layers",
    "losses",
    "modeling",
    "models",
    "ops",
    "serving",
    "training",
    "visualization",
)


def __getattr__(name):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBPACKAGES))
