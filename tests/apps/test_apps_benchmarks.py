"""Tests for integral_keras.apps.benchmarks (model, training): analytic MAC counts and the CLI."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import keras

from integral_keras import console
from integral_keras.apps.benchmarks import model as model_benchmark
from integral_keras.configs import ConfigError, ModelConfig


def test_layer_macs_by_hand():
    inputs = keras.Input((8, 6, 3))
    conv = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    grouped = keras.layers.Conv2D(6, 1, groups=2)
    depthwise = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    deconv = keras.layers.Conv2DTranspose(5, 4, strides=2, padding="same")
    dense = keras.layers.Dense(7)
    x = conv(inputs)  # (4, 3, 4)
    x = grouped(x)  # (4, 3, 6)
    x = depthwise(x)  # (4, 3, 12)
    x = deconv(x)  # (8, 6, 5)
    x = dense(x)  # (8, 6, 7)
    model = keras.Model(inputs, x)
    assert model_benchmark.layer_macs(conv) == 4 * 3 * 4 * 3 * 3 * 3
    assert model_benchmark.layer_macs(grouped) == 4 * 3 * 6 * 2  # 2 input channels per group
    assert model_benchmark.layer_macs(depthwise) == 4 * 3 * 6 * 2 * 3 * 3
    assert model_benchmark.layer_macs(deconv) == 4 * 3 * 12 * 5 * 4 * 4
    assert model_benchmark.layer_macs(dense) == 8 * 6 * 5 * 7
    assert model_benchmark.count_macs(model) == {"head": 1296 + 144 + 1296 + 11520 + 1680}


def test_count_macs_splits_backbone_and_head():
    config = ModelConfig.from_dict(dict(backbone="resnet18", method="H1", num_joints=2, input_size=64,
                                        heatmap_size=8, num_deconv=2, deconv_filters=16))
    row = model_benchmark.describe(config)
    # Head by hand: deconv 2x2x512 -> 16, deconv 4x4x16 -> 16, 1x1 conv 8x8x16 -> 2.
    head = 2 * 2 * 512 * 16 * 16 + 4 * 4 * 16 * 16 * 16 + 8 * 8 * 16 * 2
    assert row["head_gmacs"] == pytest.approx(head / 1e9)
    # ResNet-18 stem by hand: 7x7x3 -> 64 at 32x32 output.
    assert row["backbone_gmacs"] * 1e9 > 32 * 32 * 64 * 7 * 7 * 3
    assert row["model"] == "resnet18_H1_2d" and row["heatmap"] == "8x8"


def test_main_with_yaml_overrides_and_variants(tmp_path, capsys):
    path = tmp_path / "exp.yaml"
    path.write_text("model:\n  backbone: resnet18\n  num_joints: 2\n  input_size: 64\n  heatmap_size: 8\n"
                    "  num_deconv: 2\n  deconv_filters: 8\ntrain:\n  epochs: 3\n")
    code = model_benchmark.main(["benchmark.py", f"--config={path}",
                                 "--params_override=model.method=I2,model.depth=2",
                                 "--variants=model.integral=direct;model.integral=two_step"])
    out = capsys.readouterr().out
    assert code == 0
    assert "resnet18_I2_3d " in out and "resnet18_I2_3d_two_step" in out and "8x8x2" in out
    rows = [line for line in out.splitlines() if line.startswith("| resnet18")]
    assert len(rows) == 2
    expected = ModelConfig.from_dict(dict(backbone="resnet18", method="I2", depth=2, num_joints=2, input_size=64,
                                          heatmap_size=8, num_deconv=2, deconv_filters=8))
    params = model_benchmark.build_pose_model(expected).count_params()
    assert f"| {params / 1e6:.2f} |" in rows[0]


def test_main_reports_bad_keys(tmp_path, capsys):
    assert model_benchmark.main(["b", "--params_override=model.backbone=resnet7"]) == 2
    assert "model" not in capsys.readouterr().out
    with pytest.raises(ConfigError, match="train.epochs"):
        model_benchmark.load_model_config([], ["train.epochs=3"])
    assert model_benchmark.main(["b", f"--config={tmp_path / 'none.yaml'}"]) == 2
    assert "none.yaml" in capsys.readouterr().err


def test_training_benchmark_compares_precisions_to_float32():
    from integral_keras.apps.benchmarks import training as training_benchmark

    config = ModelConfig.from_dict(dict(backbone="resnet18", method="Istar", num_joints=2, input_size=32,
                                        heatmap_size=4, num_deconv=2, deconv_filters=8))
    results = training_benchmark.time_settings(config, ["none", "bfloat16"], batch_size=2, repeats=2, steps=1,
                                               warmup=1)
    assert list(results) == ["none", "bfloat16"]
    assert results["none"][1] == 1.0  # the reference setting, each round against itself
    assert all(rate > 0 and speedup > 0 for rate, speedup in results.values())
    assert keras.mixed_precision.dtype_policy().name == "float32"


def test_training_benchmark_steps_build_under_their_policy():
    from integral_keras.apps.benchmarks import training as training_benchmark

    config = ModelConfig.from_dict(dict(backbone="resnet18", method="I1", num_joints=2, input_size=64,
                                        heatmap_size=8, num_deconv=2, deconv_filters=8))
    step, resolved = training_benchmark.build_step(config, "bfloat16")
    assert resolved == "bfloat16"
    loss = step(np.zeros((1, 64, 64, 3), np.float32))
    assert loss.dtype == "float32" and np.isfinite(float(loss))


def test_the_benchmark_binary_prints_its_table_without_tensorflows_harmless_lines():
    root = pathlib.Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "benchmark.py"), "training", "--config_file=configs/demo_2d.yaml",
         "--params_override=model.hourglass_features=16", "--precisions=none", "--batch_size=2", "--repeats=1",
         "--steps=1", "--warmup=0"], capture_output=True, text=True, timeout=300, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| none |" in result.stdout
    assert not [line for line in result.stderr.splitlines() if console.harmless(line)], result.stderr[-3000:]
