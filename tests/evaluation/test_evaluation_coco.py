"""OKS, OKS-NMS, rescoring, results JSON and COCOeval end to end on a tiny fixture."""
import json
import math

import numpy as np
import pytest

from integral_keras import evaluation
from integral_keras.data import skeletons
from integral_keras.evaluation import coco

SIGMAS = np.array(skeletons.COCO.oks_sigmas)


def _person(x0, y0, width, height, seed):
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(x0, x0 + width, 17), rng.uniform(y0, y0 + height, 17)], axis=-1)


def test_oks_matches_the_formula_by_hand():
    gt = _person(0, 0, 40, 40, seed=0)
    pred = gt.copy()
    pred[0] += [3.0, 4.0]  # d^2 = 25 on the nose
    area = 400.0
    e_nose = 25.0 / (2 * area * (2 * 0.026) ** 2)
    assert coco.oks(pred, gt, np.ones(17, bool), area) == pytest.approx((16 + math.exp(-e_nose)) / 17)
    # Unlabelled reference joints are ignored, however wrong the prediction is there.
    labelled = np.ones(17, bool)
    labelled[[9, 10]] = False
    pred[[9, 10]] += 500.0
    assert coco.oks(pred, gt, labelled, area) == pytest.approx((14 + math.exp(-e_nose)) / 15)
    assert coco.oks(pred, gt, np.zeros(17, bool), area) == 0.0


def _hand_oks(a, b, area):
    """OKS of `a` to `b`, every joint labelled, written out joint by joint."""
    total = 0.0
    for k in range(17):
        d_sq = (a[k, 0] - b[k, 0]) ** 2 + (a[k, 1] - b[k, 1]) ** 2
        total += math.exp(-d_sq / (2.0 * area * (2.0 * SIGMAS[k]) ** 2))
    return total / 17


def test_oks_nms_keeps_and_suppresses_the_right_instances():
    base = _person(100, 100, 80, 160, seed=1)
    near = base + 1.0  # a duplicate
    medium = base + 6.0  # a distinct but overlapping instance
    far = _person(400, 100, 80, 160, seed=2)
    keypoints = np.stack([base, near, medium, far])
    areas = np.full(4, 80.0 * 160.0)
    assert _hand_oks(near, base, areas[0]) > 0.9
    assert _hand_oks(medium, base, areas[0]) < 0.9
    keep = evaluation.oks_nms(keypoints, np.array([0.9, 0.8, 0.7, 0.6]), areas, threshold=0.9)
    np.testing.assert_array_equal(keep, [0, 2, 3])
    # The score order decides which duplicate survives.
    keep = evaluation.oks_nms(keypoints, np.array([0.5, 0.8, 0.7, 0.6]), areas, threshold=0.9)
    np.testing.assert_array_equal(keep, [1, 2, 3])
    # A lower threshold also removes the overlapping instance.
    between = _hand_oks(medium, base, areas[0])
    keep = evaluation.oks_nms(keypoints, np.array([0.9, 0.8, 0.7, 0.6]), areas, threshold=between - 1e-3)
    np.testing.assert_array_equal(keep, [0, 3])


def test_rescoring_formula():
    box = np.array([0.5, 0.9])
    joints = np.full((2, 17), 0.1)
    joints[0, :2] = [0.3, 0.5]
    joints[0, 2] = 0.2  # at the threshold: ignored
    np.testing.assert_allclose(evaluation.rescore(box, joints), [0.5 * (0.3 + 0.5) / 2, 0.0])


def _categories():
    return [{"id": 1, "name": "person", "supercategory": "person",
             "keypoints": list(skeletons.COCO.joint_names), "skeleton": []}]


def _annotation(ann_id, image_id, joints, labelled):
    xs, ys = joints[labelled, 0], joints[labelled, 1]
    x0, y0 = xs.min(), ys.min()
    width, height = xs.max() - x0, ys.max() - y0
    flags = np.where(labelled, 2, 0)
    triples = np.concatenate([joints * labelled[:, None], flags[:, None]], axis=1)
    return {"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
            "keypoints": [float(v) for v in triples.ravel()], "num_keypoints": int(labelled.sum()),
            "bbox": [float(x0), float(y0), float(width), float(height)], "area": float(width * height)}


