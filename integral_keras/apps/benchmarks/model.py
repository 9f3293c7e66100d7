"""Parameters and FLOPs of pose models, in the style of the paper's Tables 2-3.

Usage:
  python scripts/benchmark.py model --config=configs/x.yaml
  python scripts/benchmark.py model --params_override=model.backbone=resnet18,model.method=R1
  python scripts/benchmark.py model --variants="model.backbone=resnet18;model.backbone=resnet50"

`--config` YAML files (merged in order) hold a `model:` section (other sections
are ignored); overrides use `model.`-prefixed `ModelConfig` keys. Each variant
(`;`-separated override lists) adds one row on top of the base config.

FLOPs convention: multiply-accumulates (MACs), as the ResNet and Integral papers
count them, computed analytically from layer shapes for convolution,
transposed-convolution and dense layers only (batch 1):
  Conv2D            H_out * W_out * C_out * k_h * k_w * C_in / groups
  DepthwiseConv2D   H_out * W_out * C_in * multiplier * k_h * k_w
  Conv2DTranspose   H_in * W_in * C_in * C_out * k_h * k_w (every input pixel
                    scatters a k_h x k_w x C_out patch)
  Dense             (positions) * C_in * units
BatchNorm, activations, pooling, additions, resizing and the softmax/integral
layers are not counted (they are < 1% of the total).
"""
import argparse
import os
import sys
from typing import Dict, Iterator, List, Sequence, Tuple

import numpy as np
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from integral_keras.configs import ConfigError, ModelConfig  # noqa: E402
from integral_keras.configs.experiment import split_overrides  # noqa: E402
from integral_keras.models import build_pose_model  # noqa: E402
from integral_keras.modeling.validation import check_model_config  # noqa: E402


def _iter_layers(model: keras.Model, prefix: str = "") -> Iterator[Tuple[str, keras.layers.Layer]]:
    """Yields `(top-level part, layer)` for every leaf layer, entering nested models."""
    for layer in model.layers:
        part = prefix or layer.name
        if isinstance(layer, keras.Model):
            yield from _iter_layers(layer, part)
        else:
            yield part, layer


def _prod(values: Sequence[int]) -> int:
    return int(np.prod([int(v) for v in values], dtype=np.int64))


def layer_macs(layer: keras.layers.Layer) -> int:
    """Multiply-accumulates of one call of `layer` on a batch of 1 (see module docstring)."""
    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, height, width, channels = layer.input.shape
        return _prod((height, width, channels, layer.filters) + tuple(layer.kernel_size))
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        _, height, width, _ = layer.output.shape
        channels = layer.input.shape[-1]
        return _prod((height, width, channels, layer.depth_multiplier) + tuple(layer.kernel_size))
    if isinstance(layer, keras.layers.Conv2D):
        _, height, width, filters = layer.output.shape
        channels = layer.input.shape[-1] // layer.groups
        return _prod((height, width, filters, channels) + tuple(layer.kernel_size))
    if isinstance(layer, keras.layers.Dense):
        shape = layer.input.shape
        return _prod(tuple(shape[1:-1]) + (shape[-1], layer.units))
    return 0


def count_macs(model: keras.Model) -> Dict[str, int]:
    """MACs per top-level part of `model` (a nested backbone counts as one part)."""
    totals: Dict[str, int] = {}
    for part, layer in _iter_layers(model):
        macs = layer_macs(layer)
        if macs:
            key = part if part != layer.name else "head"
            totals[key] = totals.get(key, 0) + macs
    return totals


def describe(config: ModelConfig) -> Dict[str, object]:
    """Builds the model of `config` and returns one table row."""
    model = build_pose_model(config)
    macs = count_macs(model)
    backbone_macs = sum(v for k, v in macs.items() if k != "head")
    height, width = config.input_hw
    heatmap_h, heatmap_w = config.heatmap_hw
    return {
        "model": model.name,
        "input": f"{height}x{width}",
        "heatmap": f"{heatmap_h}x{heatmap_w}x{config.depth}" if config.depth > 1 else f"{heatmap_h}x{heatmap_w}",
        "params_m": model.count_params() / 1e6,
        "backbone_gmacs": backbone_macs / 1e9,
        "head_gmacs": macs.get("head", 0) / 1e9,
        "total_gmacs": sum(macs.values()) / 1e9,
    }


def format_table(rows: List[Dict[str, object]]) -> str:
    """Markdown table of `describe` rows."""
    header = "| model | input | heat map | params (M) | backbone GMACs | head GMACs | total GMACs |"
    lines = [header, "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['input']} | {r['heatmap']} | {r['params_m']:.2f} | "
                     f"{r['backbone_gmacs']:.2f} | {r['head_gmacs']:.2f} | {r['total_gmacs']:.2f} |")
    return "\n".join(lines)


def _model_overrides(items: Sequence[str]) -> List[str]:
    """`["model.a=1,model.b=2"]` -> `["a=1", "b=2"]`; rejects non-`model.` keys."""
    result = []
    for part in split_overrides(list(items)):
        if not part.startswith("model."):
            raise ConfigError(part.partition("=")[0], "the model benchmark only takes 'model.' overrides")
        result.append(part[len("model."):])
    return result


def load_model_config(config_paths: Sequence[str], overrides: Sequence[str]) -> ModelConfig:
    """The `model:` section of the YAML files (merged in order), then the overrides."""
    section: Dict[str, object] = {}
    for path in config_paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"config file not found: {path}")
        with open(path, "r", encoding="utf-8") as f:
            content = yaml.safe_load(f) or {}
        model = content.get("model", {}) if isinstance(content, dict) else None
        if not isinstance(model, dict):
            raise ConfigError("model", f"{path}: expected a 'model:' mapping")
        section.update(model)
    config = ModelConfig.from_dict(section)
    return config.override(_model_overrides(overrides)) if overrides else config


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{argv[0]} model", description=__doc__.split("\n")[0])
    parser.add_argument("--config", action="append", default=[], help="YAML file with a model: section")
    parser.add_argument("--params_override", action="append", default=[],
                        help="comma-separated model.key=value overrides")
    parser.add_argument("--variants", default="", help="';'-separated override lists, one table row each")
    args = parser.parse_args(list(argv[1:]))
    try:
        base = load_model_config(args.config, args.params_override)
        variants = [v for v in args.variants.split(";") if v.strip()] or [""]
        configs = [base.override(_model_overrides([v])) if v else base for v in variants]
        for config in configs:
            check_model_config(config)  # the backbone settings, before any model is built
    except (ConfigError, FileNotFoundError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    print(format_table([describe(config) for config in configs]))
    print("\nGMACs: multiply-accumulates of conv/deconv/dense layers for one image (see "
          "integral_keras/apps/benchmarks/model.py).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
