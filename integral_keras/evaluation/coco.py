"""COCO keypoint evaluation: OKS, OKS-NMS, rescoring, results JSON and the official COCOeval.

The benchmark numbers always come from `pycocotools.cocoeval.COCOeval` (`coco_keypoint_eval`); OKS here serves
the non-maximum suppression of duplicate person instances before writing results.

OKS between a prediction `p` and a reference `g` (pycocotools' formula):
`OKS = mean_{k labelled in g} exp(-d_k^2 / (2 * s^2 * kappa_k^2))` with `s^2` the reference area and
`kappa_k = 2 * sigma_k`.
"""
import contextlib
import io
import json
import os
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from absl import logging

from integral_keras.core import skeletons

COCO_SIGMAS = np.asarray(skeletons.COCO.oks_sigmas, np.float64)

#: COCOeval `stats` order for keypoints.
STAT_NAMES = ("AP", "AP50", "AP75", "APM", "APL", "AR", "AR50", "AR75", "ARM", "ARL")


def oks(pred, gt, gt_visible, area, sigmas=COCO_SIGMAS):
    """Object keypoint similarity of predictions to a reference instance.

    Args:
      pred: `(..., K, 2)` predicted keypoints, pixels.
      gt: `(..., K, 2)` reference keypoints (broadcast against `pred`).
      gt_visible: `(..., K)` bool, labelled reference joints; unlabelled ones are ignored.
      area: `(...)` reference area `s^2` in square pixels (broadcast against the leading axes).
      sigmas: `(K,)` per-joint sigmas (default: COCO's).

    Returns:
      `(...)` float64 OKS in [0, 1]; 0 where the reference has no labelled joint.
    """
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    sigmas = np.asarray(sigmas, np.float64)
    if pred.shape[-1] != 2 or pred.shape[-2] != sigmas.shape[0]:
        raise ValueError(f"pred must be (..., {sigmas.shape[0]}, 2) to match the sigmas; got {pred.shape}")
    kappa_sq = (2.0 * sigmas) ** 2
    squared_distances = np.sum((pred - gt) ** 2, axis=-1)
    # np.spacing(1) as in pycocotools keeps a zero area finite.
    area = np.asarray(area, np.float64)[..., None] + np.spacing(1)
    similarity = np.exp(-squared_distances / (2.0 * area * kappa_sq))
    labelled = np.broadcast_to(np.asarray(gt_visible).astype(bool), similarity.shape)
    count = labelled.sum(axis=-1)
    total = np.where(labelled, similarity, 0.0).sum(axis=-1)
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def oks_nms(keypoints, scores, areas, threshold: float = 0.9, sigmas=COCO_SIGMAS,
            keypoint_scores=None, keypoint_threshold: Optional[float] = None) -> np.ndarray:
    """Greedy non-maximum suppression of person instances by OKS.

    The highest-scoring instance is kept; every remaining instance whose OKS to it exceeds `threshold` is
    dropped; repeat. The kept instance acts as the reference, with the mean of the two instances' areas as
    `s^2`. With `keypoint_scores` and `keypoint_threshold`, only the kept instance's joints scoring above the
    threshold count as labelled.

    Args:
      keypoints: `(M, K, 2)` keypoints of the instances of one image.
      scores: `(M,)` instance scores.
      areas: `(M,)` instance areas (e.g. box `w * h`).
      threshold: OKS above which an instance is a duplicate.
      sigmas: `(K,)` per-joint sigmas.
      keypoint_scores: optional `(M, K)` per-joint confidences.
      keypoint_threshold: optional confidence threshold, used with `keypoint_scores`.

    Returns:
      int array of kept indices, in decreasing score order.
    """
    keypoints = np.asarray(keypoints, np.float64)
    scores = np.asarray(scores, np.float64)
    areas = np.asarray(areas, np.float64)
    num = keypoints.shape[0]
    if scores.shape != (num,) or areas.shape != (num,):
        raise ValueError(f"scores {scores.shape} and areas {areas.shape} must be ({num},)")
    labelled = np.ones(keypoints.shape[:2], bool)
    if keypoint_scores is not None and keypoint_threshold is not None:
        labelled = np.asarray(keypoint_scores) > keypoint_threshold
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(best)
        overlap = oks(keypoints[rest], keypoints[best], labelled[best], (areas[best] + areas[rest]) / 2.0, sigmas)
        order = rest[overlap <= threshold]
    return np.asarray(keep, np.int64)


