"""Benchmark protocols end to end: run a predictor over an evaluation dataset and compute the benchmark's metrics.

    predictions = collect_predictions(model_predict_fn(model, config.model), dataset, flip_permutation=...)
    metrics = evaluate_predictions(predictions, "mpii", gt_valid_mat="gt_valid.mat")
    write_outputs(metrics, "/tmp/eval", label="I1")

The dataset yields `(images (N, H, W, 3), meta)` batches of `Parser.parse_eval` (`InputReader` with
`eval_output="meta"`, see `eval_dataset`). A predictor returns what the exported models' signatures return
(`serving_default`): joints in crop pixels, root-relative depth in mm for 3D models and per-joint confidences;
`model_predict_fn` (Keras model), `saved_model_predict_fn` and `tflite_predict_fn` (exports) build them.
The parser's `crop_to_image` matrix maps crop pixels to the original image, so every benchmark is scored in
original-image pixels:

- `mpii`: PCKh (`mpii_pckh`) against the official `gt_valid.mat` (predictions placed by `image/id`, which the
  MPII converter sets to the person's column in that file) or against the records' joints and head boxes.
- `coco`: rescoring (box score x mean confident joint score), per-image OKS-NMS, a results JSON and the official
  COCOeval (`coco_postprocess`, `coco_keypoint_eval`); AP/AR reported in percent.
- `h36m`: `(u, v, z)` back-projected with the ground-truth root depth and camera (`back_project`), then
  Protocol 1 (PA-MPJPE, S11) and / or 2 (MPJPE, S9 + S11) with the per-action table (`h36m_evaluate_protocol`).
- `synthetic` (also `jsonl`): torso-normalised PCK (`torso_pck`) and, for 3D models, MPJPE / PA-MPJPE.

Flip test (`flip_permutation`): each batch is also predicted mirrored; the mirrored joints are mapped back in
crop pixels (`x -> W - 1 - x`, left/right swapped, `evaluation.flip.unflip_joints`) and averaged with the direct
ones; depths and confidences are left/right swapped and averaged.

This module imports TensorFlow / Keras only inside the functions that build datasets or call models.
"""
import dataclasses
import os
from typing import Callable, Dict, Mapping, Optional, Sequence

import numpy as np
from absl import logging

from integral_keras.data import skeletons
from integral_keras.evaluation import coco as coco_eval
from integral_keras.evaluation import flip
from integral_keras.evaluation import h36m as h36m_eval
from integral_keras.evaluation import mpii as mpii_eval
from integral_keras.evaluation import pck_metrics
from integral_keras.evaluation import plots
from integral_keras.evaluation import report
from integral_keras.evaluation.transforms import apply_affine

DATASETS = ("mpii", "coco", "h36m", "synthetic")
#: Record `dataset` values evaluated like another benchmark (generic 2D/3D records use the synthetic metrics).
DATASET_ALIASES = {"jsonl": "synthetic"}

#: Metrics shown in the markdown table, per benchmark (the rest stays in the JSON).
TABLE_COLUMNS = {
    "mpii": ("Mean", "Mean@0.1", "AUC", *(f"per_part/{part}" for part in mpii_eval.PARTS)),
    "coco": coco_eval.STAT_NAMES,
    "h36m": ("protocol1/mean", "protocol1/action_average", "protocol2/mean", "protocol2/action_average"),
    "synthetic": ("PCK@0.5", "PCK@0.1", "AUC", "MPJPE", "PA-MPJPE"),
}

