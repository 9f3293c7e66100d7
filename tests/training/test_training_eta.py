"""The trainer's ETA: logged from the first steps on, measured after the warm-up loop that traces the step."""
import re

import tensorflow as tf
from absl import logging

from integral_keras.configs import TrainConfig
from integral_keras.training import trainer as trainer_lib
from integral_keras.training.objective import PoseObjective
from training_fixtures import StaticTask, tiny_dataset, tiny_model


def test_format_duration():
    assert [trainer_lib.format_duration(s) for s in (4.4, 65, 3725)] == ["4 s", "1 min 05 s", "1 h 02 min"]


def test_eta_is_logged_from_the_first_steps_on(tmp_path, monkeypatch):
    lines = []
    monkeypatch.setattr(logging, "info", lambda fmt, *args: lines.append(fmt % args if args else fmt))
    total = trainer_lib.ETA_WARMUP_STEPS + trainer_lib.ETA_PROBE_STEPS + 7
    config = TrainConfig.from_dict(dict(total_steps=total, log_every_steps=50, steps_per_epoch=100,
                                        checkpoint_every_steps=100, lr_schedule="constant", progress_bar="off"))
    trainer = trainer_lib.Trainer(tf.distribute.OneDeviceStrategy("/cpu:0"),
                                  StaticTask(tiny_model, PoseObjective("I1", 2), tiny_dataset(4), 4), config,
                                  str(tmp_path))
    assert trainer.train()["step"] == total
    warm = trainer_lib.ETA_WARMUP_STEPS
    probe = warm + trainer_lib.ETA_PROBE_STEPS
    assert any(line.startswith(f"step {warm}/{total}: the first {warm} steps") for line in lines), lines
    # Long before the first regular log line (step 50), an ETA of the steps left, from the measured speed.
    eta = [line for line in lines if line.startswith(f"step {probe}/{total}: ")]
    assert len(eta) == 1 and re.search(rf"img/s since step {warm}, ETA \d+ s for the {total - probe} steps left",
                                       eta[0]), eta
