"""A PyTorch twin of a ResNet pose network, the reference of `scripts/benchmark.py training --reference=torch`.

`build_torch_model(config)` builds, in plain `torch.nn` (no torchvision), the network that
`integral_keras.models.build_pose_model(config)` builds for a ResNet backbone, layer for layer:

* input normalisation of the backbone (`modeling.preprocessing`): ImageNet mean / std in RGB for the hand-built
  ResNet-18 / 34, Caffe BGR mean subtraction for the `keras.applications` ResNet-50 / 101 / 152;
* ResNet-18 / 34 as `modeling/backbones/resnet.py` builds them (torchvision layout: bias-free convolutions, basic
  blocks, 1x1 projection shortcuts where the shape changes, BN epsilon 1e-5); ResNet-50 / 101 / 152 as
  `keras.applications` builds them (ResNet v1: the stride sits in each stage's first 1x1 convolution, every
  convolution has a bias, BN epsilon 1.001e-5);
* the heat-map head (`modeling/heads/deconv.py`): `num_deconv` x [ConvTranspose2d(`deconv_filters`, 4, stride 2,
  no bias) + BN + ReLU], then a 1x1 convolution (with bias) to `K*D` logits; or, for R1, global average pooling and
  a linear layer to `K*C` coordinates mapped to heat-map units (`modeling/heads/regression.py`);
* the direct integral (paper Eq. 2-4, `layers.IntegralRegression`): a softmax of `beta * logits` over each joint's
  `D*H*W` cells and the expected `x, y (, z)` in heat-map cell units.

The model's outputs are the Keras model's (`heatmaps` and / or `joints`), and `benchmark_loss` is the loss of the
Keras side's timed step (`training.build_step`), so both sides time the same computation. The parameter count
equals the Keras model's `count_params()` once BatchNorm's running statistics (buffers in PyTorch, non-trainable
weights in Keras) are counted (`count_parameters`).

torch is imported on first use: this module (and the package) imports without it. Install it with the `bench`
extra (docs/benchmarks.md).
"""
import functools
import types
from typing import Dict

from integral_keras.configs import ModelConfig
from integral_keras.core import methods
from integral_keras.modeling.backbones import get_backbone_spec
from integral_keras.modeling.common import BN_EPSILON
from integral_keras.modeling.preprocessing import CAFFE_MEAN_BGR, IMAGENET_MEAN_RGB, IMAGENET_STD_RGB

# Blocks per stage (conv2 ... conv5) and block kind of every ResNet backbone the reference builds.
RESNETS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}
SUPPORTED_BACKBONES = tuple(RESNETS)
# keras.applications' ResNet BatchNormalization epsilon.
APPLICATIONS_BN_EPSILON = 1.001e-5
STAGE_WIDTHS = (64, 128, 256, 512)
BOTTLENECK_EXPANSION = 4
INSTALL_HINT = ("the PyTorch reference needs torch: install the `bench` extra in a separate environment "
                "(python -m venv .venv-bench && .venv-bench/bin/pip install -e .[tensorflow,bench]; "
                "docs/benchmarks.md)")


def import_torch():
    """Returns the `torch` module.

    Raises:
      ImportError: torch is not installed (the message says how to install the `bench` extra).
    """
    try:
        import torch  # pylint: disable=import-outside-toplevel
    except ImportError as error:
        raise ImportError(INSTALL_HINT) from error
    return torch


def check_supported(config: ModelConfig) -> None:
    """Raises `ValueError` naming the setting when the reference cannot build `config`'s network.

    Supported: a ResNet backbone (`SUPPORTED_BACKBONES`) with the deconvolution head and every method; the direct
    integral without debiasing for the integral methods.
    """
    if config.backbone not in RESNETS:
        raise ValueError(f"the PyTorch reference has no model.backbone={config.backbone!r}; supported: "
                         f"{list(SUPPORTED_BACKBONES)}")
    if config.upsample != "deconv":
        raise ValueError(f"the PyTorch reference has no model.upsample={config.upsample!r}; supported: ['deconv']")
    if config.is_integral and (config.integral != "direct" or config.debias):
        raise ValueError(f"the PyTorch reference has only the direct integral without debiasing; got "
                         f"model.integral={config.integral!r}, model.debias={config.debias}")


