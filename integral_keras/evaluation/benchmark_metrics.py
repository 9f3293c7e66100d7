"""The benchmarks' metrics and the dataset -> protocol registry.

Every benchmark is scored in original-image pixels (`predictions.image_joints`):

- `mpii`: PCKh (`mpii_pckh`) against the official `gt_valid.mat` (predictions placed by `image/id`, which the
  MPII converter sets to the person's column in that file) or against the records' joints and head boxes.
- `coco`: rescoring (box score x mean confident joint score), per-image OKS-NMS, a results JSON and the official
  COCOeval (`coco_postprocess`, `coco_keypoint_eval`); AP/AR reported in percent.
- `h36m`: `(u, v, z)` back-projected with the ground-truth root depth and camera (`back_project`), then
  Protocol 1 (PA-MPJPE, S11) and / or 2 (MPJPE, S9 + S11) with the per-action table (`h36m_evaluate_protocol`).
- `synthetic` (also `jsonl`): torso-normalised PCK (`torso_pck`) and, for 3D models, MPJPE / PA-MPJPE
  (`synthetic_metrics`, which the training evaluator reports too).

`BENCHMARKS` maps each name to a `Benchmark` (its scoring function, its table columns, its PCK-curve title); a new
dataset's protocol is one more entry there.
"""
import dataclasses
import os
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from absl import logging

from integral_keras.evaluation import coco as coco_eval
from integral_keras.evaluation import error_split
from integral_keras.evaluation import h36m as h36m_eval
from integral_keras.evaluation import mpii as mpii_eval
from integral_keras.evaluation import pck_metrics
from integral_keras.evaluation import report
from integral_keras.evaluation.predictions import Predictions
from integral_keras.evaluation.predictions import image_joints

#: Record `dataset` values evaluated like another benchmark (generic 2D/3D records use the synthetic metrics).
DATASET_ALIASES = {"jsonl": "synthetic"}


@dataclasses.dataclass(frozen=True)
class BenchmarkOptions:
    """What the protocols need besides the predictions (see `evaluate_predictions`)."""

    skeleton: str = "h36m"
    gt_valid_mat: Optional[str] = None
    coco_gt_json: Optional[str] = None
    output_dir: Optional[str] = None
    h36m_protocols: Sequence[int] = (1, 2)
    root_joint: int = 0


@dataclasses.dataclass(frozen=True)
class Benchmark:
    """One dataset's evaluation protocol.

    Attributes:
      name: the benchmark's name (the records' `dataset` feature).
      score: `(predictions, options) -> metrics dict`.
      table_columns: metrics shown in the markdown table (the rest stays in the JSON).
      curve_title: title of the PCK-curve plot of a run (benchmarks whose metrics hold a `curve`).
      detail_table: optional `metrics -> markdown` appended under the table (Human3.6M's per-action table).
    """

    name: str
    score: Callable[[Predictions, BenchmarkOptions], Dict]
    table_columns: Tuple[str, ...]
    curve_title: str = "Torso PCK"
    detail_table: Optional[Callable[[Mapping], str]] = None


