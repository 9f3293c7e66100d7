"""The training loss of one method, by phase, reduced with the GLOBAL batch size.

Each loss term is the method's loss (`integral_keras.losses.losses_for_method`) on one supervised output:
`heatmaps` and every `heatmaps_stage{s}` get the heat-map loss, `joints` and every `joints_stage{s}` the joint loss.

The losses' convention — the weighted sum over joints and coordinates (or cells), divided by the batch size — must
hold for the global batch under `tf.distribute`: every replica sums its per-sample losses and divides by the global
batch size, and the optimiser sums the replicas' gradients.

Phases (the paper's order for I1-I3): `pretrain` supervises the heat maps only, for the first
`heatmap_pretrain_steps` steps; `main` supervises the joints only (`losses_after_pretrain="joints"`) or both.
Methods with a single loss kind (H*, R1, Istar) have one phase, `main`, with that loss.

Strategy 2 (the paper's training of 3D models on 3D and 2D-only samples, `data.mix_2d_*`). The labels of a 3D
model (`Parser`) also hold `has_3d` `(N,)` and, for the heat-map methods, `heatmap_marginals`
(`heatmap_marginals_stage{s}`) `(N, K, W + H + 1)` (`PoseCodec.encode(..., marginals=True)`). Per sample and joint
(weights `v` = visible and inside the crop, `z_ok` = `has_3d` and the depth within `depth_range_mm`), the terms are:

| term | 3D sample | 2D-only sample (`has_3d = 0`) |
|---|---|---|
| `heatmaps` (H1-H3, I1-I3) | volumetric loss over the `D*H*W` cells, weight `v * z_ok` | 0 (no volumetric target) |
| `heatmap_marginals` (H1-H3, I1-I3) | 0; out-of-range depth: weight `v` | x, y marginal loss (Eq. 5), weight `v` |
| `joints` (R1, I1-I3, Istar) | L1/L2 on x, y (weight `v`) and z (weight `v * z_ok`) | x, y only (z weight 0) |

The marginal losses (`integral_keras.losses.marginal`) are the method's heat-map loss on the x and y marginals of
the 3D map against 1-D targets: MSE of the sums over the other axes divided by `2 pi sigma^2` against a ~unit-peak
Gaussian (H1, I1), cross-entropy of the softmax marginals against one-hot vectors (H2, I2), binary cross-entropy of
"some cell of the slice is on" against the 1-D disc (H3, I3). The integral joints use `integral: direct` (Eq. 2-4)
or `two_step` (Eq. 5-6, the paper's choice for Strategy 2); both give the same joints and both train. Marginal terms
count as heat-map terms (`heatmap_loss_weight`, the `pretrain` phase). Every term is a sum over joints (and axes or
cells) per sample; the batch loss sums the samples and divides by the global batch size. `replica_loss` also
reports, for 3D models, each term's mean over the 2D-only samples and over the 3D samples of the global batch
(`<term>/2d`, `<term>/3d`; 0 when the batch has none), which the trainer logs to TensorBoard.
"""
from typing import Dict, Mapping, Tuple

import keras
import tensorflow as tf

from integral_keras.core import methods
from integral_keras.losses import losses_for_method
from integral_keras.losses import marginal_loss_for_method

PRETRAIN = "pretrain"
MAIN = "main"
HEATMAPS = "heatmaps"
JOINTS = "joints"
MARGINALS = "heatmap_marginals"
HAS_3D = "has_3d"
# Label key -> (kind of loss term, model output it reads).
_SUPERVISION = {HEATMAPS: (HEATMAPS, HEATMAPS), MARGINALS: (HEATMAPS, HEATMAPS), JOINTS: (JOINTS, JOINTS)}


def _per_sample(loss: keras.losses.Loss) -> keras.losses.Loss:
    """A copy of `loss` returning per-sample values `(N,)` (reduction "none")."""
    config = loss.get_config()
    config["reduction"] = "none"
    return loss.__class__.from_config(config)


