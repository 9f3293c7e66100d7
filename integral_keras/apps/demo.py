"""The end-to-end demo behind `make demo`: synthetic data -> train (2D, 3D) -> evaluate -> export -> predict.

Every stage goes through the package's public functions (`write_dataset`, `load_experiment`, `run_experiment`,
`mean_pose_metrics`, `export_saved_model`, `export_tflite`, `LiteRTPoseModel`, `PosePredictor`, `run_benchmark`,
`pose_comparison`, `pose_views_3d`, `plot_pck_curves`, `plot_loss_curves`), so the demo exercises the same path a
user takes. `run_demo` returns one `DemoResult` per model, each with the mean-pose baseline (the floor) of its data,
and `results_table` formats them, every model row followed by its floor row.

Figures (docs/demo.md, "Pictures"): per model, `<work_dir>/overlays/demo_overlay_<name>_<i>.png` (prediction |
ground truth on the enlarged crop, plus the front and side 3D views for 3D models), `<work_dir>/eval/<name>/`
(`metrics.json`, `metrics.md`, `pck_curve.png` as `scripts/evaluate.py` writes them, and `loss_curve.png`); for
the README, `<work_dir>/figures/` (`FIGURE_NAMES`).
"""
import dataclasses
import os
import pathlib
import shutil
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np

from integral_keras.configs.experiment import load_experiment
from integral_keras.core import skeletons
from integral_keras.data.synthetic import generator as synthetic
from integral_keras.training import precision

# The README's pictures, written to `<work_dir>/figures/` (and copied by `copy_figures`).
FIGURE_NAMES = ("demo_overlays_2d.png", "demo_overlays_3d.png", "demo_pck_curves.png", "demo_loss_curves.png")
# Metric columns of the results table (percent, percent, percent, mm, mm).
METRIC_COLUMNS = ("PCK@0.5", "PCK@0.1", "AUC", "MPJPE", "PA-MPJPE")
# The 2D-only Strategy 2 set is drawn with this seed offset, so its people differ from the main set's.
MIX_2D_SEED_OFFSET = 1000
# The ETA's plan of a training stage: set-up (tracing, first evaluation) plus images at this rate, about what the
# demo's width-128 HourGlass reaches on 2 idle cores in float32 with AVX2 (docs/demo.md: 110 img/s for the 2D model,
# 90 for the 3D model with its Strategy 2 input); `speed_note` warns at SLOW_FACTOR x.
PLANNED_SETUP_SECONDS = 30.0
PLANNED_IMAGES_PER_SECOND = 100.0
SLOW_FACTOR = 1.25
# Overlays per model on the README's contact sheets.
SHEET_OVERLAYS = 2
# Skeleton of the demo's main synthetic set (2D and 3D labels).
DATA_SKELETON = "h36m"


@dataclasses.dataclass(frozen=True)
class DemoBudget:
    """The configs and data size of one demo budget (`scripts/demo.py --budget`).

    Attributes:
      configs: experiment YAML files, one model each.
      num_train: synthetic training records (and as many 2D-only Strategy 2 records).
      work_dir: default directory of the run.
    """

    configs: Tuple[str, ...]
    num_train: int
    work_dir: str


# `demo`: `make demo`, about 10-15 minutes on 2 CPU cores. `full`: `make demo-full`, the same networks trained long
# enough for issue 12's 3D targets (docs/demo.md, "The full budget"): about an hour on 2 cores in bfloat16.
BUDGETS = {
    "demo": DemoBudget(configs=("configs/demo_2d.yaml", "configs/demo_3d.yaml"), num_train=3000,
                       work_dir="runs/demo"),
    "full": DemoBudget(configs=("configs/demo_full_2d.yaml", "configs/demo_full_3d.yaml"), num_train=12000,
                       work_dir="runs/demo_full"),
}

# Overrides that shrink every run to a smoke test (`--quick`).
QUICK_OVERRIDES = ("model.deconv_filters=16", "data.batch_size=4", "data.eval_batch_size=8", "data.shuffle_buffer=8",
                   "train.total_steps=4", "train.steps_per_epoch=4", "train.log_every_steps=2",
                   "train.checkpoint_every_steps=4", "train.lr_boundaries=[]", "train.lr_values=[]")


