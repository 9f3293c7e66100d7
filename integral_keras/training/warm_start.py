"""Warm start: a new run's model takes its first weights from a trained run (`train.init_checkpoint`).

Model Garden's `init_checkpoint` idea, with one addition the 2D -> 3D path needs: **depth inflation**. A layer
whose source and target weights differ only in one channel axis, the target's being `D` times the source's, is
inflated along depth (I3D's trick for video, applied to the heat-map volume). With the package's joint-major
channel order (`k * D + d`, docs/architecture.md):

- an output axis (the heat-map logits of a 2D model, `(1, 1, C, K)` -> `(1, 1, C, K * D)`, and their bias) is
  repeated: channel `k * D + d` of the target is channel `k` of the source, for every depth bin `d`;
- an input axis (a later stage reading the logits, `(1, 1, K, F)` -> `(1, 1, K * D, F)`) is repeated and divided
  by `D`, so that the repeated logits give the same features as before.

A 2D model inflated this way predicts exactly its 2D joints from the start: every depth slice holds the 2D logits,
so the softmax over the `D x H x W` volume is the 2D softmax divided by `D`, its x and y marginals (Eq. 5) are the
2D heat map's, and its depth marginal is uniform (z at the middle bin, root-relative depth 0 mm). Training then
has only depth left to learn, with the 2D features already in place.

Layers are matched by name (nested models by their path, e.g. `hourglass1/stack0_logits`); `modules="backbone"`
copies only the layers inside the backbone sub-model. What was copied, inflated and left at its initialisation is
logged.
"""
import dataclasses
import os
from typing import Iterator, List, Optional, Tuple

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from integral_keras.configs.experiment import load_experiment
from integral_keras.configs.train_config import INIT_CHECKPOINT_MODULES as MODULES
from integral_keras.models import build_pose_model


@dataclasses.dataclass
class WarmStartReport:
    """Which target layers took weights from the source.

    Attributes:
      copied: layer paths whose weights were copied as they are.
      inflated: layer paths whose weights were inflated along depth, with the factor `D`.
      kept: layer paths (with weights) left at their initialisation: no layer of that name in the source, or
        outside `modules`.
      source: what was read (a checkpoint path or a `.keras` file).
    """

    copied: List[str] = dataclasses.field(default_factory=list)
    inflated: List[Tuple[str, int]] = dataclasses.field(default_factory=list)
    kept: List[str] = dataclasses.field(default_factory=list)
    source: str = ""

    def summary(self) -> str:
        inflated = ", ".join(f"{path} (x{factor})" for path, factor in self.inflated) or "none"
        kept = ", ".join(self.kept) or "none"
        return (f"warm start from {self.source}: {len(self.copied)} layers copied, {len(self.inflated)} inflated "
                f"along depth [{inflated}], {len(self.kept)} kept at their initialisation [{kept}]")


