"""Tests for integral_keras.apps.benchmarks.environment: the CPU model and ISA read from a /proc/cpuinfo text, and
the settings rows of the benchmark tables."""
from integral_keras.apps.benchmarks import environment

# Two processors of a hand-written x86 /proc/cpuinfo (fields and spacing as the kernel writes them).
X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_bf16 amx_bf16 amx_tile amx_int8
power management:

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_bf16 amx_bf16 amx_tile amx_int8
"""
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid sve
CPU implementer\t: 0x41
"""


def test_parse_cpuinfo_names_the_model_isa_and_processors():
    info = environment.parse_cpuinfo(X86_CPUINFO)
    assert info == environment.CpuInfo("Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", "AMX", 2)


def test_isa_level_takes_the_best_level_the_flags_show():
    assert environment.isa_level(["avx2", "avx512f", "amx_tile"]) == "AMX"
    assert environment.isa_level(["avx2", "amx_bf16"]) == "AMX"
    assert environment.isa_level(["avx2", "avx512f", "avx512_bf16"]) == "AVX-512"  # AMD Zen 4: no AMX
    assert environment.isa_level(["sse4_2", "avx", "avx2", "fma"]) == "AVX2"
    assert environment.isa_level(["sse4_2", "avx"]) == "below AVX2"
    assert environment.isa_level([]) == "below AVX2"
    # Whole flags only: avx512_bf16 is not avx512f.
    assert environment.isa_level(["avx2", "avx512_bf16"]) == "AVX2"


def test_parse_cpuinfo_without_model_or_flags():
    info = environment.parse_cpuinfo(ARM_CPUINFO)
    assert info == environment.CpuInfo("unknown", "below AVX2", 1)  # ARM: Features, no x86 vector ISA
    assert environment.parse_cpuinfo("") == environment.CpuInfo("unknown", "unknown", 0)


def test_cpu_info_reads_a_file_and_survives_a_missing_one(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(X86_CPUINFO.replace("amx_bf16 amx_tile amx_int8", ""), encoding="utf-8")
    assert environment.cpu_info(str(path)).isa == "AVX-512"
    assert environment.cpu_info(str(tmp_path / "missing")) == environment.CpuInfo("unknown", "unknown", 0)


def test_environment_rows_name_the_cpu_the_onednn_settings_and_the_threads():
    cpu = environment.CpuInfo("Some CPU", "AVX2", 4)
    torch_rows = [("PyTorch", "9.9"), ("torch intra-op / inter-op threads", "2 / 2")]
    rows = dict(environment.environment_rows(cpu, torch_rows, environ={"ONEDNN_MAX_CPU_ISA": "AVX2"}))
    assert rows["CPU"] == "Some CPU" and rows["ISA (CPU flags)"] == "AVX2"
    assert rows["ONEDNN_MAX_CPU_ISA"] == "AVX2" and rows["TF_ENABLE_ONEDNN_OPTS"] == "unset"
    assert rows["cores usable / logical"].endswith("/ 4")
    assert "TensorFlow" in rows and "TF intra-op / inter-op threads" in rows
    assert rows["PyTorch"] == "9.9" and list(rows)[-1] == "torch intra-op / inter-op threads"
    table = environment.markdown_rows([("CPU", "Some CPU"), ("ISA", "AVX2")])
    assert table.splitlines() == ["| setting | value |", "|---|---|", "| CPU | Some CPU |", "| ISA | AVX2 |"]
