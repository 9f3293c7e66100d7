"""The training loss of one method, by phase, reduced with the GLOBAL batch size.

Each loss term is the method's loss (`integral_keras.losses.losses_for_method`) on one supervised output:
`heatmaps` and every `heatmaps_stage{s}` get the heat-map loss, `joints` and every `joints_stage{s}` the joint loss.
The losses' convention — the weighted sum over joints and coordinates (or cells), divided by the batch size — must
hold for the global batch under `tf.distribute`: every replica sums its per-sample losses and divides by the global
batch size, and the optimiser sums the replicas' gradients.

Phases (the paper's order for I1-I3): `pretrain` supervises the heat maps only, for the first
`heatmap_pretrain_steps` steps; `main` supervises the joints only (`losses_after_pretrain="joints"`) or both.
Methods with a single loss kind (H*, R1, Istar) have one phase, `main`, with that loss.
"""
from typing import Dict, Mapping, Tuple

import keras
import tensorflow as tf

from integral_keras.codecs import methods
from integral_keras.losses import losses_for_method

PRETRAIN = "pretrain"
MAIN = "main"
HEATMAPS = "heatmaps"
JOINTS = "joints"


def _per_sample(loss: keras.losses.Loss) -> keras.losses.Loss:
    """A copy of `loss` returning per-sample values `(N,)` (reduction "none")."""
    config = loss.get_config()
    config["reduction"] = "none"
    return loss.__class__.from_config(config)


def output_kind(key: str) -> str:
    """`"heatmaps"` for `heatmaps` / `heatmaps_stage{s}`, `"joints"` for `joints` / `joints_stage{s}`."""
    for kind in (HEATMAPS, JOINTS):
        if key == kind or key.startswith(kind + "_stage"):
            return kind
    raise KeyError(f"label key {key!r} is not a supervised output; expected 'heatmaps', 'joints' or "
                   f"'<heatmaps|joints>_stage<s>'")


class PoseObjective:
    """Loss terms of a method, per phase.

    Args:
      method: training method (`R1`, `H1`-`H3`, `I1`-`I3`, `Istar`).
      num_joints: K.
      depth: D heat-map depth bins (1 for 2D).
      heatmap_pretrain_steps: steps of the `pretrain` phase (methods with both losses only).
      losses_after_pretrain: `joints` or `both`: losses of the `main` phase of methods with both losses.
      joint_loss: `l1` or `l2`.
      heatmap_loss_weight: multiplier of heat-map terms.
      joint_loss_weight: multiplier of joint terms.
    """

    def __init__(self, method, num_joints, depth=1, heatmap_pretrain_steps=0, losses_after_pretrain="joints",
                 joint_loss="l1", heatmap_loss_weight=1.0, joint_loss_weight=1.0):
        self.method = methods.check_method(method)
        self.num_joints = num_joints
        self.depth = depth
        self.heatmap_pretrain_steps = int(heatmap_pretrain_steps)
        self.losses_after_pretrain = losses_after_pretrain
        self.losses = {kind: _per_sample(loss) for kind, loss in
                       losses_for_method(method, num_joints, depth=depth, joint_loss=joint_loss).items()}
        self.weights = {HEATMAPS: float(heatmap_loss_weight), JOINTS: float(joint_loss_weight)}
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
                   train.joint_loss_weight)

    def phase(self, step: int) -> str:
        """`"pretrain"` for steps before `heatmap_pretrain_steps`, else `"main"`."""
        return PRETRAIN if step < self.heatmap_pretrain_steps else MAIN

    def supervised_kinds(self, phase: str) -> Tuple[str, ...]:
        """Output kinds (`heatmaps`, `joints`) whose loss is on in `phase`."""
        return self._kinds[phase]

    def per_sample_losses(self, labels: Mapping[str, tf.Tensor], outputs: Mapping[str, tf.Tensor],
                          phase: str) -> Dict[str, tf.Tensor]:
        """Weighted per-sample loss `(N,)` float32 of every supervised label key of `phase`."""
        kinds = self.supervised_kinds(phase)
        terms = {}
        for key in sorted(labels):
            kind = output_kind(key)
            if kind not in kinds:
                continue
            if key not in outputs:
                raise KeyError(f"labels have {key!r} but the model outputs only {sorted(outputs)}")
            terms[key] = self.weights[kind] * self.losses[kind](labels[key], outputs[key])
        if not terms:
            raise ValueError(f"no label supervises phase {phase!r} of method {self.method!r} "
                             f"(needs {kinds}); labels are {sorted(labels)}")
        return terms

    def replica_loss(self, labels, outputs, phase: str, global_batch_size) -> Tuple[tf.Tensor, Dict[str, tf.Tensor]]:
        """One replica's share of the global-batch loss.

        Returns:
          `(total, terms)`: scalars, each the sum of this replica's per-sample losses divided by
          `global_batch_size`, so that summing over replicas gives the global-batch loss.
        """
        terms = {key: tf.reduce_sum(value) / tf.cast(global_batch_size, tf.float32)
                 for key, value in self.per_sample_losses(labels, outputs, phase).items()}
        return tf.add_n(list(terms.values())), terms
