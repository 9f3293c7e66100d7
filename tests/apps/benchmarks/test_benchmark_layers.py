"""The layers benchmark's building blocks (`floor_functions`) and its table."""
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.apps.benchmarks import layers


@pytest.mark.parametrize("num_joints, depth", [(3, 1), (2, 4)], ids=["2d", "3d"])
def test_floor_blocks_match_numpy(num_joints, depth):
    rng = np.random.default_rng(0)
    logits = rng.normal(0.0, 3.0, (2, 5, 6, num_joints * depth)).astype(np.float32)
    cells = logits.reshape(2, 5, 6, num_joints, depth)
    peak = cells.max(axis=(1, 2, 4))
    expected = {
        "max": peak,
        "sum over H": logits.sum(axis=1),
        "exp + sum over H": np.exp(logits).sum(axis=1),
        "max, exp, sum over H": np.exp(cells - peak[:, None, None, :, None]).sum(axis=1),
    }
    blocks = layers.floor_functions(num_joints, depth)
    assert sorted(blocks) == sorted(layers.FLOOR_PREFIX + name for name in expected)
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(blocks[layers.FLOOR_PREFIX + name](tf.constant(logits))), value,
                                   rtol=1e-5, err_msg=name)


def test_max_exp_sum_is_stable_for_large_logits():
    # One joint, two depth bins, H = 2, W = 1: every logit 1e4 (exp overflows float32) but one, 1e4 + 1.
    logits = np.full((1, 2, 1, 2), 1e4, np.float32)
    logits[0, 1, 0, 0] += 1.0
    result = np.asarray(layers.floor_functions(1, 2)[layers.FLOOR_PREFIX + "max, exp, sum over H"](
        tf.constant(logits)))
    assert result.shape == (1, 1, 1, 2)
    np.testing.assert_allclose(result[0, 0, 0], [1.0 + np.exp(-1.0), 2.0 * np.exp(-1.0)], rtol=1e-6)


def test_table_gives_the_verdict_on_the_layer_and_none_on_floor_rows():
    results = {"3d": {"forward": (500.0, 100.0), "IntegralRegression": (20.0, 4.0),
                      layers.FLOOR_PREFIX + "max": (5.0, 1.0)}}
    table = layers.format_table(results).splitlines()
    assert table[2] == "| 3d (64x64x64, K=17) | IntegralRegression | 500.0 | 20.00 | 4.00 % | < 3 %: MISSED |"
    assert table[3] == "| 3d (64x64x64, K=17) | floor: max | 500.0 | 5.00 | 1.00 % |  |"