@functools.lru_cache(maxsize=None)
def _modules() -> types.SimpleNamespace:
    """The `torch.nn.Module` classes of the reference, defined on first use (so that importing needs no torch)."""
    torch = import_torch()
    nn = torch.nn

    class Residual(nn.Module):
        """`relu(body(x) + shortcut(x))`; an identity shortcut when `shortcut` is None."""

        def __init__(self, body, shortcut=None):
            super().__init__()
            self.body = body
            self.shortcut = shortcut if shortcut is not None else nn.Identity()

        def forward(self, x):
            return torch.relu(self.body(x) + self.shortcut(x))

    class Normalize(nn.Module):
        """`(N, 3, H, W)` RGB in [0, 255] -> `(x[:, order] - mean) / std` per channel (no trainable weights)."""

        def __init__(self, mean, std, bgr: bool):
            super().__init__()
            self.bgr = bgr
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

        def forward(self, images):
            images = images.flip(1) if self.bgr else images
            return (images - self.mean) / self.std

    class Integral(nn.Module):
        """`(N, K*D, H, W)` logits (channel `k*D + d`) -> `(N, K, 2|3)` expected `x, y (, z)` in cell units."""

        def __init__(self, num_joints: int, depth: int, beta: float):
            super().__init__()
            self.num_joints, self.depth, self.beta = num_joints, depth, beta

        def forward(self, logits):
            batch, _, height, width = logits.shape
            cells = logits.reshape(batch, self.num_joints, self.depth * height * width)
            probs = torch.softmax(self.beta * cells, dim=-1).reshape(batch, self.num_joints, self.depth, height,
                                                                      width)
            coords = [(probs.sum(dim=(2, 3)) * torch.arange(width, dtype=probs.dtype)).sum(-1),
                      (probs.sum(dim=(2, 4)) * torch.arange(height, dtype=probs.dtype)).sum(-1)]
            if self.depth > 1:
                coords.append((probs.sum(dim=(3, 4)) * torch.arange(self.depth, dtype=probs.dtype)).sum(-1))
            return torch.stack(coords, dim=-1)

    class Regression(nn.Module):
        """R1: `(N, C, h, w)` features -> global average -> linear -> `(N, K, C)` joints in heat-map units."""

        def __init__(self, channels: int, num_joints: int, extents):
            super().__init__()
            self.num_joints = num_joints
            self.dense = nn.Linear(channels, num_joints * len(extents))
            self.register_buffer("scale", torch.tensor(extents, dtype=torch.float32), persistent=False)

        def forward(self, features):
            coords = self.dense(features.mean(dim=(2, 3))).reshape(features.shape[0], self.num_joints, -1)
            return coords * self.scale + (self.scale - 1.0) / 2.0

    class PoseNet(nn.Module):
        """normalise -> backbone -> head; returns the Keras model's output dict."""

        def __init__(self, normalize, backbone, head, integral, outputs_heatmaps: bool):
            super().__init__()
            self.normalize, self.backbone, self.head, self.integral = normalize, backbone, head, integral
            self.outputs_heatmaps = outputs_heatmaps

        def forward(self, images):
            maps = self.head(self.backbone(self.normalize(images)))
            if self.integral is None:
                return {"heatmaps": maps} if self.outputs_heatmaps else {"joints": maps}
            outputs = {"joints": self.integral(maps)}
            if self.outputs_heatmaps:
                outputs["heatmaps"] = maps
            return outputs

    return types.SimpleNamespace(Residual=Residual, Normalize=Normalize, Integral=Integral, Regression=Regression,
                                 PoseNet=PoseNet)


