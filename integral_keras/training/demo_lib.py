"""The end-to-end demo behind `make demo`: synthetic data -> train (2D, 3D) -> evaluate -> export -> predict.

Every stage goes through the package's public functions (`write_dataset`, `load_experiment`, `run_experiment`,
`export_saved_model`, `export_tflite`, `LiteRTPoseModel`, `PosePredictor`, `draw_skeleton`), so the demo exercises
the same path a user takes. `run_demo` returns one `DemoResult` per model and `results_table` formats them.
"""
import dataclasses
import os
import pathlib
import shutil
import time
from typing import Dict, List, Optional, Sequence

from absl import logging
import numpy as np

from integral_keras.configs.experiment import load_experiment
from integral_keras.data import skeletons
from integral_keras.data.synthetic import generator as synthetic
from integral_keras.training import precision

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
      seed: data-set seed.
    """

    work_dir: str = "runs/demo"
    export_dir: str = "saved_models"
    configs: Sequence[str] = ("configs/demo_2d.yaml", "configs/demo_3d.yaml")
    num_train: int = 3000
    num_val: int = 320
    image_size: int = 96
    quantizations: Sequence[str] = ("float32", "float16", "dynamic_int8")
    num_overlays: int = 4
    overrides: Sequence[str] = ()
    seed: int = 0


@dataclasses.dataclass
class DemoResult:
    """What the demo measured for one model (metrics in percent / mm; sizes in bytes)."""

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
                            skeleton="h36m", seed=settings.seed, num_shards=2)


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


def draw_overlays(saved_model_path, settings: DemoSettings, out_dir: str, name: str) -> List[str]:
    """Runs `PosePredictor` (the `serve_image_bytes` signature) on held-out images; writes prediction | truth PNGs."""
    import cv2  # pylint: disable=import-outside-toplevel

    from integral_keras import serving  # pylint: disable=import-outside-toplevel
    from integral_keras import visualization  # pylint: disable=import-outside-toplevel

    predictor = serving.PosePredictor.from_saved_model(saved_model_path)
    skeleton = skeletons.get_skeleton("h36m")
    source = synthetic.SyntheticPoseGenerator("h36m", settings.image_size, settings.seed)
    pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(settings.num_overlays):
        sample = source.sample(index, "val")
        encoded = cv2.imencode(".png", cv2.cvtColor(sample.image, cv2.COLOR_RGB2BGR))[1].tobytes()
        # The record's crop size is already padded: shrink it by the predictor's padding so that the predictor
        # crops the same square as training / evaluation did.
        side = float(sample.scale[0]) / predictor.spec.box_padding
        box = [sample.center[0] - side / 2, sample.center[1] - side / 2, side, side]
        predicted = predictor.predict(encoded, box)
        panels = [visualization.draw_skeleton(sample.image, predicted["joints"], skeleton),
                  visualization.draw_skeleton(sample.image, sample.keypoints_2d, skeleton, visible=sample.visible)]
        path = os.path.join(out_dir, f"demo_overlay_{name}_{index}.png")
        cv2.imwrite(path, cv2.cvtColor(np.concatenate(panels, axis=1), cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


def _planned_seconds(config) -> List[float]:
    """Rough seconds of the train, export and check stages of one config on 2 CPU cores (for the ETA only)."""
    images = config.train.total_steps * config.data.batch_size
    return [30.0 + images / 75.0, 20.0, 4.0]


def run_demo(settings: DemoSettings) -> List[DemoResult]:
    """Runs the whole demo (see the module docstring) and returns one `DemoResult` per config."""
    from integral_keras.modeling.pose_model import model_name  # pylint: disable=import-outside-toplevel

    work_dir = pathlib.Path(settings.work_dir)
    shutil.rmtree(work_dir, ignore_errors=True)
    data_dir = str(work_dir / "data")
    patterns = {split: synthetic.file_pattern(data_dir, split) for split in synthetic.SPLITS}
    # Every config is loaded and validated first, so that a bad one fails in seconds, not after the first model.
    configs = [load_experiment([path], [f"data.train_file_pattern=[{patterns['train']}]",
                                        f"data.val_file_pattern=[{patterns['val']}]", *settings.overrides])
               for path in settings.configs]
    stages = ["generate synthetic data"]
    shares = [(settings.num_train + settings.num_val) / 450.0]
    for path, config in zip(settings.configs, configs):
        stem = pathlib.Path(path).stem
        stages += [f"train + evaluate {stem}", f"export {stem}", f"TFLite parity + overlays {stem}"]
        shares += _planned_seconds(config)
    clock = StageClock(stages, shares)

    clock.next(f"({settings.num_train} train + {settings.num_val} held-out images, {settings.image_size} px)")
    generate_data(data_dir, settings)
    results = []
    for config in configs:
        name = f"demo_{model_name(config.model)}"
        model_dir = str(work_dir / name)
        clock.next(f"({config.model.method}, {config.train.total_steps} steps of {config.data.batch_size})")
        metrics, seconds = train_model(config, model_dir)
        images = config.train.total_steps * config.data.batch_size
        logging.info("%s trained in %.0f s (%.1f img/s incl. evaluations): %s", name, seconds, images / seconds,
                     {k: round(v, 2) for k, v in metrics.items() if k.startswith("eval/")})
        clock.next(f"({name}: SavedModel + TFLite {', '.join(settings.quantizations)})")
        _, _, paths = export_model(config, model_dir, settings.export_dir, name, settings.quantizations)
        clock.next()
        crops = held_out_crops(config, patterns["val"], 4)
        errors = tflite_parity(paths["saved_model"], {q: paths[q] for q in settings.quantizations}, crops)
        logging.info("%s TFLite max joint error vs SavedModel (input px): %s", name, errors)
        overlays = draw_overlays(paths["saved_model"], settings, str(work_dir / "overlays"), name)
        hm = config.model.heatmap_hw
        results.append(DemoResult(
            name=name, method=config.model.method, precision=precision.resolve(config.train.mixed_precision),
            input_size=config.model.input_hw[0],
            heatmap=f"{hm[0]}x{hm[1]}" + (f"x{config.model.depth}" if config.model.depth > 1 else ""),
            steps=config.train.total_steps, batch_size=config.data.batch_size, train_seconds=seconds,
            images_per_second=images / seconds,
            metrics={k[len("eval/"):]: float(v) for k, v in metrics.items() if k.startswith("eval/")},
            export_path=str(paths["saved_model"]),
            export_bytes={key: _file_size(value) for key, value in paths.items()},
            tflite_max_error_px=errors, overlays=overlays))
    logging.info("Demo finished in %.0f s.", clock.elapsed)
    return results


def _cell(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def results_table(results: Sequence[DemoResult]) -> str:
    """A markdown table of the demo's models: sizes, speed, accuracy and export sizes (MB)."""
    header = ("| model | method | precision | input | heat map | steps x batch | train s | img/s | PCK@0.5 | PCK@0.1 "
              "| AUC | MPJPE mm | PA-MPJPE mm | SavedModel / f32 / f16 / int8 MB | TFLite max err px |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in results:
        m = r.metrics
        sizes = " / ".join(_cell(r.export_bytes.get(key, float("nan")) / 1e6, 2)
                           for key in ("saved_model", "float32", "float16", "dynamic_int8"))
        errors = ", ".join(f"{k} {v:.2f}" for k, v in r.tflite_max_error_px.items())
        lines.append(f"| {r.name} | {r.method} | {r.precision} | {r.input_size} | {r.heatmap} "
                     f"| {r.steps} x {r.batch_size} | {r.train_seconds:.0f} | {r.images_per_second:.1f} "
                     f"| {_cell(m.get('PCK@0.5'))} | {_cell(m.get('PCK@0.1'))} | {_cell(m.get('AUC'))} "
                     f"| {_cell(m.get('MPJPE'))} | {_cell(m.get('PA-MPJPE'))} | {sizes} | {errors} |")
    return "\n".join(lines)
