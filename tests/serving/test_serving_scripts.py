"""scripts/export.py and scripts/predict.py end to end on a tiny .keras model (subprocesses)."""
import json
import pathlib
import subprocess
import sys

import cv2
import numpy as np
import pytest

import serving_test_models as stm

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = """
model: {backbone: resnet18, method: I1, num_joints: 16, input_size: 64, heatmap_size: 16, num_deconv: 3}
data: {skeleton: mpii}
"""


def _run(script, *args):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    work = tmp_path_factory.mktemp("scripts")
    model_path = work / "bright.keras"
    stm.bright_spot_model(num_joints=16).save(model_path)
    config = work / "tiny.yaml"
    config.write_text(CONFIG)
    _run("export.py", f"--config_file={config}", f"--model_path={model_path}", f"--export_dir={work / 'out'}",
         "--name=tiny", "--tflite=float32")
    return work


def test_export_writes_saved_model_and_tflite(exported):
    assert (exported / "out" / "tiny" / "1" / "saved_model.pb").is_file()
    assert (exported / "out" / "tiny" / "1" / "assets.extra" / "serving_spec.json").is_file()
    assert (exported / "out" / "tiny" / "tflite" / "tiny_float32.tflite").stat().st_size > 0


def test_predict_writes_joints_and_overlay(exported):
    square = (130.0, 61.0)
    image = stm.image_with_square(120, 200, square, side=7)
    image_path = exported / "person.png"
    cv2.imwrite(str(image_path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    json_path, png_path = exported / "pose.json", exported / "pose.png"
    _run("predict.py", f"--saved_model={exported / 'out' / 'tiny' / '1'}", f"--image={image_path}",
         "--box=100,30,60,70", f"--output_json={json_path}", f"--output_png={png_path}")
    record = json.loads(json_path.read_text())
    assert record["skeleton"] == "mpii" and record["box"] == [100.0, 30.0, 60.0, 70.0]
    joints = np.asarray(record["joints"])
    assert joints.shape == (16, 2) and len(record["confidence"]) == 16
    # Every joint is on the square, to within about half a heat-map cell (4 * 87.5 / 64 = 5.5 image pixels).
    np.testing.assert_allclose(joints, np.tile(square, (16, 1)), atol=3.0)
    overlay = cv2.imread(str(png_path))
    assert overlay.shape == image.shape
    # All joints coincide: a joint dot (white) is drawn around the square, the background elsewhere is untouched.
    assert np.count_nonzero(overlay.max(axis=-1)) > np.count_nonzero(image.max(axis=-1))
    assert overlay[5, 5].max() == 0