def mpii_metrics(joints_px, meta: Mapping[str, np.ndarray], gt_valid_mat=None) -> Dict:
    """MPII PCKh (`mpii_pckh`) of `(N, 16, 2)` original-image predictions.

    Args:
      joints_px: `(N, 16, 2)` predictions, original-image pixels.
      meta: evaluation metadata (`image_id`, `keypoints_2d`, `visible`, `headbox`).
      gt_valid_mat: the official `gt_valid.mat`; predictions are placed at column `image_id` and every person of
        the file must be predicted. None: score against the records' joints and head boxes.

    Returns:
      the `mpii_pckh` dict plus `"num_examples"`.
    """
    joints_px = np.asarray(joints_px, np.float64)
    if gt_valid_mat is not None:
        gt = mpii_eval.load_gt_valid(gt_valid_mat)
        num_people = gt["joints"].shape[0]
        ids = np.asarray(meta["image_id"]).astype(np.int64)
        missing = sorted(set(range(num_people)) - set(ids.tolist()))
        outside = sorted(set(ids.tolist()) - set(range(num_people)))
        if missing or outside or len(ids) != num_people:
            raise ValueError(f"{gt_valid_mat} holds {num_people} people; the records give {len(ids)} predictions "
                             f"with image/id missing {missing[:10]} and outside the file {outside[:10]} "
                             f"(convert valid.json without skipping entries)")
        placed = np.empty_like(gt["joints"])
        placed[ids] = joints_px
        metrics = mpii_eval.mpii_pckh(placed, gt["joints"], gt["visible"], gt["headboxes"])
    else:
        headboxes = np.asarray(meta["headbox"], np.float64).reshape(-1, 2, 2)
        empty = np.flatnonzero(~np.any(headboxes != 0, axis=(1, 2)))
        if empty.size:
            raise ValueError(f"Records {np.asarray(meta['image_id'])[empty][:10].tolist()} have no mpii/headbox; "
                             f"convert with gt_valid.mat or pass gt_valid_mat")
        metrics = mpii_eval.mpii_pckh(joints_px, meta["keypoints_2d"], meta["visible"] > 0, headboxes)
    metrics["num_examples"] = int(joints_px.shape[0])
    return metrics


def coco_metrics(joints_px, confidence, meta: Mapping[str, np.ndarray], coco_gt_json, results_path,
                 nms_threshold: float = 0.9, rescore_threshold: float = 0.2) -> Dict:
    """COCO keypoint AP/AR: rescoring, OKS-NMS, a results JSON and COCOeval.

    Args:
      joints_px: `(N, 17, 2)` predictions, original-image pixels.
      confidence: `(N, 17)` per-joint confidences.
      meta: evaluation metadata (`image_id`, `bbox`, `score` of the detector).
      coco_gt_json: the COCO person-keypoints annotation file.
      results_path: where the results JSON is written.
      nms_threshold: OKS above which a lower-scoring instance of an image is dropped.
      rescore_threshold: joint confidences at or below it do not enter the instance score.

    Returns:
      dict: `AP, AP50, ..., ARL` in percent (None where COCOeval reports -1, an area range without ground
      truth), `"num_examples"`, `"num_results"` (after NMS) and `"results_file"`.
    """
    bbox = np.asarray(meta["bbox"], np.float64)
    results = coco_eval.postprocess(meta["image_id"], joints_px, confidence, meta["score"],
                                    bbox[:, 2] * bbox[:, 3], nms_threshold, rescore_threshold)
    coco_eval.write_results(results, results_path)
    stats = coco_eval.coco_keypoint_eval(coco_gt_json, results)
    metrics = {name: (100.0 * value if value >= 0 else None) for name, value in stats.items()}
    metrics.update(num_examples=int(len(bbox)), num_results=len(results), results_file=os.fspath(results_path))
    return metrics


