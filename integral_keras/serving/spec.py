"""`ServingSpec`: what an exported model needs to know besides its weights.

The export functions take a model config (or a plain dict of the same fields)
and read only these values, so an exported artifact is self-describing: the
spec is written next to the SavedModel as `serving_spec.json`.
"""
import dataclasses
import json
import numbers
from typing import Any, Mapping, Optional, Tuple

from integral_keras.codecs import PoseCodec
from integral_keras.core import methods

SPEC_FILENAME = "serving_spec.json"


@dataclasses.dataclass(frozen=True)
class ServingSpec:
    """Describes an exported pose model.

    Attributes:
      method: Training method (`R1`, `H1`-`H3`, `I1`-`I3`, `Istar`); it decides
        how joints and confidences are decoded from the model outputs.
      num_joints: K.
      input_size: Model input `(height, width)` in pixels (an int means square).
      heatmap_size: Heat-map `(height, width)` in cells (an int means square).
      depth: Heat-map depth bins D; 1 for 2D models.
      depth_range_mm: Depth span of the D bins, centred on the root joint: the
        model config's `depth_range_mm`, so the export decodes depth in mm
        exactly as the training run's codec did.
      beta: Softmax sharpness the integral layers use; the confidence of
        integral models uses the same softmax.
      name: Model name, the `<name>` of `saved_models/<name>/<version>/` and of
        TF Serving's `MODEL_NAME`.
      box_padding: A person box `[x, y, w, h]` is enlarged by this factor around
        its centre (after matching the input's aspect ratio) before cropping.
      confidence_radius: Integral models: half-width in cells of the square
        window whose softmax mass is the joint confidence (1: 3x3 cells).
      skeleton: Skeleton name (`mpii`, `coco`, `h36m`) for drawing, or None.
    """

    method: str
    num_joints: int
    input_size: Tuple[int, int]
    heatmap_size: Tuple[int, int]
    depth: int = 1
    depth_range_mm: float = 2000.0
    beta: float = 1.0
    name: str = "integral_pose"
    box_padding: float = 1.25
    confidence_radius: int = 1
    skeleton: Optional[str] = None

    def __post_init__(self):
        methods.check_method(self.method)
        # The codec validates the geometry and normalises sizes to (height, width).
        codec = self.codec()
        object.__setattr__(self, "input_size", codec.input_size)
        object.__setattr__(self, "heatmap_size", codec.heatmap_size)
        if isinstance(self.confidence_radius, bool) or not isinstance(self.confidence_radius, numbers.Integral) \
                or self.confidence_radius < 0:
            raise ValueError(f"ServingSpec.confidence_radius must be an int >= 0; got {self.confidence_radius!r}.")
        for field in ("beta", "box_padding"):
            if not getattr(self, field) > 0:
                raise ValueError(f"ServingSpec.{field} must be > 0; got {getattr(self, field)!r}.")
        if not self.name or "/" in self.name or self.name in (".", ".."):
            raise ValueError(f"ServingSpec.name must be a plain directory name; got {self.name!r}.")

    def codec(self) -> PoseCodec:
        """The `PoseCodec` that maps this model's heat-map units to pixels and millimetres
        (`PoseCodec.from_config`, as in training, so an export decodes like the run that trained it)."""
        return PoseCodec.from_config(self)

    @property
    def is_3d(self) -> bool:
        return self.depth > 1

    @classmethod
    def from_config(cls, config_or_params: Any, **overrides) -> "ServingSpec":
        """Builds a spec from a config object or a dict of parameters.

        Args:
          config_or_params: A `ServingSpec`; a `ModelConfig`; an experiment
            config with `.model` (and optionally `.data.skeleton`); or a mapping
            with the fields of this class (unknown keys are an error).
          **overrides: Field values that take precedence (e.g. `name=...`).

        Returns:
          A validated `ServingSpec`.
        """
        if isinstance(config_or_params, ServingSpec):
            values = dataclasses.asdict(config_or_params)
        elif isinstance(config_or_params, Mapping):
            values = dict(config_or_params)
        else:
            values = _values_from_config(config_or_params)
        values.update({key: value for key, value in overrides.items() if value is not None})
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown ServingSpec keys {unknown}; valid keys: {sorted(known)}.")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ServingSpec":
        return cls.from_config(json.loads(text))


def _values_from_config(config) -> dict:
    """Reads the spec fields from a `ModelConfig` or an experiment config holding one."""
    model = getattr(config, "model", config)
    try:
        values = {
            "method": model.method,
            "num_joints": model.num_joints,
            "input_size": model.input_size,
            "heatmap_size": model.heatmap_size,
            "depth": model.depth,
            "depth_range_mm": model.depth_range_mm,
            "beta": getattr(model, "softmax_beta", model.beta),
        }
    except AttributeError as error:
        raise TypeError(
            f"Expected a ServingSpec, a ModelConfig, an experiment config with `.model`, or a dict; "
            f"got {type(config).__name__} ({error})."
        ) from None
    skeleton = getattr(getattr(config, "data", None), "skeleton", None)
    if skeleton is not None:
        values["skeleton"] = skeleton
    return values
