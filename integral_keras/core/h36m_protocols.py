"""Human3.6M evaluation protocols of the paper and the dataset's action names: plain tables.

Protocols as defined in Sun et al. (ECCV 2018), Sec. 5 (the paper's numbering; some later papers swap it):
- Protocol 1: train on S1, S5, S6, S7, S8, S9; evaluate PA-MPJPE on every 64th frame of S11.
- Protocol 2: train on S1, S5, S6, S7, S8; evaluate MPJPE on every 64th frame of S9 and S11.

The converter (`data.converters.h36m`, which subjects go to which split) and the metrics (`evaluation.h36m`) both
read these tables.
"""
import dataclasses
from typing import Tuple

#: Human3.6M action id -> the conventional short name (ids as in `s_XX_act_YY` folders).
ACTION_NAMES = {
    2: "Directions", 3: "Discussion", 4: "Eating", 5: "Greeting", 6: "Phoning", 7: "Posing", 8: "Purchases",
    9: "Sitting", 10: "SittingDown", 11: "Smoking", 12: "Photo", 13: "Waiting", 14: "Walking", 15: "WalkDog",
    16: "WalkTogether",
}

#: Default frame subsampling of the test protocols.
FRAME_STEP = 64


@dataclasses.dataclass(frozen=True)
class Protocol:
    """One evaluation protocol: which subjects are evaluated and with which metric.

    Attributes:
      test_subjects: subject ids evaluated.
      train_subjects: subject ids used for training (documentation for data selection).
      metric: `"MPJPE"` or `"PA-MPJPE"`.
    """

    test_subjects: Tuple[int, ...]
    train_subjects: Tuple[int, ...]
    metric: str


PROTOCOLS = {
    1: Protocol(test_subjects=(11,), train_subjects=(1, 5, 6, 7, 8, 9), metric="PA-MPJPE"),
    2: Protocol(test_subjects=(9, 11), train_subjects=(1, 5, 6, 7, 8), metric="MPJPE"),
}
