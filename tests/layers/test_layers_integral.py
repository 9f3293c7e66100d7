"""Tests of HeatmapSoftmax, IntegralRegression and TwoStepIntegral (TF backend)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import layers_reference as ref
from integral_keras.layers import HeatmapSoftmax, IntegralRegression, TwoStepIntegral

TOL = 2e-4
# (num_joints, depth, height, width): 2D and 3D, non-square maps.
SHAPES = [(3, 1, 12, 10), (2, 6, 8, 10)]
BETAS = [0.5, 1.0, 3.0]


def _random_logits(num_joints, depth, height, width, batch=2, scale=2.0):
    return (scale * np.random.randn(batch, height, width, num_joints * depth)).astype(np.float32)


@pytest.mark.parametrize("num_joints,depth,height,width", SHAPES)
@pytest.mark.parametrize("beta", BETAS)
def test_matches_numpy_reference(num_joints, depth, height, width, beta):
    logits = _random_logits(num_joints, depth, height, width)

    probs = HeatmapSoftmax(num_joints, depth, beta=beta)(logits)
    np.testing.assert_allclose(probs, ref.softmax_channels(logits, num_joints, depth, beta), atol=TOL)

    joints = IntegralRegression(num_joints, depth, beta=beta)(logits)
    expected = ref.integral(logits, num_joints, depth, beta)
    assert joints.shape == (2, num_joints, 2 if depth == 1 else 3)
    np.testing.assert_allclose(joints, expected, atol=TOL)

    two_step = TwoStepIntegral(num_joints, depth, beta=beta)(logits)
    np.testing.assert_allclose(two_step["joints"], expected, atol=TOL)
    expected_marginals = ref.marginals(logits, num_joints, depth, beta)
    assert sorted(two_step) == sorted(["joints"] + list(expected_marginals))
    for key, value in expected_marginals.items():
        np.testing.assert_allclose(two_step[key], value, atol=TOL, err_msg=key)


@pytest.mark.parametrize("num_joints,depth,height,width", SHAPES)
def test_debias_matches_formula(num_joints, depth, height, width):
    # Non-negative logits: C > M, the regime the correction is meant for.
    logits = np.abs(_random_logits(num_joints, depth, height, width, scale=1.5))
    joints = IntegralRegression(num_joints, depth, beta=2.0, debias=True)(logits)
    expected = ref.debiased_integral(logits, num_joints, depth, 2.0)
    np.testing.assert_allclose(joints, expected, atol=TOL)


def test_softmax_sums_to_one_per_joint():
    logits = _random_logits(4, 3, 9, 7, scale=5.0)
    probs = np.asarray(HeatmapSoftmax(4, 3)(logits)).reshape(2, 9, 7, 4, 3)
    np.testing.assert_allclose(probs.sum(axis=(1, 2, 4)), np.ones((2, 4)), atol=1e-5)
    assert (probs >= 0).all()


def test_sharp_peak_decodes_to_its_cell():
    logits = np.full((1, 16, 12, 2 * 5), -30.0, np.float32)
    peaks = [(7, 3, 1), (2, 14, 4)]  # (x, y, z) per joint
    for k, (x, y, z) in enumerate(peaks):
        logits[0, y, x, k * 5 + z] = 30.0
    joints = IntegralRegression(2, depth=5)(logits)
    np.testing.assert_allclose(joints[0], np.array(peaks, np.float32), atol=1e-4)


def test_off_grid_blob_decodes_to_its_subcell_centre():
    # softmax(-r^2 / 2 sigma^2) is a Gaussian sampled on the grid; with sigma =
    # 1.5 cells its discrete mean equals the continuous one to ~1e-9.
    logits = ref.log_gaussian_logits(32, 32, centre_xy=(10.3, 20.6), sigma=1.5)
    joints = np.asarray(IntegralRegression(1)(logits))
    np.testing.assert_allclose(joints[0, 0], [10.3, 20.6], atol=1e-3)


def test_debias_removes_most_of_the_pull_to_the_centre():
    true_xy = np.array([6.0, 8.0])
    logits = ref.gaussian_logits(64, 64, centre_xy=true_xy, sigma=1.5, amplitude=4.0)
    plain = np.asarray(IntegralRegression(1)(logits))[0, 0]
    debiased = np.asarray(IntegralRegression(1, debias=True)(logits))[0, 0]
    plain_error = np.linalg.norm(plain - true_xy)
    debiased_error = np.linalg.norm(debiased - true_xy)
    # Pulled towards the centre (31.5, 31.5) by many cells.
    assert plain_error > 10.0
    assert np.all(plain > true_xy)
    assert debiased_error < 0.01 * plain_error


def test_debias_of_a_flat_map_is_the_centre():
    logits = np.zeros((1, 8, 10, 2), np.float32)
    joints = IntegralRegression(2, debias=True)(logits)
    np.testing.assert_allclose(joints, np.broadcast_to([4.5, 3.5], (1, 2, 2)), atol=1e-3)


@pytest.mark.parametrize("policy,input_dtype", [("mixed_float16", "float16"), ("mixed_bfloat16", "bfloat16")])
def test_mixed_precision_computes_in_float32(policy, input_dtype):
    num_joints, depth = 2, 4
    logits = tf.cast(_random_logits(num_joints, depth, 16, 16, scale=4.0), input_dtype)
    # Reference on the (exactly representable) low-precision values in float64:
    # a float16 softmax/expectation would be off by ~1e-2 cells here.
    quantised = tf.cast(logits, tf.float32).numpy()
    expected = ref.integral(quantised, num_joints, depth, 1.0)
    for layer in (IntegralRegression(num_joints, depth, dtype=policy),
                  IntegralRegression(num_joints, depth, debias=True, dtype=policy)):
        joints = layer(logits)
        assert joints.dtype == tf.float32
        if not layer.debias:
            np.testing.assert_allclose(joints, expected, atol=TOL)
    two_step = TwoStepIntegral(num_joints, depth, dtype=policy)(logits)
    assert {v.dtype for v in two_step.values()} == {tf.float32}
    np.testing.assert_allclose(two_step["joints"], expected, atol=TOL)
    probs = HeatmapSoftmax(num_joints, depth, dtype=policy)(logits)
    assert probs.dtype == tf.float32
    np.testing.assert_allclose(probs, ref.softmax_channels(quantised, num_joints, depth, 1.0), atol=TOL)

    # Symbolic outputs under the policy are declared float32 as well.
    inputs = keras.Input((16, 16, num_joints * depth), dtype=input_dtype)
    outputs = TwoStepIntegral(num_joints, depth, dtype=policy)(inputs)
    assert {v.dtype for v in outputs.values()} == {"float32"}


def _extreme_logits(num_joints, depth):
    """Random +-1e4 logits and a single +1e4 peak on a -1e4 floor."""
    rng = np.random.default_rng(1)
    random = rng.choice([-1e4, 1e4], size=(1, 8, 8, num_joints * depth)) * rng.random((1, 8, 8, num_joints * depth))
    peak = np.full((1, 8, 8, num_joints * depth), -1e4)
    peak[0, 5, 2, ::depth] = 1e4  # depth slice 0 of every joint
    return np.concatenate([random, peak]).astype(np.float32)


@pytest.mark.parametrize("depth", [1, 4])
def test_extreme_logits_give_finite_outputs_and_gradients(depth):
    num_joints = 2
    logits = tf.constant(_extreme_logits(num_joints, depth))
    layers = [
        HeatmapSoftmax(num_joints, depth),
        IntegralRegression(num_joints, depth, beta=2.0),
        IntegralRegression(num_joints, depth, debias=True),
        TwoStepIntegral(num_joints, depth),
    ]
    for layer in layers:
        with tf.GradientTape() as tape:
            tape.watch(logits)
            outputs = layer(logits)
            loss = tf.add_n([tf.reduce_sum(o * tf.random.normal(tf.shape(o))) for o in tf.nest.flatten(outputs)])
        grad = tape.gradient(loss, logits)
        for output in tf.nest.flatten(outputs):
            assert np.isfinite(output.numpy()).all(), layer.name
        assert np.isfinite(grad.numpy()).all(), layer.name
    # The single +1e4 peak (second sample) decodes to its cell (x=2, y=5, z=0).
    joints = IntegralRegression(num_joints, depth, debias=True)(logits).numpy()
    np.testing.assert_allclose(joints[1], np.tile([2.0, 5.0, 0.0][: 2 if depth == 1 else 3], (num_joints, 1)))


def test_dynamic_batch_in_functional_model():
    num_joints, depth = 3, 2
    inputs = keras.Input((10, 8, num_joints * depth))
    model = keras.Model(inputs, {
        "joints": IntegralRegression(num_joints, depth)(inputs),
        "two_step": TwoStepIntegral(num_joints, depth)(inputs),
        "probs": HeatmapSoftmax(num_joints, depth)(inputs),
    })
    assert model.output["joints"].shape == (None, num_joints, 3)
    assert model.output["two_step"]["marginal_z"].shape == (None, num_joints, depth)
    for batch in (1, 3):
        logits = _random_logits(num_joints, depth, 10, 8, batch=batch)
        outputs = model.predict(logits, verbose=0)
        expected = ref.integral(logits, num_joints, depth, 1.0)
        np.testing.assert_allclose(outputs["joints"], expected, atol=TOL)
        np.testing.assert_allclose(outputs["two_step"]["joints"], expected, atol=TOL)
        assert outputs["probs"].shape == (batch, 10, 8, num_joints * depth)


def test_keras_round_trip_with_safe_mode(tmp_path):
    num_joints, depth = 2, 3
    inputs = keras.Input((12, 12, 4))
    logits = keras.layers.Conv2D(num_joints * depth, 1)(inputs)
    model = keras.Model(inputs, {
        "probs": HeatmapSoftmax(num_joints, depth, beta=1.5)(logits),
        "joints": IntegralRegression(num_joints, depth, beta=2.0, debias=True)(logits),
        "two_step": TwoStepIntegral(num_joints, depth, beta=0.5)(logits),
    })
    path = tmp_path / "integral.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    images = np.random.randn(2, 12, 12, 4).astype(np.float32)
    before, after = model.predict(images, verbose=0), loaded.predict(images, verbose=0)
    keras.tree.map_structure(np.testing.assert_array_equal, before, after)
    restored = {type(layer).__name__: layer for layer in loaded.layers}
    assert restored["IntegralRegression"].get_config()["debias"] is True
    assert restored["IntegralRegression"].beta == 2.0
    assert restored["TwoStepIntegral"].depth == depth


@pytest.mark.parametrize("layer_class", [HeatmapSoftmax, IntegralRegression, TwoStepIntegral])
def test_config_round_trip(layer_class):
    layer = layer_class(num_joints=5, depth=2, beta=0.25, name="head_decode")
    clone = layer_class.from_config(layer.get_config())
    assert (clone.num_joints, clone.depth, clone.beta, clone.name) == (5, 2, 0.25, "head_decode")


@pytest.mark.parametrize("layer_class", [HeatmapSoftmax, IntegralRegression, TwoStepIntegral])
@pytest.mark.parametrize("kwargs,message", [
    ({"num_joints": 0}, "num_joints"),
    ({"num_joints": 2.0}, "num_joints"),
    ({"num_joints": 2, "depth": 0}, "depth"),
    ({"num_joints": 2, "beta": 0.0}, "beta"),
    ({"num_joints": 2, "beta": -1.0}, "beta"),
    ({"num_joints": 2, "beta": float("nan")}, "beta"),
])
def test_invalid_arguments_are_rejected(layer_class, kwargs, message):
    with pytest.raises(ValueError, match=message):
        layer_class(**kwargs)


def test_invalid_debias_flag_is_rejected():
    with pytest.raises(ValueError, match="debias"):
        IntegralRegression(2, debias="yes")


@pytest.mark.parametrize("layer_class", [HeatmapSoftmax, IntegralRegression, TwoStepIntegral])
def test_wrong_channel_count_names_the_expected_count(layer_class):
    layer = layer_class(num_joints=4, depth=3)
    with pytest.raises(ValueError, match=r"expects 12 channels.*num_joints=4 x depth=3.*got 10"):
        layer(np.zeros((1, 8, 8, 10), np.float32))
    with pytest.raises(ValueError, match="expects 12 channels"):
        layer_class(num_joints=4, depth=3)(keras.Input((8, 8, 16)))
    with pytest.raises(ValueError, match="rank 3"):
        layer_class(num_joints=4, depth=3)(np.zeros((8, 8, 12), np.float32))


def test_unknown_spatial_size_in_a_traced_function():
    num_joints, depth = 2, 3
    layer = IntegralRegression(num_joints, depth, debias=True)
    decode = tf.function(layer, input_signature=[tf.TensorSpec((None, None, None, num_joints * depth))])
    logits = np.abs(_random_logits(num_joints, depth, 9, 7))
    np.testing.assert_allclose(decode(logits), ref.debiased_integral(logits, num_joints, depth, 1.0), atol=TOL)
    two_step = tf.function(TwoStepIntegral(num_joints, depth), input_signature=decode.input_signature)(logits)
    np.testing.assert_allclose(two_step["marginal_y"], ref.marginals(logits, num_joints, depth, 1.0)["marginal_y"], atol=TOL)


def test_debias_stays_on_the_grid_without_foreground_mass():
    # All logits < 0 (C < M): outside the correction's assumption, but finite
    # and clipped to the cell-centre range.
    logits = -np.abs(_random_logits(2, 3, 9, 7, scale=3.0))
    joints = np.asarray(IntegralRegression(2, 3, debias=True)(logits))
    assert np.isfinite(joints).all()
    assert (joints >= 0).all() and (joints <= np.array([6.0, 8.0, 2.0])).all()