PredictFn = Callable[[np.ndarray, Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]


@dataclasses.dataclass
class Predictions:
    """Predictions of a whole evaluation set, with the evaluation metadata of every example.

    Attributes:
      joints: `(N, K, 2)` joints in crop pixels.
      confidence: `(N, K)` per-joint confidences.
      meta: the `Parser.parse_eval` metadata, each value an `(N, ...)` numpy array.
      depth_mm: `(N, K)` root-relative depths in mm (3D models), else None.
    """

    joints: np.ndarray
    confidence: np.ndarray
    meta: Dict[str, np.ndarray]
    depth_mm: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return self.joints.shape[0]


def resolve_dataset_name(name: str) -> str:
    """`mpii`, `coco`, `h36m`, `synthetic` (`jsonl` counts as `synthetic`); ValueError otherwise."""
    name = DATASET_ALIASES.get(name, name)
    if name not in DATASETS:
        raise ValueError(f"Unknown benchmark {name!r}; valid: {list(DATASETS)} (or {list(DATASET_ALIASES)})")
    return name


def eval_dataset(file_pattern, parser, batch_size: int, counters=None):
    """One deterministic pass over TFRecords as `(images, meta)` batches (`Parser.parse_eval`).

    Unusable records (damaged, corrupt, undecodable image, bad labels: `integral_keras.data.decoder`) are not
    scored; pass `counters` (`PipelineCounters`) to read how many were skipped, by reason and shard.
    """
    from integral_keras.data.input_reader import InputReader

    return InputReader(file_pattern, parser, batch_size, is_training=False, eval_output="meta",
                       deterministic=True, counters=counters)()


def model_predict_fn(model, model_config, confidence_radius: int = 1) -> PredictFn:
    """Wraps a Keras pose model as a `PredictFn` that decodes exactly like its exported `serving_default`.

    Joints come from the `joints` output (regression / integral methods) or the arg-max of `heatmaps` (H1-H3),
    mapped to crop pixels (and mm) by the model's codec, with the serving confidence
    (`serving.ServingFunctions.predict_crops`).

    Args:
      model: a `build_pose_model` network (or one loaded from `.keras`).
      model_config: its `ModelConfig` (method, joints, sizes, depth, beta).
      confidence_radius: window half-width of the integral confidence.

    Returns:
      callable `(images, meta) -> {"joints": (N, K, 2), "confidence": (N, K)[, "depth_mm": (N, K)]}` numpy arrays
      (meta unused).
    """
    import tensorflow as tf

    from integral_keras.serving.saved_model import ServingFunctions
    from integral_keras.serving.spec import ServingSpec

    spec = ServingSpec.from_config(model_config, confidence_radius=confidence_radius)
    predict = tf.function(ServingFunctions(model, spec).predict_crops, reduce_retracing=True)

    def predict_fn(images, meta=None):
        del meta
        return {key: value.numpy() for key, value in predict(tf.convert_to_tensor(images, tf.float32)).items()}

    return predict_fn


def saved_model_predict_fn(saved_model_dir) -> PredictFn:
    """A `PredictFn` running the `serving_default` signature of a SavedModel written by `export_saved_model`."""
    import tensorflow as tf

    from integral_keras.serving.saved_model import SERVING_DEFAULT

    path = os.fspath(saved_model_dir)
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise FileNotFoundError(f"No SavedModel at {path} (expected saved_model.pb); pass the version directory")
    loaded = tf.saved_model.load(path)
    signature = loaded.signatures[SERVING_DEFAULT]

    def predict_fn(images, meta=None):
        del meta
        outputs = signature(images=tf.convert_to_tensor(images, tf.float32))
        return {key: value.numpy() for key, value in outputs.items()}

    predict_fn.saved_model = loaded  # keeps the loaded object (and its variables) alive with the function
    return predict_fn


def tflite_predict_fn(tflite_path, num_threads: int = 1) -> PredictFn:
    """A `PredictFn` running a `.tflite` export with LiteRT; batches are split / padded to its fixed batch size."""
    from integral_keras.serving.tflite import LiteRTPoseModel

    runner = LiteRTPoseModel(tflite_path, num_threads=num_threads)
    batch_size = runner.input_shape[0]

    def predict_fn(images, meta=None):
        del meta
        images = np.asarray(images, np.float32)
        chunks = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            padding = batch_size - len(chunk)
            if padding:  # repeat the last crop; its copies are dropped below
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], padding, axis=0)])
            chunks.append({key: value[:batch_size - padding] for key, value in runner(chunk).items()})
        return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}

    return predict_fn


