"""One decode path: the training evaluator and the serving decoder take joints from model outputs by the same rule,
decode them with the same codec and map them to the image the same way, with the numbers of the old paths."""
import numpy as np
import pytest
import tensorflow as tf

from integral_keras import evaluation
from integral_keras.codecs.pose_codec import PoseCodec
from integral_keras.core import skeletons
from integral_keras.core.crop_mapping import apply_affine
from integral_keras.layers import HeatmapArgmax
from integral_keras.serving import image_crop
from integral_keras.serving.pose_decoder import PoseDecoder
from integral_keras.serving.spec import ServingSpec
from integral_keras.training.evaluator import PoseEvaluator

K = skeletons.H36M.num_joints
INPUT, HEATMAP, DEPTH = 32, 8, 4


def _outputs(method, rng):
    logits = rng.normal(size=(3, HEATMAP, HEATMAP, K * DEPTH)).astype(np.float32)
    outputs = {"heatmaps": tf.constant(logits)}
    if method != "H1":
        outputs["joints"] = tf.constant(rng.uniform(0, HEATMAP - 1, (3, K, 3)).astype(np.float32))
    return outputs


def _meta(rng, num=3):
    crop_to_image = np.tile(np.array([[2.0, 0.0, 10.0], [0.0, 2.0, -4.0], [0.0, 0.0, 1.0]]), (num, 1, 1))
    keypoints_3d = rng.uniform(-500, 500, (num, K, 3)) + np.array([0.0, 0.0, 4000.0])
    return {"crop_to_image": crop_to_image, "keypoints_2d": rng.uniform(0, 64, (num, K, 2)),
            "visible": np.ones((num, K)), "keypoints_3d": keypoints_3d, "has_3d": np.ones(num),
            "root_depth": np.full(num, 4000.0), "focal": np.full((num, 2), 500.0),
            "principal_point": np.full((num, 2), 32.0)}


@pytest.mark.parametrize("method", ["H1", "I1", "Istar", "R1"])
def test_evaluator_and_serving_decode_the_same_joints_as_before(method):
    rng = np.random.default_rng(0)
    outputs = _outputs(method, rng)
    spec = ServingSpec(method=method, num_joints=K, input_size=INPUT, heatmap_size=HEATMAP, depth=DEPTH,
                       depth_range_mm=1500.0)
    codec = PoseCodec.from_config(spec)
    evaluator = PoseEvaluator(codec, "h36m", method=method)

    # The old evaluator's rule ("joints" in the outputs, else the arg-max), decoded by the codec.
    old_hm = outputs["joints"] if "joints" in outputs else HeatmapArgmax(K, depth=DEPTH)(outputs["heatmaps"])
    old = codec.decode(np.asarray(old_hm, np.float32))

    joints_hm = np.asarray(evaluator.joints_from_outputs(outputs))
    np.testing.assert_array_equal(joints_hm, np.asarray(old_hm, np.float32))
    served = PoseDecoder(spec)(outputs)
    np.testing.assert_array_equal(np.asarray(served["joints"]), np.asarray(old["joints_px"]))
    np.testing.assert_array_equal(np.asarray(served["depth_mm"]), np.asarray(old["z_mm"]))

    meta = _meta(rng)
    decoded = evaluator.decode_to_image(joints_hm, meta["crop_to_image"])
    expected_px = np.asarray(old["joints_px"], np.float64) * 2.0 + np.array([10.0, -4.0])
    np.testing.assert_allclose(decoded["joints_px"], expected_px, rtol=1e-12)
    # The serving graph's crop -> image mapping agrees with the evaluation's.
    image_to_crop = np.linalg.inv(meta["crop_to_image"]).astype(np.float32)
    graph_px = image_crop.crop_to_image(served["joints"], image_to_crop).numpy()
    np.testing.assert_allclose(graph_px, expected_px, rtol=1e-5, atol=1e-3)


def test_evaluator_metrics_are_the_evaluation_protocol_metrics():
    rng = np.random.default_rng(1)
    codec = PoseCodec(K, INPUT, HEATMAP, depth=DEPTH, depth_range_mm=1500.0)
    evaluator = PoseEvaluator(codec, "h36m", root_joint=0, method="I1")
    meta = _meta(rng, num=5)
    joints_hm = rng.uniform(0, HEATMAP - 1, (5, K, 3))
    evaluator.update(joints_hm, meta)
    metrics = evaluator.result()

    # The old evaluator's own formulas, written out.
    decoded = codec.decode(joints_hm)
    joints_px = apply_affine(np.asarray(decoded["joints_px"], np.float64),
                            meta["crop_to_image"])
    pck = evaluation.torso_pck(joints_px, meta["keypoints_2d"], meta["visible"] > 0, skeletons.H36M)
    uvz = np.concatenate([joints_px, np.asarray(decoded["z_mm"], np.float64)[..., None]], axis=-1)
    pred = evaluation.back_project(uvz, meta["root_depth"], meta["focal"], meta["principal_point"])
    expected = {"PCK@0.5": pck["PCK@0.5"], "PCK@0.1": pck["PCK@0.1"], "AUC": pck["AUC"], "num_examples": 5.0,
                "MPJPE": evaluation.mpjpe(pred, meta["keypoints_3d"], root=0),
                "PA-MPJPE": evaluation.pa_mpjpe(pred, meta["keypoints_3d"])}
    assert metrics == expected


def test_evaluator_without_a_method_cannot_pick_joints():
    evaluator = PoseEvaluator(PoseCodec(K, INPUT, HEATMAP), "h36m")
    with pytest.raises(ValueError, match="method"):
        evaluator.joints_from_outputs({"joints": tf.zeros((1, K, 2))})
