"""train.mixed_precision: hardware detection for `auto`, and a dtype policy that does not leak out of the trainer."""
import keras
import pytest

from integral_keras.training import precision


@pytest.fixture
def hardware(monkeypatch):
    """Sets the GPUs' compute capabilities and the CPU flags that `native_bfloat16` sees."""

    def set_hardware(gpus=(), flags=()):
        monkeypatch.setattr(precision, "_gpu_capabilities", lambda: list(gpus))
        monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset(flags))
        precision.native_bfloat16.cache_clear()

    yield set_hardware
    precision.native_bfloat16.cache_clear()


def test_cpu_flags_of_the_first_processor(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Xeon\nflags\t\t: fpu avx512f amx_bf16 amx_tile\n\n"
                       "processor\t: 1\nflags\t\t: fpu\n")
    assert precision.cpu_flags(str(cpuinfo)) == {"fpu", "avx512f", "amx_bf16", "amx_tile"}
    assert precision.cpu_flags(str(tmp_path / "missing")) == frozenset()


@pytest.mark.parametrize("gpus, flags, expected", [
    ([(9, 0)], (), "bfloat16"),
    ([(8, 0), (9, 0)], (), "bfloat16"),
    ([(7, 5)], ("amx_bf16",), "none"),  # the model runs on the GPU: its capability decides
    ([(8, 6), (7, 0)], (), "none"),  # every replica must have it
    ([], ("avx512f", "amx_bf16"), "bfloat16"),
    ([], ("avx512f", "avx512_bf16"), "none"),  # no tile units: not measured faster
])
def test_auto_picks_bfloat16_only_on_native_hardware(hardware, gpus, flags, expected):
    hardware(gpus, flags)
    assert precision.resolve("auto") == expected


@pytest.mark.parametrize("setting", ["none", "float16", "bfloat16"])
def test_explicit_settings_are_kept(hardware, setting):
    hardware([], ("amx_bf16",))
    assert precision.resolve(setting) == setting


def test_unknown_setting_names_the_choices():
    with pytest.raises(ValueError, match=r"one of \('none', 'float16', 'bfloat16', 'auto'\); got 'fp8'"):
        precision.resolve("fp8")


def test_policy_applies_inside_the_block_only():
    assert keras.mixed_precision.dtype_policy().name == "float32"
    with precision.dtype_policy("bfloat16") as resolved:
        layer = keras.layers.Dense(2)
    assert resolved == "bfloat16"
    assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    assert keras.mixed_precision.dtype_policy().name == "float32"
    assert keras.layers.Dense(2).compute_dtype == "float32"


def test_policy_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with precision.dtype_policy("float16"):
            raise RuntimeError("model building failed")
    assert keras.mixed_precision.dtype_policy().name == "float32"