def h36m_metrics(joints_px, z_mm, meta: Mapping[str, np.ndarray], protocols: Sequence[int] = (1, 2),
                 root_joint: int = 0, frame_step: int = h36m_eval.FRAME_STEP) -> Dict:
    """Human3.6M protocols on back-projected predictions.

    Args:
      joints_px: `(N, 17, 2)` predictions, original-image pixels.
      z_mm: `(N, 17)` predicted root-relative depths, mm.
      meta: evaluation metadata (`keypoints_3d`, `root_depth`, `focal`, `principal_point`, `subject`, `action`,
        `frame`).
      protocols: protocols to evaluate; one whose test subjects are absent from the records is left out (logged).
      root_joint: joint at which MPJPE aligns the poses.
      frame_step: frame subsampling of the protocols.

    Returns:
      dict: `"protocol{p}"` -> `h36m_evaluate_protocol` result for each protocol evaluated, plus `"MPJPE"` and
      `"PA-MPJPE"` over all records and `"num_examples"`.
    """
    if z_mm is None:
        raise ValueError("Human3.6M evaluation needs a 3D model (model.depth > 1)")
    uvz = np.concatenate([np.asarray(joints_px, np.float64), np.asarray(z_mm, np.float64)[..., None]], axis=-1)
    cameras_known = np.all(np.asarray(meta["focal"]) > 0, axis=-1) & (np.asarray(meta["has_3d"]) > 0)
    if not cameras_known.all():
        raise ValueError(f"{int((~cameras_known).sum())} records lack 3D labels or a camera (camera/focal = 0); "
                         f"Human3.6M evaluation needs both")
    pred = h36m_eval.back_project(uvz, meta["root_depth"], meta["focal"], meta["principal_point"])
    gt = np.asarray(meta["keypoints_3d"], np.float64)
    metrics = {}
    for protocol in protocols:
        mask = h36m_eval.protocol_mask(meta["subject"], meta["frame"], protocol, frame_step)
        if not mask.any():
            logging.info("Human3.6M protocol %d: no record of its test subjects; left out.", protocol)
            continue
        metrics[f"protocol{protocol}"] = h36m_eval.evaluate_protocol(
            pred, gt, meta["action"], meta["subject"], meta["frame"], protocol, root=root_joint,
            frame_step=frame_step)
    metrics.update({"MPJPE": h36m_eval.mpjpe(pred, gt, root=root_joint), "PA-MPJPE": h36m_eval.pa_mpjpe(pred, gt),
                    "num_examples": int(len(gt))})
    return metrics


def synthetic_metrics(joints_px, z_mm, meta: Mapping[str, np.ndarray], skeleton: str, root_joint: int = 0,
                      with_error_split: bool = False) -> Dict:
    """Torso PCK (`torso_pck`) and, with `z_mm` and cameras, MPJPE / PA-MPJPE after back-projection.

    `with_error_split` adds `error_split.split_3d_error`'s keys (the same scores with the true 2D or the true depth)
    for 3D predictions.
    """
    metrics = pck_metrics.torso_pck(joints_px, meta["keypoints_2d"], np.asarray(meta["visible"]) > 0, skeleton)
    if z_mm is not None:
        usable = (np.asarray(meta["has_3d"]) > 0) & np.all(np.asarray(meta["focal"]) > 0, axis=-1)
        if usable.any():
            camera = (meta["root_depth"][usable], meta["focal"][usable], meta["principal_point"][usable])
            uvz = np.concatenate([joints_px, np.asarray(z_mm)[..., None]], axis=-1)[usable]
            pred = h36m_eval.back_project(uvz, *camera)
            gt = np.asarray(meta["keypoints_3d"], np.float64)[usable]
            metrics["MPJPE"] = h36m_eval.mpjpe(pred, gt, root=root_joint)
            metrics["PA-MPJPE"] = h36m_eval.pa_mpjpe(pred, gt)
            if with_error_split:
                metrics.update(error_split.split_3d_error(
                    np.asarray(joints_px)[usable], np.asarray(z_mm)[usable], np.asarray(meta["keypoints_2d"])[usable],
                    gt, *camera, root_joint=root_joint))
    metrics["num_examples"] = int(np.asarray(joints_px).shape[0])
    return metrics


def h36m_action_table(metrics: Mapping) -> str:
    """The per-action table of each evaluated Human3.6M protocol (markdown; empty without protocols)."""
    rows = {f"Protocol {value['protocol']} ({value['metric']})": value["per_action"]
            for key, value in metrics.items() if key.startswith("protocol")}
    if not rows:
        return ""
    return report.markdown_table(rows, columns=list(h36m_eval.ACTION_NAMES.values()), row_header="Protocol")


def _score_mpii(predictions: Predictions, options: BenchmarkOptions) -> Dict:
    return mpii_metrics(image_joints(predictions), predictions.meta, options.gt_valid_mat)


def _score_coco(predictions: Predictions, options: BenchmarkOptions) -> Dict:
    if options.coco_gt_json is None or options.output_dir is None:
        raise ValueError("COCO evaluation needs coco_gt_json (person_keypoints_val2017.json) and output_dir "
                         "(for coco_results.json)")
    results_path = os.path.join(options.output_dir, "coco_results.json")
    return coco_metrics(image_joints(predictions), predictions.confidence, predictions.meta, options.coco_gt_json,
                        results_path)


