"""Targets and losses of staged networks whose stages have different depths (`model.stage_depths`, Table 8)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.configs import ExperimentConfig
from integral_keras.data.parser import build_parser
from integral_keras.losses import losses_for_method
from integral_keras.models import build_pose_model
from integral_keras.training.objective import MAIN, PoseObjective

SKELETON = "h36m"
K = 17
DEPTHS = (1, 4)


def _experiment(method="I1", stage_depths=DEPTHS, **model):
    values = dict(backbone="hourglass", method=method, num_joints=K, input_size=64, heatmap_size=16, num_deconv=0,
                  num_stages=len(stage_depths), depth=stage_depths[-1], stage_depths=list(stage_depths),
                  hourglass_features=16)
    values.update(model)
    return ExperimentConfig.from_dict(dict(model=values, data=dict(skeleton=SKELETON),
                                           train=dict(losses_after_pretrain="both")))


def _decoded(rng, has_3d=1):
    """One decoded record (`decode_example` keys the parser reads): a 96x96 image, a person box in the middle."""
    xy = rng.uniform(24, 72, (K, 2)).astype(np.float32)
    xyz = np.concatenate([xy, rng.uniform(-600, 600, (K, 1))], axis=1).astype(np.float32)
    return {"image": tf.constant(rng.integers(0, 255, (96, 96, 3)).astype(np.uint8)),
            "center": tf.constant([48.0, 48.0]), "scale": tf.constant([64.0, 64.0]),
            "keypoints_2d": tf.constant(xy), "visible": tf.ones([K]), "keypoints_3d": tf.constant(xyz),
            "has_3d": tf.constant(float(has_3d))}


@pytest.mark.parametrize("method", ["I1", "H2", "Istar"])
def test_each_stage_gets_the_targets_of_its_depth(method):
    config = _experiment(method)
    parser = build_parser(config.model, config.data)
    image, labels = parser.parse_val(_decoded(np.random.default_rng(0)))
    assert set(labels) == set(parser.target_keys())
    # The last stage: the codec of the model (depth 4); stage 0: a codec of depth 1, every other setting equal.
    joints = parser._crop(parser._to_model_skeleton(_decoded(np.random.default_rng(0))))[1]
    expected_keys = {"has_3d"}
    for depth, suffix in zip(DEPTHS, ("_stage0", "")):
        codec = PoseCodec(K, input_size=64, heatmap_size=16, depth=depth,
                          depth_range_mm=config.model.depth_range_mm, sigma=config.model.heatmap_sigma)
        want = codec.encode(joints["keypoints_px"][None], joints["visible"][None], joints["z_mm"][None],
                            joints["has_3d"][None], method=method, marginals=True)
        for key, value in want.items():
            np.testing.assert_allclose(labels[key + suffix].numpy(), value[0].numpy(), atol=1e-6, err_msg=key)
        expected_keys |= {key + suffix for key in want}
    assert set(labels) == expected_keys
    if method != "Istar":
        assert labels["heatmaps_stage0"].shape == (16, 16, K * 1 + K) and labels["heatmaps"].shape == (16, 16, K * 5)
        assert "heatmap_marginals" in labels and "heatmap_marginals_stage0" not in labels
    if method != "H2":
        assert labels["joints_stage0"].shape == (K, 4) and labels["joints"].shape == (K, 6)


def test_objective_uses_each_stage_depth():
    rng = np.random.default_rng(1)
    config = _experiment("I1")
    parser = build_parser(config.model, config.data)
    _, labels = parser.parse_val(_decoded(rng))
    labels = {key: value[None] for key, value in labels.items()}
    outputs = {"heatmaps_stage0": rng.normal(0, 1, (1, 16, 16, K)).astype(np.float32),
               "heatmaps": rng.normal(0, 1, (1, 16, 16, K * 4)).astype(np.float32),
               "joints_stage0": rng.uniform(0, 15, (1, K, 2)).astype(np.float32),
               "joints": rng.uniform(0, 3, (1, K, 3)).astype(np.float32)}
    terms = PoseObjective.from_config(config).per_sample_losses(labels, outputs, MAIN)
    for depth, suffix in zip(DEPTHS, ("_stage0", "")):
        reference = losses_for_method("I1", K, depth=depth)
        for kind in ("heatmaps", "joints"):
            want = keras.ops.convert_to_numpy(reference[kind](labels[kind + suffix], outputs[kind + suffix]))
            np.testing.assert_allclose(terms[kind + suffix].numpy().sum(), want, rtol=1e-5, err_msg=kind + suffix)
    # Without stage_depths the objective would apply depth-4 losses to the depth-1 stage.
    with pytest.raises(ValueError, match="channels"):
        PoseObjective("I1", K, 4, losses_after_pretrain="both").per_sample_losses(labels, outputs, MAIN)


def test_two_stage_hourglass_1_4_trains_a_step():
    config = _experiment("I1")
    keras.utils.set_random_seed(0)
    model = build_pose_model(config.model)
    parser = build_parser(config.model, config.data)
    rng = np.random.default_rng(2)
    pairs = [parser.parse_train(_decoded(rng, has_3d=i % 2), seed=tf.constant([i, 7])) for i in range(2)]
    images = tf.stack([image for image, _ in pairs])
    labels = {key: tf.stack([l[key] for _, l in pairs]) for key in pairs[0][1]}
    objective = PoseObjective.from_config(config)
    optimizer = keras.optimizers.Adam(1e-3)
    before = [np.array(w) for w in model.trainable_variables]
    with tf.GradientTape() as tape:
        loss, terms = objective.replica_loss(labels, model(images, training=True), MAIN, 2)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    assert np.isfinite(float(loss))
    assert {"heatmaps_stage0", "joints_stage0", "heatmaps", "joints", "heatmap_marginals"} <= set(terms)
    assert float(terms["heatmaps_stage0"]) > 0 and float(terms["joints_stage0"]) > 0
    changed = sum(not np.array_equal(a, np.array(b)) for a, b in zip(before, model.trainable_variables))
    assert changed > len(before) // 2
    # The depth-1 stage's logits get gradients from its own 2D losses.
    stage0 = model.get_layer("hourglass2").get_layer("stack0_logits")
    grad = dict(zip([id(v) for v in model.trainable_variables], grads))[id(stage0.kernel)]
    assert np.abs(np.array(grad)).max() > 0