def _conv_bn(nn, in_channels, out_channels, kernel_size, stride, bias, epsilon, relu):
    """Conv2d (padding `kernel_size // 2`, symmetric as `modeling.common.symmetric_conv`) + BN (+ ReLU)."""
    layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=bias),
              nn.BatchNorm2d(out_channels, eps=epsilon)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def _basic_block(nn, parts, in_channels, width, stride):
    """The hand-built ResNet-18/34 block: 3x3 - 3x3, bias-free; returns `(block, out_channels)`."""
    body = nn.Sequential(_conv_bn(nn, in_channels, width, 3, stride, False, BN_EPSILON, relu=True),
                         _conv_bn(nn, width, width, 3, 1, False, BN_EPSILON, relu=False))
    shortcut = None
    if stride != 1 or in_channels != width:
        shortcut = _conv_bn(nn, in_channels, width, 1, stride, False, BN_EPSILON, relu=False)
    return parts.Residual(body, shortcut), width


def _bottleneck_block(nn, parts, in_channels, width, stride, first):
    """keras.applications' ResNet v1 block: 1x1 (strided) - 3x3 - 1x1 x4, biased; returns `(block, out_channels)`."""
    out_channels = width * BOTTLENECK_EXPANSION
    body = nn.Sequential(_conv_bn(nn, in_channels, width, 1, stride, True, APPLICATIONS_BN_EPSILON, relu=True),
                         _conv_bn(nn, width, width, 3, 1, True, APPLICATIONS_BN_EPSILON, relu=True),
                         _conv_bn(nn, width, out_channels, 1, 1, True, APPLICATIONS_BN_EPSILON, relu=False))
    shortcut = _conv_bn(nn, in_channels, out_channels, 1, stride, True, APPLICATIONS_BN_EPSILON,
                        relu=False) if first else None
    return parts.Residual(body, shortcut), out_channels


def _resnet(nn, parts, backbone: str):
    """The backbone up to C5: `(N, 3, H, W)` -> `(N, C, H/32, W/32)`; returns `(module, C)`."""
    kind, blocks = RESNETS[backbone]
    bottleneck = kind == "bottleneck"
    epsilon = APPLICATIONS_BN_EPSILON if bottleneck else BN_EPSILON
    # Keras pads the max pool with zeros after a ReLU, PyTorch with -inf: the same maxima.
    layers = [_conv_bn(nn, 3, 64, 7, 2, bottleneck, epsilon, relu=True), nn.MaxPool2d(3, stride=2, padding=1)]
    channels = 64
    for stage, (num_blocks, width) in enumerate(zip(blocks, STAGE_WIDTHS)):
        for index in range(num_blocks):
            stride = 2 if index == 0 and stage > 0 else 1
            if bottleneck:
                block, channels = _bottleneck_block(nn, parts, channels, width, stride, first=index == 0)
            else:
                block, channels = _basic_block(nn, parts, channels, width, stride)
            layers.append(block)
    return nn.Sequential(*layers), channels


def _deconv_head(nn, in_channels: int, config: ModelConfig):
    """`num_deconv` x (ConvTranspose2d 4/2 + BN + ReLU), then a 1x1 conv to `K*D` logits."""
    layers, channels = [], in_channels
    for _ in range(config.num_deconv):
        # Keras' padding="same" for kernel 4, stride 2 is PyTorch's padding 1: the output is exactly 2x the input.
        layers += [nn.ConvTranspose2d(channels, config.deconv_filters, 4, stride=2, padding=1, bias=False),
                   nn.BatchNorm2d(config.deconv_filters, eps=BN_EPSILON), nn.ReLU(inplace=True)]
        channels = config.deconv_filters
    layers.append(nn.Conv2d(channels, config.num_joints * config.depth, 1))
    return nn.Sequential(*layers)


