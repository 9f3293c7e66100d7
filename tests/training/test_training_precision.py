"""train.mixed_precision: hardware detection for `auto`, and a dtype policy that does not leak out of the trainer."""
import keras
import pytest

from integral_keras.training import precision


@pytest.fixture
def hardware(monkeypatch):
    """Sets the GPUs' compute capabilities and the CPU flags that `native_bfloat16` sees."""

    def set_hardware(gpus=(), flags=()):
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
        monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
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
    ([], ("avx512f", "avx512_bf16"), "bfloat16"),  # AMD Zen 4: 1.3x faster without tile units
    ([], ("avx2", "fma"), "none"),
    ([], (), "none"),
])
def test_auto_picks_bfloat16_only_on_native_hardware(hardware, gpus, flags, expected):
    hardware(gpus, flags)
    assert precision.resolve("auto") == expected


@pytest.mark.parametrize("flags, environ, expected", [
    (("avx512_bf16",), {"ONEDNN_MAX_CPU_ISA": "AVX2"}, ""),  # oneDNN capped below the bfloat16 instructions
    (("avx512_bf16",), {"ONEDNN_MAX_CPU_ISA": "avx512_core_vnni"}, ""),
    (("avx512_bf16",), {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "CPU with AVX512-BF16"),
    (("avx512_bf16",), {"ONEDNN_MAX_CPU_ISA": "ALL"}, "CPU with AVX512-BF16"),
    (("avx512_bf16", "amx_bf16"), {}, "CPU with AMX-BF16"),
    (("avx512_bf16", "amx_bf16"), {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16"}, "CPU with AVX512-BF16"),
    (("avx512_bf16", "amx_bf16"), {"ONEDNN_MAX_CPU_ISA": "AVX10_1_512_AMX"}, "CPU with AMX-BF16"),
    (("amx_bf16",), {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, ""),
    (("amx_bf16",), {"ONEDNN_MAX_CPU_ISA": "no_such_isa"}, "CPU with AMX-BF16"),  # unknown name: no cap
    (("amx_bf16",), {"TF_ENABLE_ONEDNN_OPTS": "0"}, ""),  # TensorFlow's Eigen kernels emulate bfloat16
    (("amx_bf16",), {"TF_ENABLE_ONEDNN_OPTS": "1"}, "CPU with AMX-BF16"),
])
def test_cpu_bfloat16_only_where_onednn_may_use_it(hardware, monkeypatch, flags, environ, expected):
    hardware([], flags)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert precision.native_bfloat16() == expected
    assert precision.resolve("auto") == ("bfloat16" if expected else "none")


def test_every_bfloat16_isa_is_ranked():
    for _, isa, _ in precision.CPU_BFLOAT16:
        assert isa in precision.ONEDNN_ISA_RANKS
    ranks = precision.ONEDNN_ISA_RANKS
    assert ranks["avx2"] < ranks["avx512_core_bf16"] < ranks["avx512_core_amx"] == ranks["avx10_1_512_amx"]


@pytest.mark.parametrize("setting", ["none", "float16", "bfloat16"])
def test_explicit_settings_are_kept(hardware, setting):
    hardware([], ("amx_bf16",))
    assert precision.resolve(setting) == setting


def test_bfloat16_under_a_cap_below_the_cpus_instructions_is_refused(hardware, monkeypatch):
    hardware([], ("avx2", "avx512f", "avx512_bf16"))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    with pytest.raises(ValueError, match=r"bfloat16 instructions \(avx512_bf16\) but ONEDNN_MAX_CPU_ISA=AVX2 keeps "
                                         r"oneDNN from them.*AVX512_CORE_BF16 or above"):
        precision.resolve("bfloat16")
    assert precision.resolve("auto") == "none"
    assert precision.resolve("none") == "none"


@pytest.mark.parametrize("gpus, flags, environ", [
    ([], ("avx2",), {"ONEDNN_MAX_CPU_ISA": "AVX2"}),  # no bfloat16 instructions: TensorFlow uses Eigen kernels
    ([], ("avx512_bf16",), {"ONEDNN_MAX_CPU_ISA": "AVX2", "TF_ENABLE_ONEDNN_OPTS": "0"}),  # Eigen kernels
    ([], ("avx512_bf16",), {}),
    ([(9, 0)], ("avx512_bf16",), {"ONEDNN_MAX_CPU_ISA": "AVX2"}),  # the model runs on the GPU
])
def test_bfloat16_is_kept_where_it_runs(hardware, monkeypatch, gpus, flags, environ):
    hardware(gpus, flags)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert precision.resolve("bfloat16") == "bfloat16"


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
