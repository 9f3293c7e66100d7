"""Training scalars read back from TensorBoard event files and drawn as loss curves."""
import cv2
import numpy as np
import pytest
import tensorflow as tf

from integral_keras.visualization import loss_tags
from integral_keras.visualization import plot_loss_curves
from integral_keras.visualization import read_scalars


def _write_run(directory, steps, scalars):
    writer = tf.summary.create_file_writer(str(directory))
    with writer.as_default():
        for index, step in enumerate(steps):
            for tag, values in scalars.items():
                tf.summary.scalar(tag, values[index], step=step)
        tf.summary.image("crops", np.zeros((1, 4, 4, 3), np.uint8), step=steps[-1])  # not a scalar: skipped
    writer.close()


def test_read_scalars_returns_every_scalar_by_step(tmp_path):
    losses = [9.0, 4.0, 2.5]
    _write_run(tmp_path / "train", [10, 20, 30], {"loss": losses, "loss/joints": [5.0, 3.0, 2.0],
                                                  "learning_rate": [1e-3, 1e-3, 1e-4]})
    scalars = read_scalars(str(tmp_path / "train"))
    assert set(scalars) == {"loss", "loss/joints", "learning_rate"}
    steps, values = scalars["loss"]
    np.testing.assert_array_equal(steps, [10, 20, 30])
    np.testing.assert_allclose(values, losses, rtol=1e-6)
    assert loss_tags(scalars) == ["loss", "loss/joints"]


def test_a_rewritten_step_keeps_its_last_value(tmp_path):
    _write_run(tmp_path / "train", [10, 20], {"loss": [9.0, 4.0]})
    _write_run(tmp_path / "train", [20, 30], {"loss": [3.0, 1.0]})  # a resumed run writes a second file
    steps, values = read_scalars(str(tmp_path / "train"))["loss"]
    np.testing.assert_array_equal(steps, [10, 20, 30])
    assert values[1] in (4.0, 3.0) and values[2] == 1.0


def test_plot_loss_curves_writes_one_axes_per_run(tmp_path):
    runs = {}
    for name, scale in (("a", 1.0), ("b", 100.0)):
        _write_run(tmp_path / name, [1, 2, 3, 4], {"loss": [scale * v for v in (8.0, 4.0, 2.0, 1.0)]})
        runs[name] = read_scalars(str(tmp_path / name))
    one = cv2.imread(plot_loss_curves({"a": runs["a"]}, tmp_path / "one.png"))
    two = cv2.imread(plot_loss_curves(runs, tmp_path / "out" / "two.png"))
    assert one.shape[0] == two.shape[0] and abs(two.shape[1] - 2 * one.shape[1]) <= 2


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="No TensorBoard event files"):
        read_scalars(str(tmp_path))
    _write_run(tmp_path / "eval", [1], {"PCK@0.5": [50.0]})
    with pytest.raises(ValueError, match="no loss scalars"):
        plot_loss_curves({"x": read_scalars(str(tmp_path / "eval"))}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least one run"):
        plot_loss_curves({}, tmp_path / "y.png")
