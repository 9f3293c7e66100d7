"""Fault injection into configs and the binaries' error path: every non-finite or out-of-range number is refused
naming its key, and a bad setting ends a binary with one line and the usage exit status."""
import os
import subprocess
import sys

import pytest

from integral_keras.configs import ConfigError, TrainConfig, cli
from integral_keras.configs.data_config import AugmentationConfig
from integral_keras.configs.experiment import load_experiment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(ROOT, "configs", "synthetic_2d.yaml")


@pytest.mark.parametrize("override", [
    "data.augmentation.scale_factor=nan", "data.augmentation.rotation_factor=inf",
    "data.augmentation.translation_factor=-inf", "data.augmentation.color_factor=1.5",
    "data.augmentation.flip_prob=nan", "data.augmentation.flip_prob=1.01", "data.augmentation.rotation_prob=-0.1",
    "data.mix_2d_ratio=nan", "data.mix_2d_ratio=1.0", "data.mix_2d_ratio=0",
    "train.learning_rate=nan", "train.learning_rate=inf", "train.learning_rate=0",
    "model.beta=nan", "model.beta=-inf",
    "train.heatmap_loss_weight=nan", "train.joint_loss_weight=inf", "train.joint_loss_weight=-1",
    "train.total_steps=99999999999999999999", "train.min_learning_rate=1e400",
])
def test_non_finite_and_out_of_range_numbers_are_refused_naming_the_key(override):
    key, value = override.split("=")
    with pytest.raises(ConfigError) as raised:
        load_experiment([CONFIG], [override])
    assert raised.value.key == key
    assert value.lstrip("-").rstrip("0").rstrip(".") in str(raised.value).lower() or "finite" in str(raised.value)


def test_values_set_in_code_are_checked_too():
    with pytest.raises(ConfigError, match="learning_rate.*finite"):
        TrainConfig(learning_rate=float("nan")).validate()
    with pytest.raises(ConfigError, match="lr_values.*finite"):
        TrainConfig(lr_schedule="step", lr_boundaries=(10,), lr_values=(float("inf"),)).validate()
    with pytest.raises(ConfigError, match="scale_factor"):
        AugmentationConfig(scale_factor=float("nan")).validate()
    with pytest.raises(ConfigError, match="64-bit"):
        TrainConfig(total_steps=2 ** 70).validate()


def test_yaml_nan_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  learning_rate: .nan\n")
    with pytest.raises(ConfigError, match="train.learning_rate: invalid value nan; must be a finite number"):
        load_experiment([CONFIG, str(path)])


@pytest.mark.slow
def test_binary_prints_one_line_and_exits_with_the_usage_status(tmp_path):
    command = [sys.executable, "scripts/train.py", f"--config_file={CONFIG}", f"--model_dir={tmp_path}",
               "--params_override=train.learning_rate=nan"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == cli.USAGE_EXIT_CODE
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "train.learning_rate" in line]
    assert lines == ["train.py: config error: train.learning_rate: invalid value nan; must be a finite number "
                     "(--verbose shows the traceback)"]

    verbose = subprocess.run(command + ["--verbose"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert verbose.returncode not in (0, cli.USAGE_EXIT_CODE)
    assert "Traceback" in verbose.stderr and "ConfigError: train.learning_rate" in verbose.stderr
