"""The oneDNN verbose summariser on hand-written log lines of both formats, and on a real TensorFlow log."""
import os
import subprocess
import sys

import pytest

from integral_keras.apps.benchmarks import onednn_profile

V3_CONV_FWD = ("onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx2,forward_training,"
               "src:f32::blocked:acdb::f0 wei:f32:a:blocked:Acdb8a::f0 bia:f32::blocked:a::f0 "
               "dst:f32::blocked:acdb::f0,attr-scratchpad:user,alg:convolution_direct,"
               "mb8_ic64oc64_ih64oh64kh3sh1dh0ph1_iw64ow64kw3sw1dw0pw1,2.5")
V3_CONV_BWD = ("onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_bwd_w:avx2,backward_weights,"
               "src:f32 wei:f32 dst:f32,attr-scratchpad:user,alg:convolution_direct,mb8_ic64oc64,4.25")
V3_WITH_TIMESTAMP = ("onednn_verbose,1796520134030.5,v1,primitive,exec,cpu,convolution,jit:avx2,"
                     "forward_training,src:f32 dst:f32,,alg:convolution_direct,mb8_ic3oc64,1.5")
V2_REORDER = "dnnl_verbose,exec,cpu,reorder,jit:uni,undef,src_f32::blocked:abcd:f0 dst_f32::blocked:acdb:f0,,,8x3x256x256,0.75"
NOT_EXECUTIONS = [
    "onednn_verbose,v1,info,oneDNN v3.7.0 (commit abc)",
    "onednn_verbose,v1,primitive,create:cache_miss,cpu,convolution,brg_conv_fwd:avx2,forward_training,src:f32,,,mb8,0.1",
    "| none | 63.00 | 1.00x |",
    "",
]


def test_each_format_parses_into_kind_implementation_propagation_and_time():
    assert onednn_profile.parse_line(V3_CONV_FWD) == onednn_profile.Execution(
        "convolution", "brg_conv_fwd:avx2", "forward_training", 2.5)
    assert onednn_profile.parse_line(V3_WITH_TIMESTAMP) == onednn_profile.Execution(
        "convolution", "jit:avx2", "forward_training", 1.5)
    assert onednn_profile.parse_line(V2_REORDER) == onednn_profile.Execution("reorder", "jit:uni", "undef", 0.75)
    for line in NOT_EXECUTIONS:
        assert onednn_profile.parse_line(line) is None


def test_an_exec_line_without_a_time_names_the_line():
    with pytest.raises(ValueError, match="without a time in its last field: onednn_verbose,v1,primitive,exec"):
        onednn_profile.parse_line(V3_CONV_FWD.rsplit(",", 1)[0] + ",fast")


def test_groups_sum_by_kind_and_propagation_most_expensive_first():
    lines = [V3_CONV_FWD, V3_CONV_BWD, V3_WITH_TIMESTAMP, V2_REORDER, V3_CONV_FWD] + NOT_EXECUTIONS
    groups = onednn_profile.summarize(lines)
    assert [(g.kind, g.propagation, g.calls, g.milliseconds, g.implementations) for g in groups] == [
        ("convolution", "forward_training", 3, 6.5, ("brg_conv_fwd:avx2", "jit:avx2")),
        ("convolution", "backward_weights", 1, 4.25, ("brg_conv_bwd_w:avx2",)),
        ("reorder", "undef", 1, 0.75, ("jit:uni",)),
    ]
    table = onednn_profile.format_table(groups, steps=2).splitlines()
    assert table[0] == "| primitive | propagation | calls | ms | share | ms / step | implementations |"
    # 6.5 of 11.5 ms = 56.5 %, 3.25 ms per step over 2 steps
    assert table[2] == "| convolution | forward_training | 3 | 6.5 | 56.5 % | 3.2 | brg_conv_fwd:avx2 jit:avx2 |"
    assert table[-1] == "| all oneDNN |  | 5 | 11.5 | 100.0 % | 5.8 |  |"
    assert "ms / step" not in onednn_profile.format_table(groups)


def test_main_prints_the_table_and_refuses_a_log_without_executions(tmp_path, capsys):
    log = tmp_path / "verbose.log"
    log.write_text("\n".join([V3_CONV_FWD, V2_REORDER]) + "\n")
    assert onednn_profile.main(["benchmark.py", str(log)]) == 0
    assert "| convolution | forward_training | 1 | 2.5 | 76.9 % | brg_conv_fwd:avx2 |" in capsys.readouterr().out
    empty = tmp_path / "plain.log"
    empty.write_text("no verbose output here\n")
    assert onednn_profile.main(["benchmark.py", str(empty)]) == 2
    assert "no oneDNN executions in" in capsys.readouterr().err
    assert onednn_profile.main(["benchmark.py", str(tmp_path / "missing.log")]) == 2
    assert "cannot read oneDNN log" in capsys.readouterr().err


def test_a_real_tensorflow_verbose_log_is_read():
    """TensorFlow's bundled oneDNN, a convolution forward and backward under ONEDNN_VERBOSE=1."""
    code = ("import tensorflow as tf\n"
            "x = tf.random.normal([2, 16, 16, 8]); w = tf.Variable(tf.random.normal([3, 3, 8, 8]))\n"
            "with tf.GradientTape() as tape:\n"
            "    y = tf.reduce_sum(tf.nn.conv2d(x, w, 1, 'SAME'))\n"
            "tape.gradient(y, w)\n")
    env = dict(os.environ, ONEDNN_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                            check=True)
    groups = onednn_profile.summarize((result.stdout + result.stderr).splitlines())
    propagations = {(g.kind, g.propagation) for g in groups}
    assert ("convolution", "forward_training") in propagations or ("convolution", "forward_inference") in \
        propagations, propagations
    assert ("convolution", "backward_weights") in propagations, propagations
    assert all(g.milliseconds >= 0 and g.calls > 0 for g in groups)


def test_the_benchmark_binary_runs_the_onednn_subcommand(tmp_path):
    log = tmp_path / "verbose.log"
    log.write_text(V3_CONV_BWD + "\n")
    script = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "benchmark.py")
    result = subprocess.run([sys.executable, script, "onednn", str(log), "--steps=1"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("| convolution | backward_weights | 1 | 4.2 | 100.0 % | 4.2 | brg_conv_bwd_w:avx2 |"
            in result.stdout), result.stdout