@dataclasses.dataclass(frozen=True)
class DemoSettings:
    """Sizes of one demo run.

    Attributes:
      work_dir: data, model directories and overlays go here (removed first: the demo starts from scratch).
      export_dir: SavedModels go to `<export_dir>/<name>/1/`, TFLite files to `<export_dir>/<name>/tflite/`.
      configs: experiment YAML files, one model each (2D and/or 3D).
      num_train: synthetic training records.
      num_val: held-out synthetic records (a different split of the generator).
      image_size: side of the synthetic images, pixels.
      quantizations: TFLite variants to export and check.
      num_overlays: held-out images drawn with the predicted skeleton.
      overrides: extra dotted overrides applied to every config.
      seed: data-set seed (the 2D-only Strategy 2 set uses `seed + MIX_2D_SEED_OFFSET`).
      panel_size: side of each overlay panel, pixels (the crop is enlarged to it).
      warm_start_3d: a 3D model starts from the weights of an earlier 2D model of the run with the same network
        (`with_warm_starts`); False: every model starts from its own initialisation.
    """

    work_dir: str = BUDGETS["demo"].work_dir
    export_dir: str = "saved_models"
    configs: Sequence[str] = BUDGETS["demo"].configs
    num_train: int = BUDGETS["demo"].num_train
    num_val: int = 320
    image_size: int = 96
    quantizations: Sequence[str] = ("float32", "float16", "dynamic_int8")
    num_overlays: int = 4
    overrides: Sequence[str] = ()
    seed: int = 0
    panel_size: int = 256
    warm_start_3d: bool = True

    @classmethod
    def for_budget(cls, budget: str, *, work_dir: Optional[str] = None, configs: Optional[Sequence[str]] = None,
                   num_train: Optional[int] = None, **others) -> "DemoSettings":
        """Settings of one budget of `BUDGETS`; `work_dir`, `configs` and `num_train` given (not None) win.

        Raises:
          ValueError: `budget` is not a key of `BUDGETS`.
        """
        if budget not in BUDGETS:
            raise ValueError(f"Unknown demo budget {budget!r}; expected one of {sorted(BUDGETS)}.")
        chosen = BUDGETS[budget]
        return cls(work_dir=work_dir or chosen.work_dir, configs=tuple(configs or chosen.configs),
                   num_train=num_train or chosen.num_train, **others)


@dataclasses.dataclass
class DemoResult:
    """What the demo measured for one model (metrics in percent / mm; sizes in bytes).

    `precision` is the dtype the model trained in (`float32`, `bfloat16`, `float16`). `baseline` holds the
    mean-pose metrics of the same train / held-out data (`evaluation.baseline.mean_pose_metrics`: the floor),
    `figures` the per-model pictures (`pck_curve`, `loss_curve`, `metrics_json`), `depth` the model's depth bins
    (1: a 2D model), `warm_start` the run the model started from (`with_warm_starts`; '' for its own init).
    """

    name: str
    method: str
    precision: str
    input_size: int
    heatmap: str
    steps: int
    batch_size: int
    train_seconds: float
    images_per_second: float
    metrics: Dict[str, float]
    export_path: str
    export_bytes: Dict[str, int]
    tflite_max_error_px: Dict[str, float]
    overlays: List[str]
    baseline: Optional[Dict[str, float]] = None
    figures: Dict[str, str] = dataclasses.field(default_factory=dict)
    depth: int = 1
    warm_start: str = ""


class StageClock:
    """Logs the stage being run, time spent so far and an estimate of the time left from the planned shares."""

    def __init__(self, stages: Sequence[str], shares: Sequence[float]):
        self.stages = list(stages)
        self.shares = np.asarray(shares, np.float64) / np.sum(shares)
        self.start = time.perf_counter()
        self.index = -1

    def next(self, detail: str = "") -> None:
        self.index += 1
        elapsed = time.perf_counter() - self.start
        done = float(np.sum(self.shares[:self.index]))
        eta = f", ETA {elapsed / done * (1 - done):.0f} s" if done > 0.05 else ""
        logging.info("[demo %d/%d] %s %s(elapsed %.0f s%s)", self.index + 1, len(self.stages),
                     self.stages[self.index], f"{detail} " if detail else "", elapsed, eta)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def generate_data(data_dir: str, settings: DemoSettings) -> None:
    """Writes the synthetic train / val shards (H36M skeleton: 2D and 3D labels) that `synthetic.file_pattern`
    globs."""
    synthetic.write_dataset(data_dir, settings.num_train, settings.num_val, image_size=settings.image_size,
                            skeleton=DATA_SKELETON, seed=settings.seed, num_shards=2)