def _run(predict_fn: PredictFn, images: np.ndarray, meta) -> Dict[str, np.ndarray]:
    outputs = predict_fn(images, meta)
    if "joints" not in outputs:
        raise KeyError(f"predict_fn must return a dict with 'joints' (N, K, 2) crop pixels; got keys "
                       f"{sorted(outputs)}")
    joints = np.asarray(outputs["joints"], np.float64)
    if joints.ndim != 3 or joints.shape[0] != images.shape[0] or joints.shape[-1] != 2:
        raise ValueError(f"predict_fn returned joints of shape {joints.shape} for {images.shape[0]} images; "
                         f"expected (N, K, 2) crop pixels")
    scores = outputs.get("confidence")
    result = {"joints": joints,
              "confidence": np.ones(joints.shape[:2]) if scores is None else np.asarray(scores, np.float64)}
    if outputs.get("depth_mm") is not None:
        result["depth_mm"] = np.asarray(outputs["depth_mm"], np.float64)
    return result


def collect_predictions(predict_fn: PredictFn, dataset, flip_permutation: Optional[Sequence[int]] = None,
                        max_batches: Optional[int] = None) -> Predictions:
    """Runs `predict_fn` over every `(images, meta)` batch of `dataset`.

    Args:
      predict_fn: `(images (N, H, W, 3), meta) -> {"joints": (N, K, 2) crop pixels, "confidence": (N, K),
        "depth_mm": (N, K)}` (confidence optional, default 1; depth for 3D models). `meta` lets precomputed or
        oracle predictors be evaluated through the same path; `model_predict_fn` ignores it.
      dataset: iterable of `(images, meta)` batches (`eval_dataset`).
      flip_permutation: `(K,)` left/right permutation; enables the flip test.
      max_batches: stop after this many batches (None: the whole set).

    Returns:
      `Predictions`.
    """
    outputs, metas = [], []
    for index, (images, meta) in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        images = np.asarray(images)
        meta = {key: np.asarray(value) for key, value in meta.items()}
        output = _run(predict_fn, images, meta)
        if flip_permutation is not None:
            permutation = list(flip_permutation)
            mirrored = _run(predict_fn, flip.flip_images(images), meta)
            mirrored["joints"] = flip.unflip_joints(mirrored["joints"], images.shape[2], permutation)
            for key in ("confidence", "depth_mm"):
                if key in mirrored:
                    mirrored[key] = mirrored[key][:, permutation]
            output = {key: (value + mirrored[key]) / 2.0 for key, value in output.items()}
        outputs.append(output)
        metas.append(meta)
    if not outputs:
        raise ValueError("The evaluation dataset yielded no examples; check the file pattern and the records")
    joined = {key: np.concatenate([output[key] for output in outputs]) for key in outputs[0]}
    return Predictions(joined["joints"], joined["confidence"],
                       {key: np.concatenate([meta[key] for meta in metas]) for key in metas[0]},
                       joined.get("depth_mm"))


def image_joints(predictions: Predictions) -> np.ndarray:
    """`(N, K, 2)` predicted joints in original-image pixels (through each crop's `crop_to_image`)."""
    return apply_affine(predictions.joints, predictions.meta["crop_to_image"])


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


def synthetic_metrics(joints_px, z_mm, meta: Mapping[str, np.ndarray], skeleton: str, root_joint: int = 0) -> Dict:
    """Torso PCK (`torso_pck`) and, with `z_mm` and cameras, MPJPE / PA-MPJPE after back-projection."""
    metrics = pck_metrics.torso_pck(joints_px, meta["keypoints_2d"], np.asarray(meta["visible"]) > 0, skeleton)
    if z_mm is not None:
        usable = (np.asarray(meta["has_3d"]) > 0) & np.all(np.asarray(meta["focal"]) > 0, axis=-1)
        if usable.any():
            uvz = np.concatenate([joints_px, np.asarray(z_mm)[..., None]], axis=-1)[usable]
            pred = h36m_eval.back_project(uvz, meta["root_depth"][usable], meta["focal"][usable],
                                          meta["principal_point"][usable])
            gt = np.asarray(meta["keypoints_3d"], np.float64)[usable]
            metrics["MPJPE"] = h36m_eval.mpjpe(pred, gt, root=root_joint)
            metrics["PA-MPJPE"] = h36m_eval.pa_mpjpe(pred, gt)
    metrics["num_examples"] = int(np.asarray(joints_px).shape[0])
    return metrics


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
    dataset = resolve_dataset_name(dataset)
    joints_px, z_mm, meta = image_joints(predictions), predictions.depth_mm, predictions.meta
    if dataset == "mpii":
        metrics = mpii_metrics(joints_px, meta, gt_valid_mat)
    elif dataset == "coco":
        if coco_gt_json is None or output_dir is None:
            raise ValueError("COCO evaluation needs coco_gt_json (person_keypoints_val2017.json) and output_dir "
                             "(for coco_results.json)")
        results_path = os.path.join(output_dir, "coco_results.json")
        metrics = coco_metrics(joints_px, predictions.confidence, meta, coco_gt_json, results_path)
    elif dataset == "h36m":
        metrics = h36m_metrics(joints_px, z_mm, meta, h36m_protocols, root_joint)
    else:
        metrics = synthetic_metrics(joints_px, z_mm, meta, skeleton or "h36m", root_joint)
    return {"dataset": dataset, **metrics}