def rescore(box_scores, keypoint_scores, threshold: float = 0.2):
    """Instance score = box score x mean of the keypoint confidences above `threshold` (0 when none is).

    Args:
      box_scores: `(N,)` detector scores.
      keypoint_scores: `(N, K)` per-joint confidences.
      threshold: confidences at or below it are ignored.

    Returns:
      `(N,)` float64 scores.
    """
    box_scores = np.asarray(box_scores, np.float64)
    keypoint_scores = np.asarray(keypoint_scores, np.float64)
    confident = keypoint_scores > threshold
    count = confident.sum(axis=-1)
    total = np.where(confident, keypoint_scores, 0.0).sum(axis=-1)
    return box_scores * np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def results_to_coco(image_ids, keypoints, keypoint_scores, scores, category_id: int = 1) -> List[Dict]:
    """Builds COCO keypoint results: `[{"image_id", "category_id", "keypoints": [x, y, s] * K, "score"}]`.

    Args:
      image_ids: `(N,)` int COCO image ids.
      keypoints: `(N, K, 2)` keypoints in original-image pixels (0-based, as COCO annotations).
      keypoint_scores: `(N, K)` per-joint confidences (the `s` of each triple).
      scores: `(N,)` instance scores.
      category_id: COCO category (1 = person).

    Returns:
      list of dicts with plain Python numbers, ready for `json.dump`.
    """
    keypoints = np.asarray(keypoints, np.float64)
    keypoint_scores = np.asarray(keypoint_scores, np.float64)
    image_ids = np.asarray(image_ids)
    scores = np.asarray(scores, np.float64)
    num = keypoints.shape[0]
    if keypoints.ndim != 3 or keypoints.shape[-1] != 2 or keypoint_scores.shape != keypoints.shape[:2]:
        raise ValueError(f"keypoints must be (N, K, 2) and keypoint_scores (N, K); got {keypoints.shape} "
                         f"and {keypoint_scores.shape}")
    if image_ids.shape != (num,) or scores.shape != (num,):
        raise ValueError(f"image_ids {image_ids.shape} and scores {scores.shape} must be ({num},)")
    triples = np.concatenate([keypoints, keypoint_scores[..., None]], axis=-1).reshape(num, -1)
    return [
        {"image_id": int(image_ids[i]), "category_id": int(category_id),
         "keypoints": [float(v) for v in triples[i]], "score": float(scores[i])}
        for i in range(num)
    ]


def postprocess(image_ids, keypoints, keypoint_scores, box_scores, areas, nms_threshold: float = 0.9,
                rescore_threshold: float = 0.2, sigmas=COCO_SIGMAS) -> List[Dict]:
    """Rescoring and per-image OKS-NMS, then COCO results.

    Args:
      image_ids: `(N,)` image ids.
      keypoints: `(N, K, 2)` original-image pixels.
      keypoint_scores: `(N, K)` per-joint confidences.
      box_scores: `(N,)` detector scores (1 for ground-truth boxes).
      areas: `(N,)` instance areas used by OKS-NMS (e.g. box `w * h`).
      nms_threshold: OKS above which a lower-scoring instance of the same image is dropped.
      rescore_threshold: keypoint-confidence threshold of `rescore`.
      sigmas: `(K,)` OKS sigmas.

    Returns:
      list of COCO result dicts (see `results_to_coco`).
    """
    image_ids = np.asarray(image_ids)
    keypoints = np.asarray(keypoints, np.float64)
    keypoint_scores = np.asarray(keypoint_scores, np.float64)
    areas = np.asarray(areas, np.float64)
    scores = rescore(box_scores, keypoint_scores, rescore_threshold)
    kept = []
    for image_id in np.unique(image_ids):
        members = np.flatnonzero(image_ids == image_id)
        keep = oks_nms(keypoints[members], scores[members], areas[members], nms_threshold, sigmas)
        kept.extend(members[keep].tolist())
    kept = np.asarray(sorted(kept), np.int64)
    return results_to_coco(image_ids[kept], keypoints[kept], keypoint_scores[kept], scores[kept])


def write_results(results: Sequence[Dict], path) -> str:
    """Writes COCO results to a JSON file (parent folders created); returns the path."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(list(results), f)
    return path


def coco_keypoint_eval(gt_json_path, results: Union[Sequence[Dict], str, os.PathLike]) -> Dict[str, float]:
    """Runs the official `COCOeval(coco_gt, coco_dt, "keypoints")`.

    Args:
      gt_json_path: COCO person-keypoints annotation file.
      results: list of result dicts (`results_to_coco`) or the path of a results JSON.

    Returns:
      dict with `AP, AP50, AP75, APM, APL, AR, AR50, AR75, ARM, ARL` (fractions in [0, 1]; COCOeval reports -1
      for an area range without ground truth). An empty result list scores 0 everywhere (logged).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_json_path = os.fspath(gt_json_path)
    if not os.path.isfile(gt_json_path):
        raise FileNotFoundError(f"COCO annotation file not found: {gt_json_path}")
    if isinstance(results, (str, os.PathLike)):
        if not os.path.isfile(results):
            raise FileNotFoundError(f"COCO results file not found: {os.fspath(results)}")
        with open(results, encoding="utf-8") as f:
            results = json.load(f)
    results = list(results)
    if not results:
        logging.warning("coco_keypoint_eval: no results to evaluate; every metric is 0.")
        return {name: 0.0 for name in STAT_NAMES}
    # pycocotools prints progress; keep it out of the caller's output.
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_json_path)
        unknown = sorted({r["image_id"] for r in results} - set(coco_gt.getImgIds()))
        if unknown:
            raise ValueError(f"Results name image ids absent from {gt_json_path}: {unknown[:10]}")
        coco_dt = coco_gt.loadRes(results)
        evaluator = COCOeval(coco_gt, coco_dt, "keypoints")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return {name: float(value) for name, value in zip(STAT_NAMES, evaluator.stats)}