def supervision(key: str) -> Tuple[str, str, str]:
    """`(loss, kind, output)` of a label key: e.g. `heatmap_marginals_stage0` -> `(heatmap_marginals, heatmaps,
    heatmaps_stage0)`, `joints` -> `(joints, joints, joints)`."""
    for base, (kind, output) in _SUPERVISION.items():
        if key == base or key.startswith(base + "_stage"):
            return base, kind, output + key[len(base):]
    raise KeyError(f"label key {key!r} is not a supervised output; expected 'heatmaps', 'joints', "
                   f"'heatmap_marginals' or '<key>_stage<s>'")


def output_kind(key: str) -> str:
    """`"heatmaps"` for `heatmaps[_stage{s}]` / `heatmap_marginals[_stage{s}]`, `"joints"` for `joints[_stage{s}]`."""
    return supervision(key)[1]


class PoseObjective:
    """Loss terms of a method, per phase.

    Args:
      method: training method (`R1`, `H1`-`H3`, `I1`-`I3`, `Istar`).
      num_joints: K.
      depth: D heat-map depth bins (1 for 2D).
      heatmap_pretrain_steps: steps of the `pretrain` phase (methods with both losses only).
      losses_after_pretrain: `joints` or `both`: losses of the `main` phase of methods with both losses.
      joint_loss: `l1` or `l2`.
      heatmap_loss_weight: multiplier of heat-map terms (marginal terms included).
      joint_loss_weight: multiplier of joint terms.
      sigma: the codec's Gaussian standard deviation in cells (the H1 / I1 marginal loss).
      stage_depths: depth of every stage of a staged model (`model.stage_depths`), the last equal to `depth`;
        the terms of stage `s` (`<key>_stage{s}`) use losses of depth `stage_depths[s]`. None: every stage has
        `depth`.
    """

    def __init__(self, method, num_joints, depth=1, heatmap_pretrain_steps=0, losses_after_pretrain="joints",
                 joint_loss="l1", heatmap_loss_weight=1.0, joint_loss_weight=1.0, sigma=1.0, stage_depths=None):
        self.method = methods.check_method(method)
        self.num_joints = num_joints
        self.depth = depth
        self.heatmap_pretrain_steps = int(heatmap_pretrain_steps)
        self.losses_after_pretrain = losses_after_pretrain
        self.losses = {kind: _per_sample(loss) for kind, loss in
                       losses_for_method(method, num_joints, depth=depth, joint_loss=joint_loss).items()}
        marginal = marginal_loss_for_method(method, num_joints, depth, sigma=sigma)
        # Not in `self.losses` (keyed by kind): marginal terms are heat-map terms.
        self.marginal_loss = None if marginal is None else _per_sample(marginal)
        self.weights = {HEATMAPS: float(heatmap_loss_weight), JOINTS: float(joint_loss_weight)}
        self.stage_depths = None if stage_depths is None else tuple(int(d) for d in stage_depths)
        if self.stage_depths is not None and self.stage_depths[-1] != depth:
            raise ValueError(f"stage_depths {self.stage_depths} must end with depth {depth}.")
        # (losses by kind, marginal loss) of every other depth an earlier stage has.
        self._losses_by_depth = {depth: (self.losses, self.marginal_loss)}
        for stage_depth in set(self.stage_depths or ()) - {depth}:
            marginal_d = marginal_loss_for_method(method, num_joints, stage_depth, sigma=sigma)
            self._losses_by_depth[stage_depth] = (
                {kind: _per_sample(loss) for kind, loss in
                 losses_for_method(method, num_joints, depth=stage_depth, joint_loss=joint_loss).items()},
                None if marginal_d is None else _per_sample(marginal_d))
        both = HEATMAPS in self.losses and JOINTS in self.losses
        if self.heatmap_pretrain_steps and not both:
            raise ValueError(f"heatmap_pretrain_steps applies to methods with both losses (I1-I3); "
                             f"method is {method!r}.")
        if losses_after_pretrain not in (JOINTS, "both"):
            raise ValueError(f"losses_after_pretrain must be 'joints' or 'both'; got {losses_after_pretrain!r}.")
        main = tuple(self.losses) if not both or losses_after_pretrain == "both" else (JOINTS,)
        self._kinds = {PRETRAIN: (HEATMAPS,), MAIN: main}

    @classmethod
    def from_config(cls, experiment_config):
        """Builds the objective of an `ExperimentConfig`."""
        model, train = experiment_config.model, experiment_config.train
        return cls(model.method, model.num_joints, model.depth, train.heatmap_pretrain_steps,
                   train.losses_after_pretrain, train.joint_loss, train.heatmap_loss_weight,
                   train.joint_loss_weight, sigma=model.heatmap_sigma,  # the codec's sigma (one config field)
                   stage_depths=model.stage_depths)

    def phase(self, step: int) -> str:
        """`"pretrain"` for steps before `heatmap_pretrain_steps`, else `"main"`."""
        return PRETRAIN if step < self.heatmap_pretrain_steps else MAIN

    def supervised_kinds(self, phase: str) -> Tuple[str, ...]:
        """Output kinds (`heatmaps`, `joints`) whose loss is on in `phase`."""
        return self._kinds[phase]

    def per_sample_losses(self, labels: Mapping[str, tf.Tensor], outputs: Mapping[str, tf.Tensor],
                          phase: str) -> Dict[str, tf.Tensor]:
        """Weighted per-sample loss `(N,)` float32 of every supervised label key of `phase` (`has_3d` is not one)."""
        kinds = self.supervised_kinds(phase)
        terms = {}
        for key in sorted(labels):
            if key == HAS_3D:
                continue
            loss_key, kind, output = supervision(key)
            if kind not in kinds:
                continue
            if output not in outputs:
                raise KeyError(f"labels have {key!r} but the model outputs only {sorted(outputs)}")
            losses, marginal_loss = self._losses_by_depth[self._depth_of(key)]
            loss = marginal_loss if loss_key == MARGINALS else losses[kind]
            if loss is None:
                raise ValueError(f"labels have {key!r}, a target of 3D heat-map methods, but the objective is for "
                                 f"method {self.method!r} with depth {self.depth}")
            terms[key] = self.weights[kind] * loss(labels[key], outputs[output])
        if not terms:
            raise ValueError(f"no label supervises phase {phase!r} of method {self.method!r} "
                             f"(needs {kinds}); labels are {sorted(labels)}")
        return terms

    def _depth_of(self, key: str) -> int:
        """The depth of the stage a label key supervises (`<key>_stage{s}`: stage s; plain keys: the last)."""
        if self.stage_depths is None or "_stage" not in key:
            return self.depth
        return self.stage_depths[int(key.rsplit("_stage", 1)[1])]

    def replica_loss(self, labels, outputs, phase: str, global_batch_size) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        """One replica's share of the global-batch loss.

        Returns:
          `(total, terms)`: scalars, each the sum of this replica's per-sample losses divided by
          `global_batch_size`, so that summing over replicas gives the global-batch loss; `total` is the sum of
          the terms. When the labels hold `has_3d` (3D models), `terms` also holds, for logging only, `<key>/2d`
          and `<key>/3d`: this replica's share of the term's mean over the 2D-only and over the 3D samples of the
          global batch (summed over replicas: the global means; 0 without such samples).
        """
        per_sample = self.per_sample_losses(labels, outputs, phase)
        terms = {key: tf.reduce_sum(value) / tf.cast(global_batch_size, tf.float32)
                 for key, value in per_sample.items()}
        total = tf.add_n(list(terms.values()))
        if HAS_3D in labels:
            terms.update(_split_by_sample_kind(per_sample, labels[HAS_3D]))
        return total, terms


def _split_by_sample_kind(per_sample: Mapping[str, tf.Tensor], has_3d) -> Dict[str, tf.Tensor]:
    """This replica's share of each term's mean over the 2D-only and the 3D samples of the global batch."""
    is_3d = tf.cast(tf.convert_to_tensor(has_3d) > 0, tf.float32)
    kinds = {"3d": is_3d, "2d": 1.0 - is_3d}
    counts = tf.stack([tf.reduce_sum(kinds["3d"]), tf.reduce_sum(kinds["2d"])])
    context = tf.distribute.get_replica_context()
    if context is not None:  # under a strategy (`strategy.run`): counts over every replica's samples
        counts = context.all_reduce(tf.distribute.ReduceOp.SUM, counts)
    counts = {"3d": counts[0], "2d": counts[1]}
    return {f"{key}/{kind}": tf.stop_gradient(tf.reduce_sum(value * mask) / tf.maximum(counts[kind], 1.0))
            for key, value in per_sample.items() for kind, mask in kinds.items()}
