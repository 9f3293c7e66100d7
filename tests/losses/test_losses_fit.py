"""The losses inside `model.fit` with a dict-output model and codec-made targets."""
import keras
import numpy as np
import pytest

from integral_keras.codecs import PoseCodec
from integral_keras.losses import HeatmapBinaryCrossEntropy
from integral_keras.losses import HeatmapCrossEntropy
from integral_keras.losses import HeatmapMSE
from integral_keras.losses import JointL1
from integral_keras.losses import JointL2
from integral_keras.losses import losses_for_method

NUM_JOINTS = 2


def _tiny_dict_model():
    images = keras.Input((8, 8, 3))
    heatmaps = keras.layers.Conv2D(NUM_JOINTS, 3, padding="same", name="heatmaps")(images)
    pooled = keras.layers.Flatten()(images)
    joints = keras.layers.Reshape((NUM_JOINTS, 2), name="joints")(keras.layers.Dense(NUM_JOINTS * 2)(pooled))
    return keras.Model(images, {"heatmaps": heatmaps, "joints": joints})


def _dataset():
    rng = np.random.default_rng(0)
    codec = PoseCodec(NUM_JOINTS, input_size=8, heatmap_size=8)
    images = rng.random((16, 8, 8, 3)).astype(np.float32)
    keypoints = rng.uniform(0, 7, (16, NUM_JOINTS, 2))
    visible = rng.integers(0, 2, (16, NUM_JOINTS))
    targets = codec.encode(keypoints, visible, method="I1")
    return images, {key: value.numpy() for key, value in targets.items()}


def test_fit_lowers_the_loss_and_model_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    images, targets = _dataset()
    model = _tiny_dict_model()
    model.compile(
        optimizer=keras.optimizers.Adam(0.01),
        loss={"heatmaps": HeatmapMSE(NUM_JOINTS), "joints": JointL1()},
    )
    before = model.evaluate(images, targets, batch_size=8, verbose=0, return_dict=True)
    model.fit(images, targets, batch_size=8, epochs=15, verbose=0)
    after = model.evaluate(images, targets, batch_size=8, verbose=0, return_dict=True)
    assert after["loss"] < 0.5 * before["loss"]
    assert after["heatmaps_loss"] < before["heatmaps_loss"]
    assert after["joints_loss"] < before["joints_loss"]

    path = tmp_path / "tiny.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    reloaded = restored.evaluate(images, targets, batch_size=8, verbose=0, return_dict=True)
    assert reloaded["loss"] == pytest.approx(after["loss"], rel=1e-5)


@pytest.mark.parametrize(
    "method,heatmap_loss,joint_loss",
    [
        ("R1", None, JointL1),
        ("H1", HeatmapMSE, None),
        ("H2", HeatmapCrossEntropy, None),
        ("H3", HeatmapBinaryCrossEntropy, None),
        ("I1", HeatmapMSE, JointL1),
        ("I2", HeatmapCrossEntropy, JointL1),
        ("I3", HeatmapBinaryCrossEntropy, JointL1),
        ("Istar", None, JointL1),
    ],
)
def test_losses_for_method(method, heatmap_loss, joint_loss):
    losses = losses_for_method(method, num_joints=3, depth=4)
    assert type(losses.get("heatmaps")) is (heatmap_loss or type(None))
    assert type(losses.get("joints")) is (joint_loss or type(None))
    if heatmap_loss is not None:
        assert (losses["heatmaps"].num_joints, losses["heatmaps"].depth) == (3, 4)


def test_losses_for_method_options_and_errors():
    assert isinstance(losses_for_method("Istar", 3, joint_loss="l2")["joints"], JointL2)
    with pytest.raises(ValueError, match="joint_loss 'huber'.*'l1', 'l2'"):
        losses_for_method("I1", 3, joint_loss="huber")
    with pytest.raises(ValueError, match="Unknown method 'I9'"):
        losses_for_method("I9", 3)