def _h36m_action_table(metrics: Mapping) -> str:
    rows = {f"Protocol {value['protocol']} ({value['metric']})": value["per_action"]
            for key, value in metrics.items() if key.startswith("protocol")}
    if not rows:
        return ""
    return report.markdown_table(rows, columns=list(h36m_eval.ACTION_NAMES.values()), row_header="Protocol")


def write_outputs(metrics: Mapping, output_dir, label: str = "run", summary_writer=None, step: int = 0) -> Dict:
    """Writes `metrics.json`, `metrics.md` and, for PCK benchmarks, `pck_curve.png` to `output_dir`.

    Args:
      metrics: `evaluate_predictions` output.
      output_dir: output folder (created).
      label: the run's name in the table and the plot legend.
      summary_writer: optional TensorBoard writer (`tf.summary.create_file_writer` or the trainer's
        `SummaryWriter`): every scalar metric is written as `benchmark/<dataset>/<name>` at `step`.
      step: the summary step.

    Returns:
      dict of the paths written (`json`, `markdown`, and `plot` when drawn).
    """
    dataset = resolve_dataset_name(metrics["dataset"])
    output_dir = os.fspath(output_dir)
    os.makedirs(output_dir, exist_ok=True)
    paths = {"json": report.write_metrics_json(metrics, os.path.join(output_dir, "metrics.json")),
             "markdown": os.path.join(output_dir, "metrics.md")}
    table = report.markdown_table({label: metrics}, columns=TABLE_COLUMNS[dataset])
    if dataset == "h36m":
        table += "\n" + _h36m_action_table(metrics)
    with open(paths["markdown"], "w", encoding="utf-8") as f:
        f.write(table)
    if "curve" in metrics:
        title = "PCKh on MPII validation" if dataset == "mpii" else "Torso PCK"
        paths["plot"] = plots.plot_pck_curves({label: metrics}, os.path.join(output_dir, "pck_curve.png"), title)
    if summary_writer is not None:
        write_scalars(metrics, summary_writer, step, prefix=f"benchmark/{dataset}/")
    return paths


def write_scalars(metrics: Mapping, summary_writer, step: int, prefix: str = "benchmark/") -> None:
    """Writes every scalar of `metrics` (nested keys joined by `/`) to a TensorBoard writer."""
    import tensorflow as tf

    with summary_writer.as_default():
        for name, value in report.scalar_metrics(metrics, prefix=prefix).items():
            tf.summary.scalar(name, value, step=step)
    summary_writer.flush()


def compare_runs(metrics_files: Sequence[str], path, labels: Optional[Sequence[str]] = None) -> str:
    """Plots the PCK curves of several runs' `metrics.json` in one PNG (the paper's Fig. 2).

    Args:
      metrics_files: `metrics.json` paths written by `write_outputs` (MPII or synthetic runs).
      path: output PNG.
      labels: legend labels; default: each file's folder name.

    Returns:
      the path written.
    """
    if labels is not None and len(labels) != len(metrics_files):
        raise ValueError(f"{len(labels)} labels for {len(metrics_files)} metrics files")
    runs = {}
    for index, metrics_file in enumerate(metrics_files):
        metrics = report.read_metrics_json(metrics_file)
        if "curve" not in metrics:
            raise KeyError(f"{metrics_file} has no PCK curve (dataset {metrics.get('dataset')!r}); "
                           f"--compare needs MPII or synthetic runs")
        label = labels[index] if labels else os.path.basename(os.path.dirname(os.path.abspath(metrics_file)))
        runs[label] = metrics
    datasets = {metrics.get("dataset") for metrics in runs.values()}
    title = "PCKh on MPII validation" if datasets == {"mpii"} else "PCK"
    return plots.plot_pck_curves(runs, path, title=title)