def _score_h36m(predictions: Predictions, options: BenchmarkOptions) -> Dict:
    return h36m_metrics(image_joints(predictions), predictions.depth_mm, predictions.meta, options.h36m_protocols,
                        options.root_joint)


def _score_synthetic(predictions: Predictions, options: BenchmarkOptions) -> Dict:
    return synthetic_metrics(image_joints(predictions), predictions.depth_mm, predictions.meta, options.skeleton,
                             options.root_joint, with_error_split=True)


#: Benchmark name -> its protocol.
BENCHMARKS = {benchmark.name: benchmark for benchmark in (
    Benchmark("mpii", _score_mpii, ("Mean", "Mean@0.1", "AUC", *(f"per_part/{part}" for part in mpii_eval.PARTS)),
              curve_title="PCKh on MPII validation"),
    Benchmark("coco", _score_coco, coco_eval.STAT_NAMES),
    Benchmark("h36m", _score_h36m,
              ("protocol1/mean", "protocol1/action_average", "protocol2/mean", "protocol2/action_average"),
              detail_table=h36m_action_table),
    Benchmark("synthetic", _score_synthetic, ("PCK@0.5", "PCK@0.1", "AUC", "MPJPE", "PA-MPJPE")),
)}
DATASETS = tuple(BENCHMARKS)
#: Metrics shown in the markdown table, per benchmark.
TABLE_COLUMNS = {name: benchmark.table_columns for name, benchmark in BENCHMARKS.items()}


def resolve_dataset_name(name: str) -> str:
    """`mpii`, `coco`, `h36m`, `synthetic` (`jsonl` counts as `synthetic`); ValueError otherwise."""
    name = DATASET_ALIASES.get(name, name)
    if name not in DATASETS:
        raise ValueError(f"Unknown benchmark {name!r}; valid: {list(DATASETS)} (or {list(DATASET_ALIASES)})")
    return name


def get_benchmark(name: str) -> Benchmark:
    """The `Benchmark` of `name` (aliases resolved); ValueError naming the valid ones otherwise."""
    return BENCHMARKS[resolve_dataset_name(name)]


def evaluate_predictions(predictions: Predictions, dataset: str, skeleton: Optional[str] = None,
                         gt_valid_mat=None, coco_gt_json=None, output_dir=None, h36m_protocols=(1, 2),
                         root_joint: int = 0) -> Dict:
    """Computes one benchmark's metrics from collected predictions.

    Args:
      predictions: `collect_predictions` output.
      dataset: `mpii`, `coco`, `h36m`, `synthetic` (or `jsonl`).
      skeleton: skeleton name for torso PCK (synthetic); default from the benchmark.
      gt_valid_mat: MPII only, optional official ground truth.
      coco_gt_json: COCO only, required annotation file.
      output_dir: COCO only, required: where `coco_results.json` goes.
      h36m_protocols: Human3.6M protocols to evaluate.
      root_joint: MPJPE alignment joint.

    Returns:
      the benchmark's metrics dict (see the `*_metrics` functions), with `"dataset"` added.
    """
    benchmark = get_benchmark(dataset)
    options = BenchmarkOptions(skeleton or "h36m", gt_valid_mat, coco_gt_json, output_dir, h36m_protocols,
                               root_joint)
    return {"dataset": benchmark.name, **benchmark.score(predictions, options)}


def dataset_of_records(meta: Mapping[str, np.ndarray]) -> str:
    """The benchmark named by the records' `dataset` feature (all records must agree)."""
    names = sorted({value.decode() if isinstance(value, bytes) else str(value)
                    for value in np.asarray(meta["dataset"]).ravel()})
    if len(names) != 1:
        raise ValueError(f"The evaluation records come from several datasets {names}; pass the benchmark name")
    return resolve_dataset_name(names[0])