def build_torch_model(config: ModelConfig):
    """The PyTorch twin of `build_pose_model(config)` (see the module docstring), in training mode.

    Args:
      config: a `ModelConfig` with a ResNet backbone (`check_supported`).

    Returns:
      A `torch.nn.Module` mapping `(N, 3, H, W)` float32 RGB in [0, 255] to a dict: `heatmaps` `(N, K*D, h, w)`
      logits (channel `k*D + d`) when the method uses heat maps, `joints` `(N, K, 2|3)` float32 in heat-map cell
      units for the integral methods and R1.

    Raises:
      ValueError: the backbone or a head setting has no reference (the message names it and the supported ones).
      ImportError: torch is not installed.
    """
    config.validate()
    check_supported(config)
    nn = import_torch().nn
    parts = _modules()
    if get_backbone_spec(config.backbone).preprocessing == "caffe":
        normalize = parts.Normalize(CAFFE_MEAN_BGR, (1.0, 1.0, 1.0), bgr=True)
    else:
        normalize = parts.Normalize(IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, bgr=False)
    backbone, channels = _resnet(nn, parts, config.backbone)
    integral = None
    if config.method == methods.DIRECT_REGRESSION:
        height, width = config.heatmap_hw
        extents = [float(width), float(height)] + ([float(config.depth)] if config.depth > 1 else [])
        head = parts.Regression(channels, config.num_joints, extents)
    else:
        head = _deconv_head(nn, channels, config)
        if config.is_integral:
            integral = parts.Integral(config.num_joints, config.depth, config.softmax_beta)
    return parts.PoseNet(normalize, backbone, head, integral, config.outputs_heatmaps).train()


def count_parameters(model) -> Dict[str, int]:
    """`{"trainable": ..., "batchnorm_statistics": ..., "total": ...}` of a torch model.

    `total` counts what Keras' `count_params()` counts: the parameters and BatchNorm's running means and variances
    (Keras' non-trainable weights); `trainable` is Keras' `trainable_weights` count.
    """
    nn = import_torch().nn
    trainable = sum(parameter.numel() for parameter in model.parameters())
    statistics = sum(module.running_mean.numel() + module.running_var.numel()
                     for module in model.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm))
    return {"trainable": trainable, "batchnorm_statistics": statistics, "total": trainable + statistics}


def benchmark_loss(outputs: Dict):
    """The loss of the timed step on both sides: the sum over the outputs of their mean square (a scalar)."""
    return sum(value.float().square().mean() for value in outputs.values())


#: `build_train_step` precisions: float32, or bfloat16 under `torch.autocast` (float32 weights and Adam state,
#: convolutions and matrix products in bfloat16: what Keras' `mixed_bfloat16` policy does on our side).
PRECISIONS = ("float32", "bfloat16")


def build_train_step(config: ModelConfig, images, learning_rate: float, channels_last: bool = True,
                     precision: str = "float32"):
    """A PyTorch training step (eager: forward, `benchmark_loss`, backward, Adam update) on a fixed batch.

    Args:
      config: the network (`build_torch_model`).
      images: `(N, H, W, 3)` float32 numpy array (the Keras side's batch); it is copied once, here.
      learning_rate: Adam's learning rate.
      channels_last: run in PyTorch's `channels_last` memory format (NHWC in memory) rather than the default
        contiguous NCHW (the faster one for ResNet-50 at 256 px in docs/benchmarks.md's measurement).
      precision: one of `PRECISIONS`; `bfloat16` runs the forward pass and the loss under
        `torch.autocast("cpu", torch.bfloat16)` (the backward pass follows the forward's dtypes).

    Returns:
      `step()`: runs one step and returns the loss (a 0-d float32 tensor).

    Raises:
      ValueError: an unknown `precision`.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"torch reference precision: unknown {precision!r}; choose from {list(PRECISIONS)}")
    torch = import_torch()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = build_torch_model(config).to(memory_format=memory_format)
    # NHWC numpy -> NCHW view; `contiguous(memory_format=...)` lays it out as asked.
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(memory_format=memory_format)
    # Keras' Adam epsilon (1e-7), so both sides apply the same update.
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, eps=1e-7)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16")

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = benchmark_loss(model(batch))
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def configure_threads(num_threads: int):
    """Sets PyTorch's intra-op threads to `num_threads`; returns `(setting, value)` rows of the PyTorch side."""
    torch = import_torch()
    torch.set_num_threads(num_threads)
    return [("PyTorch", torch.__version__),
            ("torch intra-op / inter-op threads", f"{torch.get_num_threads()} / {torch.get_num_interop_threads()}"),
            ("torch CPU capability (ATen kernels)", torch.backends.cpu.get_cpu_capability()),
            ("torch oneDNN (mkldnn) available", str(torch.backends.mkldnn.is_available()))]
