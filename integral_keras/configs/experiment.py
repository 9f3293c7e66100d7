"""`ExperimentConfig(model, data, train, eval)` and `load_experiment`: YAML files + dotted overrides.

Example:

    config = load_experiment(["configs/synthetic_2d.yaml"], ["train.total_steps=200", "model.method=I2"])
"""
import dataclasses
import re
from typing import Iterable, Optional, Sequence, Union

from integral_keras.configs.base import Config, ConfigError
from integral_keras.configs.data_config import DataConfig
from integral_keras.configs.model_config import ModelConfig
from integral_keras.configs.paper_numbers import PaperReference
from integral_keras.configs.train_config import EvalConfig, TrainConfig
from integral_keras.core import skeletons

# Splits "a.b=1,c=(2, 3)" at the commas that start a new `key=`, not at commas inside values.
_OVERRIDE_SPLIT = re.compile(r",(?=\s*[A-Za-z_][\w.]*\s*=)")


@dataclasses.dataclass
class ExperimentConfig(Config):
    """One experiment: network, data, training and evaluation settings; `paper` names the table row of the paper
    it reproduces and the numbers reported there (`configs/paper/`; empty elsewhere).

    `name` prefixes the model's exported name: the one naming rule of `scripts/export.py` and the demo is
    `modeling.pose_model.export_name` (`<name>_<model_name>`, e.g. `demo_hourglass_Istar_2d_128features`, or
    `model_name` alone when `name` is empty)."""

    name: str = ""
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    paper: PaperReference = dataclasses.field(default_factory=PaperReference)

    def validate(self) -> None:
        super().validate()
        num_joints = skeletons.get_skeleton(self.data.skeleton).num_joints
        if self.model.num_joints != num_joints:
            raise ConfigError("model.num_joints", f"is {self.model.num_joints} but data.skeleton "
                                                  f"{self.data.skeleton!r} has {num_joints} joints")
        if self.eval.root_joint >= self.model.num_joints:
            raise ConfigError("eval.root_joint", f"invalid value {self.eval.root_joint}; allowed range is "
                                                 f"[0, {self.model.num_joints - 1}]")
        if self.train.heatmap_pretrain_steps and not (self.model.outputs_heatmaps and self.model.outputs_joints):
            raise ConfigError("train.heatmap_pretrain_steps",
                              f"applies to the methods with both losses (I1, I2, I3); method is "
                              f"{self.model.method!r} (set it to 0)")


def split_overrides(params_override: Union[None, str, Iterable[str]]) -> list:
    """`"a=1,b.c=2"` or `["a=1", "b.c=2,d=3"]` -> `["a=1", "b.c=2", "d=3"]` (tuple values keep their commas)."""
    if params_override is None:
        return []
    if isinstance(params_override, str):
        params_override = [params_override]
    items = []
    for text in params_override:
        items.extend(part.strip() for part in _OVERRIDE_SPLIT.split(text) if part.strip())
    return items


def load_experiment(config_files: Sequence[str] = (),
                    params_override: Optional[Union[str, Iterable[str]]] = None) -> ExperimentConfig:
    """Builds an experiment from YAML files (merged in order) and strict dotted overrides.

    Args:
      config_files: YAML paths; later files override earlier ones key by key.
      params_override: `"key.sub=value"` strings (or one comma-separated string), applied last.

    Returns:
      The validated `ExperimentConfig`.

    Raises:
      FileNotFoundError: a config file does not exist (naming it).
      ConfigError: an unknown key or bad value (naming the dotted key and the valid keys / values).
    """
    if isinstance(config_files, str):
        config_files = [config_files]
    config = ExperimentConfig.from_yaml(*config_files) if config_files else ExperimentConfig.from_dict({})
    overrides = split_overrides(params_override)
    return config.override(overrides) if overrides else config