def _layers_with_weights(model: keras.Model, prefix: str = "") -> Iterator[Tuple[str, keras.layers.Layer, bool]]:
    """`(path, layer, in_backbone)` for every layer with weights, descending into nested models."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            for item in _layers_with_weights(layer, f"{path}/"):
                yield item[0], item[1], True
        elif layer.weights:
            yield path, layer, False


def inflate(source: np.ndarray, target_shape: Tuple[int, ...]) -> Optional[Tuple[np.ndarray, int]]:
    """Inflates `source` along depth to `target_shape` (see the module docstring), or None if it does not apply.

    Args:
      source: a weight of the source layer, e.g. a kernel `(kh, kw, C, K)` or a bias `(K,)`.
      target_shape: the shape of the same weight in the target layer.

    Returns:
      `(weight, D)`: the inflated weight and the depth factor; None when the shapes differ in anything but one
      axis (the last or the second-to-last) by an integer factor > 1.
    """
    if source.ndim != len(target_shape) or source.ndim == 0:
        return None
    differing = [axis for axis in range(source.ndim) if source.shape[axis] != target_shape[axis]]
    if len(differing) != 1:
        return None
    axis = differing[0]
    if axis not in (source.ndim - 1, source.ndim - 2) or target_shape[axis] % source.shape[axis]:
        return None
    depth = target_shape[axis] // source.shape[axis]
    weight = np.repeat(source, depth, axis=axis)  # channel k -> channels k*D .. k*D + D-1
    if axis == source.ndim - 2:  # an input axis: the D repeated inputs together give the source's response
        weight = weight / depth
    return weight.astype(source.dtype), depth


def transfer_weights(source: keras.Model, target: keras.Model, modules: str = "all",
                     source_name: str = "") -> WarmStartReport:
    """Copies (or inflates) the weights of `source`'s layers into `target`'s layers of the same path.

    Args:
      source: the trained model.
      target: the model to initialise, built.
      modules: `all` or `backbone` (only layers inside nested backbone models).
      source_name: what `source` was read from, for the report.

    Returns:
      A `WarmStartReport`.

    Raises:
      ValueError: `modules` is unknown, no layer matched, or a matched layer's weights differ in a way that is
        neither equal nor a depth inflation (the message names the layer and both shapes).
    """
    if modules not in MODULES:
        raise ValueError(f"train.init_checkpoint_modules must be one of {list(MODULES)}, got {modules!r}")
    report = WarmStartReport(source=source_name)
    source_layers = {path: layer for path, layer, _ in _layers_with_weights(source)}
    for path, layer, in_backbone in _layers_with_weights(target):
        donor = source_layers.get(path)
        if donor is None or (modules == "backbone" and not in_backbone):
            report.kept.append(path)
            continue
        values = [np.asarray(w) for w in donor.get_weights()]
        shapes = [tuple(w.shape) for w in layer.weights]
        if len(values) != len(shapes):
            raise ValueError(f"warm start: layer {path!r} has {len(shapes)} weights, the source's {len(values)}")
        new_values, factors = [], set()
        for value, shape in zip(values, shapes):
            if value.shape == shape:
                new_values.append(value)
                continue
            inflated = inflate(value, shape)
            if inflated is None:
                raise ValueError(f"warm start: layer {path!r} has a weight of shape {shape}, the source's is "
                                 f"{value.shape}: neither equal nor a depth inflation")
            new_values.append(inflated[0])
            factors.add(inflated[1])
        layer.set_weights(new_values)
        if factors:
            report.inflated.append((path, max(factors)))
        else:
            report.copied.append(path)
    if not report.copied and not report.inflated:
        raise ValueError(f"warm start from {source_name!r}: no layer of the model matches a layer of the source "
                         "(layers are matched by name)")
    return report


def _run_dir_and_checkpoint(path: str) -> Tuple[str, str]:
    """`(run directory, checkpoint prefix)` of a run directory or of a checkpoint prefix inside one."""
    if tf.io.gfile.isdir(path):
        checkpoint = tf.train.latest_checkpoint(os.path.join(path, "checkpoints"))
        if checkpoint is None:
            raise FileNotFoundError(f"train.init_checkpoint: no checkpoint in {os.path.join(path, 'checkpoints')!r}")
        return path, checkpoint
    if tf.io.gfile.exists(path + ".index"):
        return os.path.dirname(os.path.dirname(os.path.abspath(path))), path
    raise FileNotFoundError(f"train.init_checkpoint: {path!r} is neither a run directory (with checkpoints/), a "
                            "checkpoint prefix (e.g. <run>/checkpoints/ckpt-900) nor a .keras file")


def load_source_model(path: str) -> Tuple[keras.Model, str]:
    """The trained model that `train.init_checkpoint` names, and the file its weights came from.

    Args:
      path: a `.keras` file; a run directory of this package (its `config.yaml` rebuilds the model and its latest
        checkpoint under `checkpoints/` gives the weights); or a checkpoint prefix inside a run directory.

    Raises:
      FileNotFoundError: nothing usable at `path` (the message names it).
    """
    if path.endswith(".keras"):
        if not tf.io.gfile.exists(path):
            raise FileNotFoundError(f"train.init_checkpoint: {path!r} does not exist")
        return keras.saving.load_model(path, compile=False), path
    run_dir, checkpoint = _run_dir_and_checkpoint(path)
    config_path = os.path.join(run_dir, "config.yaml")
    if not tf.io.gfile.exists(config_path):
        raise FileNotFoundError(f"train.init_checkpoint: {config_path!r} (the source run's config) does not exist")
    model = build_pose_model(load_experiment(config_path).model)
    tf.train.Checkpoint(model=model).restore(checkpoint).expect_partial()
    return model, checkpoint


def warm_start(model: keras.Model, path: str, modules: str = "all") -> WarmStartReport:
    """Initialises `model` from the trained run or `.keras` file at `path` (see the module docstring).

    Args:
      model: the new run's model, built.
      path: `train.init_checkpoint`.
      modules: `train.init_checkpoint_modules`.

    Returns:
      The `WarmStartReport` (also logged).
    """
    source, source_name = load_source_model(path)
    report = transfer_weights(source, model, modules, source_name)
    logging.info("%s.", report.summary())
    return report