@pytest.fixture
def coco_fixture(tmp_path):
    """Two images, three people: one large, two medium; one person has unlabelled joints."""
    people = [(1, _person(50, 40, 120, 200, seed=3)), (1, _person(300, 60, 60, 90, seed=4)),
              (2, _person(100, 100, 70, 80, seed=5))]
    labelled = [np.ones(17, bool), np.ones(17, bool), np.arange(17) % 4 != 0]
    annotations = [_annotation(i + 1, image_id, joints, lab)
                   for i, ((image_id, joints), lab) in enumerate(zip(people, labelled))]
    gt = {"images": [{"id": 1, "width": 640, "height": 480, "file_name": "a.jpg"},
                     {"id": 2, "width": 640, "height": 480, "file_name": "b.jpg"}],
          "annotations": annotations, "categories": _categories()}
    path = tmp_path / "person_keypoints_tiny.json"
    path.write_text(json.dumps(gt))
    image_ids = np.array([image_id for image_id, _ in people])
    joints = np.stack([joints for _, joints in people])
    return path, image_ids, joints


def test_results_json_format(tmp_path):
    results = evaluation.results_to_coco([7], np.arange(34.0).reshape(1, 17, 2), np.full((1, 17), 0.5), [0.8])
    assert results == [{"image_id": 7, "category_id": 1, "score": 0.8,
                        "keypoints": [v for k in range(17) for v in (2.0 * k, 2.0 * k + 1, 0.5)]}]
    path = evaluation.write_coco_results(results, tmp_path / "out" / "results.json")
    assert json.loads(open(path).read()) == results


def test_perfect_predictions_give_ap_1(coco_fixture):
    path, image_ids, joints = coco_fixture
    results = evaluation.results_to_coco(image_ids, joints, np.ones((3, 17)), np.ones(3))
    stats = evaluation.coco_keypoint_eval(path, results)
    assert set(stats) == {"AP", "AP50", "AP75", "APM", "APL", "AR", "AR50", "AR75", "ARM", "ARL"}
    for name in ("AP", "AP50", "AP75", "APM", "APL", "AR"):
        assert stats[name] == pytest.approx(1.0), name


def test_perturbed_predictions_lower_ap(coco_fixture, tmp_path):
    path, image_ids, joints = coco_fixture
    perturbed = joints.copy()
    perturbed[1] += 25.0  # the second (medium) person is now far off
    results = evaluation.results_to_coco(image_ids, perturbed, np.ones((3, 17)), np.array([0.9, 0.8, 0.7]))
    results_path = evaluation.write_coco_results(results, tmp_path / "results.json")
    stats = evaluation.coco_keypoint_eval(path, results_path)
    assert stats["AP"] < 1.0
    assert stats["APL"] == pytest.approx(1.0)  # the large person is untouched
    assert stats["APM"] < 1.0


def test_postprocess_rescoring_and_nms_then_eval(coco_fixture):
    path, image_ids, joints = coco_fixture
    duplicate = joints[:1] + 0.5
    all_ids = np.concatenate([image_ids, image_ids[:1]])
    all_joints = np.concatenate([joints, duplicate])
    joint_scores = np.full((4, 17), 0.9)
    joint_scores[3] = 0.6  # the duplicate is less confident and is suppressed
    box = np.ones(4)
    areas = np.array([120 * 200, 60 * 90, 70 * 80, 120 * 200], float)
    results = evaluation.coco_postprocess(all_ids, all_joints, joint_scores, box, areas)
    assert len(results) == 3
    assert all(r["score"] == pytest.approx(0.9) for r in results)
    assert evaluation.coco_keypoint_eval(path, results)["AP"] == pytest.approx(1.0)


def test_eval_errors_and_empty_results(coco_fixture, tmp_path):
    path, _, _ = coco_fixture
    with pytest.raises(FileNotFoundError, match="missing.json"):
        evaluation.coco_keypoint_eval(tmp_path / "missing.json", [])
    assert evaluation.coco_keypoint_eval(path, [])["AP"] == 0.0
    bad = evaluation.results_to_coco([99], np.zeros((1, 17, 2)), np.ones((1, 17)), [1.0])
    with pytest.raises(ValueError, match="99"):
        evaluation.coco_keypoint_eval(path, bad)
