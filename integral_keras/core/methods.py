"""The training methods of the paper and the targets each one is trained on.

This table is the single place that knows which method needs which target; the
codec, the data parser, the model builder, the loss factory and the decoders all
read it. Pure Python, in the bottom layer (`integral_keras.core`), so any module can
import it cheaply; `integral_keras.codecs.methods` re-exports it. Code names a
method by its constant (`R1`, `I1`, ...), never by a repeated string literal.

| method | heat-map target | heat-map loss | joint target / loss |
|---|---|---|---|
| `R1` | — | — | L1 on regressed joints |
| `H1` | `gaussian` | MSE | — |
| `H2` | `one_hot` | softmax cross-entropy | — |
| `H3` | `disc` | per-cell binary cross-entropy | — |
| `I1` | `gaussian` | MSE | integral L1 |
| `I2` | `one_hot` | softmax cross-entropy | integral L1 |
| `I3` | `disc` | per-cell binary cross-entropy | integral L1 |
| `Istar` | — | — | integral L1 |
"""
from typing import Optional

R1 = "R1"
H1 = "H1"
H2 = "H2"
H3 = "H3"
I1 = "I1"
I2 = "I2"
I3 = "I3"
ISTAR = "Istar"
#: The one joint method that does not integrate heat maps (GAP + dense regression).
DIRECT_REGRESSION = R1

GAUSSIAN = "gaussian"
ONE_HOT = "one_hot"
DISC = "disc"
HEATMAP_TARGET_KINDS = (GAUSSIAN, ONE_HOT, DISC)

# Method name -> kind of heat-map target (None: the method has no heat-map loss).
HEATMAP_TARGET_FOR_METHOD = {
    R1: None,
    H1: GAUSSIAN,
    H2: ONE_HOT,
    H3: DISC,
    I1: GAUSSIAN,
    I2: ONE_HOT,
    I3: DISC,
    ISTAR: None,
}
METHODS = tuple(HEATMAP_TARGET_FOR_METHOD)

# Methods supervised with a joint-coordinate loss (direct or integral regression).
JOINT_TARGET_METHODS = frozenset({R1, I1, I2, I3, ISTAR})


def check_method(method: str) -> str:
    """Returns `method` unchanged, or raises ValueError naming the valid methods."""
    if method not in HEATMAP_TARGET_FOR_METHOD:
        raise ValueError(
            f"Unknown method {method!r}; expected one of {', '.join(METHODS)}."
        )
    return method


def heatmap_target_kind(method: str) -> Optional[str]:
    """The heat-map target kind (`gaussian`, `one_hot`, `disc`) of `method`, or None."""
    return HEATMAP_TARGET_FOR_METHOD[check_method(method)]


def uses_heatmaps(method: str) -> bool:
    """Whether `method` trains with a heat-map loss (H1-H3, I1-I3)."""
    return heatmap_target_kind(method) is not None


def uses_joints(method: str) -> bool:
    """Whether `method` trains with a joint-coordinate loss (R1, I1-I3, Istar)."""
    return check_method(method) in JOINT_TARGET_METHODS


def is_integral(method: str) -> bool:
    """Whether the `joints` of `method` come from integrating the heat maps (I1-I3, Istar)."""
    return uses_joints(method) and method != DIRECT_REGRESSION
