"""scripts/evaluate.py with a configs/paper/ experiment: --compare_paper and --mpii_test_predictions (subprocess),
on MPII records converted from a tiny real-format annotation file, with a tiny version of the paper's network."""
import json
import pathlib
import subprocess
import sys

import cv2
import keras
import numpy as np
import pytest
import scipy.io
import tensorflow as tf

from integral_keras.configs.experiment import load_experiment
from integral_keras.data import skeletons
from integral_keras.data.converters import convert_mpii
from integral_keras.data.parser import build_parser
from integral_keras.evaluation import mpii_submission
from integral_keras.evaluation import protocols
from integral_keras.serving import predict_fns
from integral_keras.models import build_pose_model

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = "configs/paper/table1_mpii_r50_I1.yaml"
MPII_NAMES = ["rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor", "neck", "head", "rwri", "relb",
              "rsho", "lsho", "lelb", "lwri"]
NUM_PEOPLE = 3


def _run(*args):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), *args], capture_output=True,
                            text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def mpii_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("paper_eval")
    rng = np.random.default_rng(0)
    entries, joints0, boxes = [], [], []
    for index in range(NUM_PEOPLE):
        name = f"{index:09d}.jpg"
        (work / "images").mkdir(exist_ok=True)
        assert cv2.imwrite(str(work / "images" / name), rng.integers(0, 256, (90, 110, 3), dtype=np.uint8))
        joints = rng.uniform(25, 65, (16, 2))
        entries.append({"image": name, "center": [47.0, 41.0], "scale": 0.3, "joints": (joints + 1).tolist(),
                        "joints_vis": [1] * 16})
        joints0.append(joints)
        boxes.append([[30.0, 10.0], [50.0, 30.0]])
    (work / "valid.json").write_text(json.dumps(entries))
    names = np.empty((1, 16), dtype=object)
    names[0, :] = MPII_NAMES
    scipy.io.savemat(work / "gt_valid.mat", {
        "dataset_joints": names, "jnt_missing": np.zeros((16, NUM_PEOPLE), np.uint8),
        "pos_gt_src": np.transpose(np.asarray(joints0) + 1, (1, 2, 0)),
        "headboxes_src": np.transpose(np.asarray(boxes) + 1, (1, 2, 0))})
    convert_mpii(work / "valid.json", work / "images", str(work / "valid"), gt_valid_file=str(work / "gt_valid.mat"),
                 progress=False)
    overrides = ["model.backbone=resnet18", "model.input_size=64", "model.heatmap_size=8", "model.deconv_filters=8",
                 f"data.val_file_pattern=[{work / 'valid'}-*-of-*.tfrecord]", "data.eval_batch_size=2"]
    config = load_experiment([str(ROOT / CONFIG)], overrides)
    keras.utils.set_random_seed(0)
    model = build_pose_model(config.model)
    tf.train.CheckpointManager(tf.train.Checkpoint(model=model), str(work / "checkpoints"), max_to_keep=1).save()
    return {"work": work, "overrides": ",".join(overrides), "config": config, "model": model}


def test_compare_paper_prints_the_metrics_next_to_the_papers_row(mpii_run):
    work, out = mpii_run["work"], mpii_run["work"] / "eval"
    result = _run(f"--config_file={CONFIG}", f"--params_override={mpii_run['overrides']}",
                  f"--checkpoint={work / 'checkpoints'}", f"--gt_valid_mat={work / 'gt_valid.mat'}", "--compare_paper",
                  f"--output_dir={out}")
    with open(out / "metrics.json") as f:
        metrics = json.load(f)
    table = (out / "paper_comparison.md").read_text()
    assert table in result.stdout
    assert table.startswith(f"Paper: Table 1, row {mpii_run['config'].paper.row}")
    # Every paper metric of the row is a line, with this run's value from metrics.json.
    for name, key in (("PCKh@0.5", "Mean"), ("PCKh@0.1", "Mean@0.1"), ("AUC", "AUC")):
        paper = mpii_run["config"].paper.results
        value = next(r.value for r in paper if r.metric == name)
        expected = "not transcribed" if value is None else f"{value:.1f}"
        assert f"| {name} (%) | mpii_val | {metrics[key]:.1f} | {expected} |" in table


def test_mpii_test_predictions_file_holds_the_models_predictions_one_based(mpii_run):
    work = mpii_run["work"]
    path = work / "pred_test.mat"
    result = _run(f"--config_file={CONFIG}", f"--params_override={mpii_run['overrides']}",
                  f"--checkpoint={work / 'checkpoints'}", f"--mpii_test_predictions={path}", "--flip_test",
                  f"--output_dir={work / 'test'}")
    assert f"Wrote MPII predictions {path}" in result.stdout
    preds = scipy.io.loadmat(path)["preds"]
    assert preds.shape == (NUM_PEOPLE, 16, 2)
    # The same model, records and flip test in this process give the same original-image joints (0-based).
    config = mpii_run["config"]
    dataset = protocols.eval_dataset(config.data.val_file_pattern, build_parser(config.model, config.data), 2)
    joints_px, ids = mpii_submission.predict_people(predict_fns.model_predict_fn(mpii_run["model"], config.model),
                                                    dataset, skeletons.get_skeleton("mpii").flip_permutation())
    np.testing.assert_allclose(preds[ids], joints_px + 1.0, atol=1e-3)
