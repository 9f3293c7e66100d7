"""Tests for the PyTorch comparison of integral_keras.apps.benchmarks.training that need no torch: the interleaved
rounds, the tables and the errors (timings are never asserted)."""
import sys

import pytest

from integral_keras.apps.benchmarks import torch_reference
from integral_keras.apps.benchmarks import training as training_benchmark
from integral_keras.configs import ModelConfig


def test_time_interleaved_alternates_the_sides_round_by_round():
    calls = []

    def recorder(label):
        def step():
            calls.append(label)
            return 1.0

        return step

    seconds = training_benchmark.time_interleaved({"ours": recorder("ours"), "torch": recorder("torch")}, repeats=3,
                                                  steps=2, warmup=1)
    assert calls == ["ours", "torch"] + ["ours"] * 2 + ["torch"] * 2 + ["torch"] * 2 + ["ours"] * 2 + \
        ["ours"] * 2 + ["torch"] * 2
    assert {label: len(values) for label, values in seconds.items()} == {"ours": 3, "torch": 3}


def test_reference_table_gives_each_round_and_the_median_ratio():
    rates = {"none": [2.0, 3.0, 8.0], "torch": [4.0, 2.0, 4.0]}
    lines = training_benchmark.reference_table(rates, ["none"]).splitlines()
    assert lines[0] == "| round | none img/s | torch img/s | none / torch |"
    assert lines[2] == "| 1 | 2.00 | 4.00 | 0.50x |"
    assert lines[4] == "| 3 | 8.00 | 4.00 | 2.00x |"
    # Medians: of the rates, and of the rounds' ratios (0.5, 1.5, 2.0), not the ratio of the medians.
    assert lines[-1] == "| median | 3.00 | 4.00 | 1.50x |"
    table = training_benchmark.precision_table({"none": [2.0, 4.0], "bfloat16": [3.0, 8.0]}, ["none", "bfloat16"])
    assert table.splitlines()[-1] == "| bfloat16 | 5.50 | 1.75x |"


def test_run_rejects_an_unknown_reference():
    with pytest.raises(ValueError, match=r"--reference: unknown 'jax'; choose from \['none', 'torch'\]"):
        training_benchmark.run(["configs/demo_2d.yaml"], reference="jax")


def test_run_rejects_an_unknown_torch_precision_before_building_a_model(monkeypatch):
    monkeypatch.setattr(training_benchmark, "round_rates", lambda *args: pytest.fail("a model was built"))
    expected = r"--torch_precision: unknown 'float16'; choose from \['float32', 'bfloat16'\]"
    with pytest.raises(ValueError, match=expected):
        training_benchmark.run(["configs/demo_2d.yaml"], reference="torch", torch_precision="float16")


def test_run_refuses_bfloat16_where_it_cannot_run_before_building_a_model(monkeypatch):
    from integral_keras.training import precision  # pylint: disable=import-outside-toplevel

    monkeypatch.setattr(precision, "_gpu_capabilities", lambda: [])
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.setattr(training_benchmark, "round_rates", lambda *args: pytest.fail("a model was built"))
    with pytest.raises(ValueError, match=r"ONEDNN_MAX_CPU_ISA=AVX2 keeps oneDNN from them"):
        training_benchmark.run(["configs/demo_2d.yaml"], precisions=["none", "bfloat16"])


def test_the_reference_names_unsupported_networks():
    hourglass = ModelConfig.from_dict(dict(backbone="hourglass", method="Istar", num_joints=2, input_size=64,
                                           heatmap_size=16))
    with pytest.raises(ValueError, match=r"model.backbone='hourglass'; supported: \['resnet18'.*'resnet101'"):
        torch_reference.check_supported(hourglass)
    two_step = ModelConfig.from_dict(dict(backbone="resnet18", method="I1", num_joints=2, input_size=64,
                                          heatmap_size=8, num_deconv=2, integral="two_step"))
    with pytest.raises(ValueError, match="model.integral='two_step'"):
        torch_reference.check_supported(two_step)


def test_without_torch_the_reference_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    with pytest.raises(ImportError, match=r"bench.*extra.*pip install -e \.\[tensorflow,bench\]"):
        torch_reference.import_torch()