def mix_2d_data_dir(work_dir, skeleton: str) -> str:
    """Folder of the demo's 2D-only Strategy 2 set of `skeleton` (`<work_dir>/data_2d_<skeleton>`)."""
    return str(pathlib.Path(work_dir) / f"data_2d_{skeleton}")


def generate_mix_2d_data(data_dir: str, skeleton: str, settings: DemoSettings) -> None:
    """Writes `settings.num_train` 2D-only training records (`has_3d = 0`) of `skeleton` for Strategy 2.

    Same image size as the main set, another seed (`settings.seed + MIX_2D_SEED_OFFSET`), so these people are not
    the main set's with their 3D labels hidden.
    """
    synthetic.write_dataset(data_dir, settings.num_train, 0, image_size=settings.image_size, skeleton=skeleton,
                            seed=settings.seed + MIX_2D_SEED_OFFSET, num_shards=2, with_3d=False)


def with_mix_2d_data(config, work_dir) -> Tuple[object, Optional[str]]:
    """Points a Strategy 2 config at the demo's 2D-only set.

    A config that names `data.mix_2d_skeleton` but no `data.mix_2d_file_pattern` gets
    `data.mix_2d_file_pattern=[<work_dir>/data_2d_<skeleton>/train-*-of-*.tfrecord]` (validated now; the demo
    writes those records before training).

    Returns:
      `(config, skeleton)`: the config (changed or not) and the skeleton of the set to write, or None.
    """
    skeleton = config.data.mix_2d_skeleton
    if skeleton is None or config.data.mix_2d_file_pattern:
        return config, None
    pattern = synthetic.file_pattern(mix_2d_data_dir(work_dir, skeleton), "train")
    return config.override([f"data.mix_2d_file_pattern=[{pattern}]"]), skeleton


def _same_network(a, b) -> bool:
    """Whether two model configs have the same layers apart from the heat-map depth (and the integral layer)."""
    fields = ("backbone", "num_joints", "input_size", "heatmap_size", "num_stages", "num_deconv", "deconv_filters",
              "upsample", "hourglass_features")
    return all(getattr(a, name) == getattr(b, name) for name in fields)


def with_warm_starts(configs: Sequence, work_dir) -> List:
    """Sets `train.init_checkpoint` of each 3D config to the run directory of an earlier 2D config of the list
    with the same network (`training.warm_start`: its heat-map layer is inflated along depth).

    The 3D model then starts with the 2D model's joints (x, y) and the middle depth bin, and its training has the
    depth left to learn (docs/demo.md, "The 3D model"). A config that sets `train.init_checkpoint` itself, or has no
    such 2D predecessor, is left as it is.

    Args:
      configs: `ExperimentConfig`s in training order.
      work_dir: the demo's work directory (a model's run directory is `<work_dir>/<export_name>`).

    Returns:
      the configs, the changed ones replaced.
    """
    from integral_keras.modeling.pose_model import export_name  # pylint: disable=import-outside-toplevel

    result = []
    for index, config in enumerate(configs):
        if config.model.depth > 1 and not config.train.init_checkpoint:
            donors = [c for c in configs[:index] if c.model.depth == 1 and _same_network(c.model, config.model)]
            if donors:
                source = pathlib.Path(work_dir) / export_name(donors[-1])
                config = config.override([f"train.init_checkpoint={source}"])
        result.append(config)
    return result


def baseline_key(config) -> Tuple:
    """What the mean-pose baseline of a config depends on: its train / held-out data, skeleton and root joint."""
    return (tuple(config.data.train_file_pattern), tuple(config.data.val_file_pattern), config.data.skeleton,
            config.eval.root_joint)


