"""PoseObjective: loss terms per method and phase, reduced by the global batch size (numpy references)."""
import numpy as np
import pytest

from integral_keras.training.objective import MAIN, PRETRAIN, PoseObjective, output_kind
from training_fixtures import tiny_arrays


def _reference_joint_l1(labels, predictions):
    targets, weights = labels[..., :2], labels[..., 2:]
    return np.sum(np.abs(predictions - targets) * weights, axis=(1, 2))


def _reference_heatmap_mse(labels, logits, num_joints):
    targets, weights = labels[..., :num_joints], labels[..., num_joints:]
    return np.sum((logits - targets) ** 2 * weights, axis=(1, 2, 3))


def _outputs(labels, seed=3):
    rng = np.random.default_rng(seed)
    return {"heatmaps": rng.normal(size=labels["heatmaps"][..., :2].shape).astype(np.float32),
            "joints": rng.uniform(0, 3, labels["joints"][..., :2].shape).astype(np.float32)}


def test_replica_loss_divides_by_global_batch():
    _, labels = tiny_arrays(4)
    outputs = _outputs(labels)
    objective = PoseObjective("I1", 2, losses_after_pretrain="both", heatmap_loss_weight=0.5)
    total, terms = objective.replica_loss(labels, outputs, MAIN, global_batch_size=8)
    joint = _reference_joint_l1(labels["joints"], outputs["joints"]).sum() / 8
    heatmap = 0.5 * _reference_heatmap_mse(labels["heatmaps"], outputs["heatmaps"], 2).sum() / 8
    np.testing.assert_allclose(float(terms["joints"]), joint, rtol=1e-5)
    np.testing.assert_allclose(float(terms["heatmaps"]), heatmap, rtol=1e-5)
    np.testing.assert_allclose(float(total), joint + heatmap, rtol=1e-5)


def test_two_replicas_sum_to_the_global_batch_loss():
    _, labels = tiny_arrays(8)
    outputs = _outputs(labels)
    objective = PoseObjective("Istar", 2)
    whole, _ = objective.replica_loss(labels, outputs, MAIN, global_batch_size=8)
    halves = [objective.replica_loss({k: v[part] for k, v in labels.items()},
                                     {k: v[part] for k, v in outputs.items()}, MAIN, global_batch_size=8)[0]
              for part in (slice(0, 4), slice(4, 8))]
    np.testing.assert_allclose(float(halves[0] + halves[1]), float(whole), rtol=1e-5)
    # Istar supervises only the joints, even though the labels also hold heat maps.
    assert set(objective.per_sample_losses(labels, outputs, MAIN)) == {"joints"}


def test_phases_of_integral_methods():
    objective = PoseObjective("I2", 2, heatmap_pretrain_steps=5)
    assert [objective.phase(step) for step in (0, 4, 5, 6)] == [PRETRAIN, PRETRAIN, MAIN, MAIN]
    assert objective.supervised_kinds(PRETRAIN) == ("heatmaps",)
    assert objective.supervised_kinds(MAIN) == ("joints",)
    assert set(PoseObjective("I3", 2, losses_after_pretrain="both").supervised_kinds(MAIN)) == {"heatmaps", "joints"}
    assert PoseObjective("H1", 2).supervised_kinds(MAIN) == ("heatmaps",)
    assert PoseObjective("R1", 2).supervised_kinds(MAIN) == ("joints",)


def test_every_stage_key_is_supervised():
    _, labels = tiny_arrays(2)
    outputs = _outputs(labels)
    staged_labels = dict(labels, heatmaps_stage0=labels["heatmaps"])
    staged_outputs = dict(outputs, heatmaps_stage0=outputs["heatmaps"] + 1.0)
    terms = PoseObjective("H1", 2).per_sample_losses(staged_labels, staged_outputs, MAIN)
    assert set(terms) == {"heatmaps", "heatmaps_stage0"}
    np.testing.assert_allclose(
        terms["heatmaps_stage0"], _reference_heatmap_mse(labels["heatmaps"], outputs["heatmaps"] + 1.0, 2), rtol=1e-5)


def test_errors_name_the_keys():
    _, labels = tiny_arrays(2)
    with pytest.raises(KeyError, match="joints"):
        PoseObjective("Istar", 2).per_sample_losses(labels, {"heatmaps": labels["heatmaps"]}, MAIN)
    with pytest.raises(KeyError, match="marginal_x"):
        output_kind("marginal_x")
    with pytest.raises(ValueError, match="heatmap_pretrain_steps"):
        PoseObjective("H1", 2, heatmap_pretrain_steps=3)
