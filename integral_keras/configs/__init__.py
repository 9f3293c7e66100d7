"""Typed experiment configs (dataclasses, YAML, strict dotted overrides)."""
from integral_keras.configs.base import Config, ConfigError
from integral_keras.configs.model_config import ModelConfig
from integral_keras.configs.data_config import DataConfig
from integral_keras.configs.train_config import EvalConfig, TrainConfig
from integral_keras.configs.experiment import ExperimentConfig, load_experiment