def dataset_of_records(meta: Mapping[str, np.ndarray]) -> str:
    """The benchmark named by the records' `dataset` feature (all records must agree)."""
    names = sorted({value.decode() if isinstance(value, bytes) else str(value)
                    for value in np.asarray(meta["dataset"]).ravel()})
    if len(names) != 1:
        raise ValueError(f"The evaluation records come from several datasets {names}; pass the benchmark name")
    return resolve_dataset_name(names[0])


def run_benchmark(config, predict_fn: PredictFn, file_pattern=None, dataset: Optional[str] = None,
                  flip_test: bool = False, gt_valid_mat=None, coco_gt_json=None, output_dir=None,
                  label: str = "run", summary_writer=None, step: int = 0, max_batches: Optional[int] = None,
                  h36m_protocols: Sequence[int] = (1, 2)) -> Dict:
    """Evaluates a predictor on an experiment's validation records with the benchmark's protocol.

    Args:
      config: an `ExperimentConfig` (model sizes and method, data skeleton and batch size).
      predict_fn: see `collect_predictions` (e.g. `model_predict_fn(model, config.model)`).
      file_pattern: TFRecord glob(s); default `config.data.val_file_pattern`.
      dataset: benchmark name; default: the records' `dataset` feature.
      flip_test: average with the predictions of the mirrored crops.
      gt_valid_mat, coco_gt_json: see `evaluate_predictions`.
      output_dir: where `write_outputs` writes (and the COCO results JSON); None writes nothing.
      label: run name in the table and plot.
      summary_writer, step: TensorBoard scalars (see `write_outputs`).
      max_batches: evaluate only the first batches (quick checks; the numbers are then not the benchmark's).
      h36m_protocols: Human3.6M protocols.

    Returns:
      the metrics dict (`evaluate_predictions`), with `"flip_test"` added.
    """
    from integral_keras.data.parser import build_parser

    file_pattern = file_pattern or config.data.val_file_pattern
    if not file_pattern:
        from integral_keras.configs.base import ConfigError  # pylint: disable=import-outside-toplevel

        raise ConfigError("data.val_file_pattern", "is empty: no evaluation records; set it in the config (the "
                                                   "demo's runs keep theirs in <model_dir>/config.yaml) or pass "
                                                   "--file_pattern")
    from integral_keras.data.input_reader import PipelineCounters

    parser = build_parser(config.model, config.data)
    counters = PipelineCounters()
    batches = eval_dataset(file_pattern, parser, config.data.eval_batch_size, counters=counters)
    permutation = skeletons.get_skeleton(config.data.skeleton).flip_permutation() if flip_test else None
    predictions = collect_predictions(predict_fn, batches, permutation, max_batches)
    dataset = resolve_dataset_name(dataset) if dataset else dataset_of_records(predictions.meta)
    metrics = evaluate_predictions(predictions, dataset, config.data.skeleton, gt_valid_mat, coco_gt_json,
                                   output_dir, h36m_protocols, config.eval.root_joint)
    metrics["flip_test"] = bool(flip_test)
    # The records that were not scored, by reason (every reason, zeros included) and by shard.
    skips = counters.result()
    metrics["records_skipped"] = {name: skips[name] for name in PipelineCounters.REASONS}
    metrics["records_skipped_total"] = sum(metrics["records_skipped"].values())
    # A list, so that the file names do not become TensorBoard scalar tags (`report.scalar_metrics` drops lists).
    metrics["records_skipped_by_shard"] = [dict(file=path, **counts) for path, counts in counters.by_shard().items()]
    for line in counters.summary_lines(f"{label} evaluation input"):
        (logging.warning if metrics["records_skipped_total"] else logging.info)("%s", line)
    if output_dir is not None:
        write_outputs(metrics, output_dir, label, summary_writer, step)
    elif summary_writer is not None:
        write_scalars(metrics, summary_writer, step, prefix=f"benchmark/{dataset}/")
    logging.info("%s on %s (%d examples): %s", label, dataset, len(predictions),
                 {key: value for key, value in report.scalar_metrics(metrics).items() if "/" not in key})
    return metrics