def floor_metrics(config, mean_pose_metrics=None) -> Dict[str, float]:
    """The mean-pose baseline of a config's data (`evaluation.baseline.mean_pose_metrics`, or the callable given
    with its signature): percent / mm, keys of `METRIC_COLUMNS` (3D keys only where the data has 3D labels)."""
    if mean_pose_metrics is None:
        from integral_keras.evaluation import baseline  # pylint: disable=import-outside-toplevel

        mean_pose_metrics = baseline.mean_pose_metrics
    train, val, skeleton, root_joint = baseline_key(config)
    metrics = mean_pose_metrics(list(train), list(val), skeleton, root_joint=root_joint)
    return {key: float(metrics[key]) for key in METRIC_COLUMNS if key in metrics}


def display_precision(setting: str) -> str:
    """The dtype a `train.mixed_precision` setting trains in, as the results table prints it (`none` -> float32)."""
    resolved = precision.resolve(setting)
    return "float32" if resolved == "none" else resolved


def _file_size(path) -> int:
    path = pathlib.Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def train_model(config, model_dir: str):
    """Trains and evaluates one experiment with `run_experiment`; returns `(results, train_seconds)`."""
    from integral_keras.training.runner import run_experiment  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    results = run_experiment(config, model_dir, mode="train_and_eval")
    return results, time.perf_counter() - start


def export_model(config, model_dir: str, export_dir: str, name: str, quantizations: Sequence[str]):
    """Exports the trained model as SavedModel version 1 and TFLite files; returns `(model, spec, paths)`."""
    from integral_keras import serving  # pylint: disable=import-outside-toplevel

    model = serving.load_pose_model(config, checkpoint=os.path.join(model_dir, "checkpoints"))
    spec = serving.ServingSpec.from_config(config, name=name)
    shutil.rmtree(pathlib.Path(export_dir) / name, ignore_errors=True)
    paths = {"saved_model": serving.export_saved_model(model, spec, export_dir, version=1)}
    paths.update(serving.export_tflite_files(model, serving.tflite_paths(export_dir, name, quantizations), spec))
    return model, spec, paths


def held_out_crops(config, val_pattern: str, count: int) -> np.ndarray:
    """`(count, H, W, 3)` float32 validation crops through the package's evaluation pipeline."""
    from integral_keras.data.input_reader import InputReader  # pylint: disable=import-outside-toplevel
    from integral_keras.data.parser import build_parser  # pylint: disable=import-outside-toplevel

    parser = build_parser(config.model, config.data)
    dataset = InputReader(file_pattern=(val_pattern,), parser=parser, batch_size=count, is_training=False,
                          eval_output="meta")()
    images, _ = next(iter(dataset))
    return images.numpy().astype(np.float32)


