"""The skeleton tables: `integral_keras.core.skeletons`, re-exported under their documented path."""
from integral_keras.core.skeletons import COCO  # noqa: F401
from integral_keras.core.skeletons import H36M  # noqa: F401
from integral_keras.core.skeletons import JOINT_ALIASES  # noqa: F401
from integral_keras.core.skeletons import MPII  # noqa: F401
from integral_keras.core.skeletons import SKELETONS  # noqa: F401
from integral_keras.core.skeletons import Skeleton  # noqa: F401
from integral_keras.core.skeletons import get_skeleton  # noqa: F401
from integral_keras.core.skeletons import joint_index_map  # noqa: F401