def tflite_parity(saved_model_path, tflite_paths: Dict[str, pathlib.Path], crops: np.ndarray) -> Dict[str, float]:
    """Largest joint difference (input pixels) between each `.tflite` and the SavedModel's `serving_default`."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from integral_keras import serving  # pylint: disable=import-outside-toplevel

    reference = tf.saved_model.load(str(saved_model_path)).signatures[serving.SERVING_DEFAULT]
    expected = reference(images=tf.constant(crops))["joints"].numpy()
    errors = {}
    for quantization, path in tflite_paths.items():
        runner = serving.LiteRTPoseModel(path)
        got = np.concatenate([runner(crop[None])["joints"] for crop in crops])
        errors[quantization] = float(np.max(np.abs(got - expected)))
    return errors


def overlay_figure(sample, predicted: Dict[str, np.ndarray], skeleton, panel_size: int = 256,
                   root_joint: int = 0) -> np.ndarray:
    """The demo's picture of one prediction: enlarged crop, prediction | ground truth, and 3D views for 3D models.

    Args:
      sample: a `SyntheticSample` (image, 2D / 3D labels, camera, person box).
      predicted: `PosePredictor.predict` output: `joints` `(K, 2)` image pixels and, for 3D models, `depth_mm`
        `(K,)` root-relative depth, mm.
      skeleton: the joints' `Skeleton`.
      panel_size: side of each image panel, pixels.
      root_joint: root of the 3D poses.

    Returns:
      uint8 RGB image: `pose_comparison` of the crop the model saw (the record's box, `sample.scale`); for a 3D
      model (`depth_mm` given) with its `pose_views_3d` below: the prediction back-projected with the true root depth
      and camera (as the evaluation does), against `sample.keypoints_3d`, root-relative mm, titled with this
      image's MPJPE and PA-MPJPE.
    """
    from integral_keras import evaluation  # pylint: disable=import-outside-toplevel
    from integral_keras import visualization  # pylint: disable=import-outside-toplevel

    comparison = visualization.pose_comparison(sample.image, predicted["joints"], sample.keypoints_2d, skeleton,
                                               visible=sample.visible, center=sample.center,
                                               side=float(sample.scale[0]), panel_size=panel_size)
    if "depth_mm" not in predicted:
        return comparison
    uvz = np.concatenate([predicted["joints"][:, :2], predicted["depth_mm"][:, None]], axis=-1)[None]
    pose = evaluation.back_project(uvz, [sample.root_depth], sample.focal, sample.principal_point)[0]
    truth = np.asarray(sample.keypoints_3d, np.float64)
    errors = (evaluation.mpjpe(pose[None], truth[None], root=root_joint), evaluation.pa_mpjpe(pose[None], truth[None]))
    views = visualization.pose_views_3d(pose, truth, skeleton, root_joint=root_joint,
                                        size=(comparison.shape[1], int(comparison.shape[1] * 0.6)),
                                        title=f"3D, root-relative: MPJPE {errors[0]:.0f} mm, "
                                              f"PA-MPJPE {errors[1]:.0f} mm")
    return np.concatenate([comparison, views], axis=0)


def draw_overlays(saved_model_path, settings: DemoSettings, out_dir: str, name: str, root_joint: int = 0
                  ) -> List[str]:
    """Runs `PosePredictor` (the `serve_image_bytes` signature) on held-out images of the demo's data
    (`DATA_SKELETON`); writes `overlay_figure` PNGs.

    Returns:
      the paths, `<out_dir>/demo_overlay_<name>_<i>.png` for `i < settings.num_overlays`.
    """
    import cv2  # pylint: disable=import-outside-toplevel

    from integral_keras import serving  # pylint: disable=import-outside-toplevel

    predictor = serving.PosePredictor.from_saved_model(saved_model_path)
    joints = skeletons.get_skeleton(DATA_SKELETON)
    source = synthetic.SyntheticPoseGenerator(DATA_SKELETON, settings.image_size, settings.seed)
    pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(settings.num_overlays):
        sample = source.sample(index, "val")
        encoded = cv2.imencode(".png", cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR))[1].tobytes()
        # The held-out image itself, for scripts/predict.py (the README's commands run on it).
        pathlib.Path(out_dir, f"held_out_{index}.png").write_bytes(encoded)
        # The record's crop size is already padded: shrink it by the predictor's padding so that the predictor
        # crops the same square as training / evaluation did.
        side = float(sample.scale[0]) / predictor.spec.box_padding
        box = [sample.center[0] - side / 2, sample.center[1] - side / 2, side, side]
        predicted = predictor.predict(encoded, box)
        figure = overlay_figure(sample, predicted, joints, settings.panel_size, root_joint)
        path = os.path.join(out_dir, f"demo_overlay_{name}_{index}.png")
        cv2.imwrite(path, cv2.cvtColor(figure, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def evaluate_export(config, saved_model_path, out_dir: str, name: str) -> Dict:
    """Evaluates the SavedModel on the held-out records as `scripts/evaluate.py` does (`run_benchmark`).

    Writes `<out_dir>/metrics.json`, `metrics.md` and `pck_curve.png`; returns the metrics (with `"thresholds"`
    and `"curve"`, the torso PCK curve).
    """
    from integral_keras.evaluation import protocols  # pylint: disable=import-outside-toplevel
    from integral_keras.serving import predict_fns  # pylint: disable=import-outside-toplevel

    return protocols.run_benchmark(config, predict_fns.saved_model_predict_fn(saved_model_path), output_dir=out_dir,
                                   label=name)


def loss_curve(model_dir: str, path: str, name: str) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Plots the run's training losses (`<model_dir>/train` summaries) to `path`; returns the scalars read."""
    from integral_keras import visualization  # pylint: disable=import-outside-toplevel

    scalars = visualization.read_scalars(os.path.join(model_dir, "train"))
    visualization.plot_loss_curves({name: scalars}, path, title=f"Training loss of {name}")
    return scalars


def summary_figures(results: Sequence[DemoResult], pck_runs: Dict[str, Dict], loss_runs: Dict[str, Dict],
                    figures_dir: str) -> Dict[str, str]:
    """Writes the README's pictures (`FIGURE_NAMES`) to `figures_dir`; returns name -> path of those written.

    `demo_overlays_2d.png` / `demo_overlays_3d.png`: the first `SHEET_OVERLAYS` overlays of each 2D / 3D model, a
    row per model; `demo_pck_curves.png`: the torso PCK curve of every model (`pck_runs`: name -> `run_benchmark`
    metrics); `demo_loss_curves.png`: the training losses of every model (`loss_runs`: name -> `read_scalars`).
    """
    import cv2  # pylint: disable=import-outside-toplevel

    from integral_keras import visualization  # pylint: disable=import-outside-toplevel
    from integral_keras.evaluation import plots  # pylint: disable=import-outside-toplevel

    pathlib.Path(figures_dir).mkdir(parents=True, exist_ok=True)
    written = {}
    for dims, figure_name in (("2d", FIGURE_NAMES[0]), ("3d", FIGURE_NAMES[1])):
        rows = [r.overlays[:SHEET_OVERLAYS] for r in results if r.overlays and (r.depth > 1) == (dims == "3d")]
        if rows:
            columns = max(len(row) for row in rows)
            images = [cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB) for row in rows for path in row]
            sheet = visualization.stack_images(images, columns=columns)
            path = os.path.join(figures_dir, figure_name)
            cv2.imwrite(path, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
            written[figure_name] = path
    if pck_runs:
        written[FIGURE_NAMES[2]] = plots.plot_pck_curves(
            pck_runs, os.path.join(figures_dir, FIGURE_NAMES[2]), title="Torso PCK on the held-out synthetic images")
    if loss_runs:
        written[FIGURE_NAMES[3]] = visualization.plot_loss_curves(loss_runs,
                                                                  os.path.join(figures_dir, FIGURE_NAMES[3]))
    return written


def copy_figures(work_dir: str, destination: str) -> List[str]:
    """Copies the README's pictures (`<work_dir>/figures/<FIGURE_NAMES>`) to `destination` (e.g. `docs/images`).

    Raises:
      FileNotFoundError: none of them exists (the demo has not run in `work_dir`).
    """
    sources = [pathlib.Path(work_dir) / "figures" / name for name in FIGURE_NAMES]
    present = [source for source in sources if source.is_file()]
    if not present:
        raise FileNotFoundError(f"No demo figures in {pathlib.Path(work_dir) / 'figures'}: run the demo first.")
    pathlib.Path(destination).mkdir(parents=True, exist_ok=True)
    return [shutil.copyfile(source, pathlib.Path(destination) / source.name) for source in present]


def _planned_seconds(config, num_val: int) -> List[float]:
    """Rough seconds of the train, export and check stages of one config on 2 CPU cores (the ETA's plan)."""
    images = config.train.total_steps * config.data.batch_size
    return [PLANNED_SETUP_SECONDS + images / PLANNED_IMAGES_PER_SECOND, 20.0, 12.0 + num_val / 60.0]


def speed_note(name: str, images: int, seconds: float) -> Optional[str]:
    """A warning when a model trained clearly slower than the demo's plan (`PLANNED_IMAGES_PER_SECOND`), else None.

    The demo shortens nothing on a slow machine; it says how much slower it is, with the measured rate.

    Args:
      name: the model.
      images: images trained (steps x batch).
      seconds: the training stage's wall time (tracing and evaluations included, as planned).
    """
    planned = PLANNED_SETUP_SECONDS + images / PLANNED_IMAGES_PER_SECOND
    if seconds <= SLOW_FACTOR * planned:
        return None
    return (f"{name} trained at {images / seconds:.1f} img/s (evaluations included): {seconds / planned:.1f}x the "
            f"{planned:.0f} s planned for this stage (the plan assumes about {PLANNED_IMAGES_PER_SECOND:.0f} img/s: "
            "2 idle cores with AVX2, float32). The demo runs every step anyway; expect the rest to take "
            "proportionally longer (another load on the machine, or an older or busier CPU: docs/demo.md).")


def run_demo(settings: DemoSettings, mean_pose_metrics: Optional[Callable[..., Dict[str, float]]] = None
             ) -> List[DemoResult]:
    """Runs the whole demo (see the module docstring) and returns one `DemoResult` per config.

    Args:
      settings: sizes and paths.
      mean_pose_metrics: the floor's function, `(train_patterns, val_patterns, skeleton, root_joint=) -> metrics`;
        default `integral_keras.evaluation.baseline.mean_pose_metrics`. It runs once per distinct data set
        (`baseline_key`), before any training, and its metrics go to every `DemoResult` of that data.
    """
    from integral_keras.modeling.pose_model import export_name  # pylint: disable=import-outside-toplevel

    work_dir = pathlib.Path(settings.work_dir)
    shutil.rmtree(work_dir, ignore_errors=True)
    data_dir = str(work_dir / "data")
    patterns = {split: synthetic.file_pattern(data_dir, split) for split in synthetic.SPLITS}
    # Every config is loaded and validated first, so that a bad one fails in seconds, not after the first model.
    configs, mix_skeletons = [], []
    for path in settings.configs:
        config = load_experiment([path], [f"data.train_file_pattern=[{patterns['train']}]",
                                          f"data.val_file_pattern=[{patterns['val']}]", *settings.overrides])
        config, mix_skeleton = with_mix_2d_data(config, work_dir)
        configs.append(config)
        if mix_skeleton is not None and mix_skeleton not in mix_skeletons:
            mix_skeletons.append(mix_skeleton)
    if settings.warm_start_3d:
        configs = with_warm_starts(configs, work_dir)
    baseline_keys = list(dict.fromkeys(baseline_key(config) for config in configs))
    stages = ["generate synthetic data"]
    shares = [(settings.num_train + settings.num_val) / 450.0]
    for skeleton in mix_skeletons:
        stages.append(f"generate 2D-only {skeleton} data (Strategy 2)")
        shares.append(settings.num_train / 450.0)
    for _ in baseline_keys:
        stages.append("mean-pose baseline (the floor)")
        shares.append(3.0 + (settings.num_train + settings.num_val) / 400.0)
    for path, config in zip(settings.configs, configs):
        stem = pathlib.Path(path).stem
        stages += [f"train + evaluate {stem}", f"export {stem}", f"TFLite parity, overlays, curves {stem}"]
        shares += _planned_seconds(config, settings.num_val)
    clock = StageClock(stages, shares)

    clock.next(f"({settings.num_train} train + {settings.num_val} held-out images, {settings.image_size} px)")
    generate_data(data_dir, settings)
    for skeleton in mix_skeletons:
        clock.next(f"({settings.num_train} train images, {settings.image_size} px, has_3d = 0)")
        generate_mix_2d_data(mix_2d_data_dir(work_dir, skeleton), skeleton, settings)
    baselines = {}
    for key in baseline_keys:
        clock.next(f"({key[2]} skeleton, root joint {key[3]})")
        baselines[key] = floor_metrics(next(c for c in configs if baseline_key(c) == key), mean_pose_metrics)
        logging.info("Mean-pose baseline (train mean pose scored on the held-out split): %s",
                     {k: round(v, 2) for k, v in baselines[key].items()})
    results, pck_runs, loss_runs = [], {}, {}
    for config in configs:
        name = export_name(config)  # the rule of scripts/export.py: demo_<model> for the demo configs
        model_dir = str(work_dir / name)
        warm = f", from {pathlib.Path(config.train.init_checkpoint).name}" if config.train.init_checkpoint else ""
        clock.next(f"({config.model.method}, {config.train.total_steps} steps of {config.data.batch_size}{warm})")
        metrics, seconds = train_model(config, model_dir)
        images = config.train.total_steps * config.data.batch_size
        logging.info("%s trained in %.0f s (%.1f img/s incl. evaluations): %s", name, seconds, images / seconds,
                     {k: round(v, 2) for k, v in metrics.items() if k.startswith("eval/")})
        note = speed_note(name, images, seconds)
        if note:
            logging.warning("%s", note)
        clock.next(f"({name}: SavedModel + TFLite {', '.join(settings.quantizations)})")
        _, _, paths = export_model(config, model_dir, settings.export_dir, name, settings.quantizations)
        clock.next()
        crops = held_out_crops(config, patterns["val"], 4)
        errors = tflite_parity(paths["saved_model"], {q: paths[q] for q in settings.quantizations}, crops)
        logging.info("%s TFLite max joint error vs SavedModel (input px): %s", name, errors)
        overlays = draw_overlays(paths["saved_model"], settings, str(work_dir / "overlays"), name,
                                 config.eval.root_joint)
        eval_dir = work_dir / "eval" / name
        pck_runs[name] = evaluate_export(config, paths["saved_model"], str(eval_dir), name)
        loss_runs[name] = loss_curve(model_dir, str(eval_dir / "loss_curve.png"), name)
        hm = config.model.heatmap_hw
        results.append(DemoResult(
            name=name, method=config.model.method, precision=display_precision(config.train.mixed_precision),
            input_size=config.model.input_hw[0],
            heatmap=f"{hm[0]}x{hm[1]}" + (f"x{config.model.depth}" if config.model.depth > 1 else ""),
            steps=config.train.total_steps, batch_size=config.data.batch_size, train_seconds=seconds,
            images_per_second=images / seconds,
            metrics={k[len("eval/"):]: float(v) for k, v in metrics.items() if k.startswith("eval/")},
            export_path=str(paths["saved_model"]),
            export_bytes={key: _file_size(value) for key, value in paths.items()},
            tflite_max_error_px=errors, overlays=overlays, baseline=dict(baselines[baseline_key(config)]),
            figures={"pck_curve": str(eval_dir / "pck_curve.png"), "loss_curve": str(eval_dir / "loss_curve.png"),
                     "metrics_json": str(eval_dir / "metrics.json")},
            depth=config.model.depth,
            warm_start=pathlib.Path(config.train.init_checkpoint).name if config.train.init_checkpoint else ""))
    figures = summary_figures(results, pck_runs, loss_runs, str(work_dir / "figures"))
    logging.info("Figures: %s", sorted(figures.values()))
    logging.info("Demo finished in %.0f s.", clock.elapsed)
    return results


def _cell(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def results_table(results: Sequence[DemoResult]) -> str:
    """A markdown table of the demo's models: sizes, speed, accuracy and export sizes (MB).

    A model with a `baseline` is followed by its floor row, `mean-pose floor`, holding the mean-pose baseline of
    the same data in the same metric columns (only those the model reports), so no accuracy is read without it.
    A warm-started model's method cell names the run it started from
    (`Istar, from demo_hourglass_Istar_2d_128features`).
    """
    header = ("| model | method | precision | input | heat map | steps x batch | train s | img/s | PCK@0.5 | PCK@0.1 "
              "| AUC | MPJPE mm | PA-MPJPE mm | SavedModel / f32 / f16 / int8 MB | TFLite max err px |")
    columns = header.count("|") - 1
    lines = [header, "|" + "---|" * columns]
    first_metric = 8  # index of the PCK@0.5 column
    for r in results:
        m = r.metrics
        sizes = " / ".join(_cell(r.export_bytes.get(key, float("nan")) / 1e6, 2)
                           for key in ("saved_model", "float32", "float16", "dynamic_int8"))
        errors = ", ".join(f"{k} {v:.2f}" for k, v in r.tflite_max_error_px.items())
        metric_cells = " | ".join(_cell(m.get(key)) for key in METRIC_COLUMNS)
        method = f"{r.method}, from {r.warm_start}" if r.warm_start else r.method
        lines.append(f"| {r.name} | {method} | {r.precision} | {r.input_size} | {r.heatmap} "
                     f"| {r.steps} x {r.batch_size} | {r.train_seconds:.0f} | {r.images_per_second:.1f} "
                     f"| {metric_cells} | {sizes} | {errors} |")
        if r.baseline is not None:
            cells = [""] * columns
            cells[0] = "mean-pose floor"
            for offset, key in enumerate(METRIC_COLUMNS):
                if key in m and np.isfinite(m[key]):
                    cells[first_metric + offset] = _cell(r.baseline.get(key))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
