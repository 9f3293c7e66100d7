"""Fault injection into checkpointing: a run killed while saving leaves `ckpt-N_temp/` and logged steps past its
last complete checkpoint; the resumed run removes the leftovers and logs no step twice."""
import collections
import glob
import os
import sys

import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "training"))
from training_fixtures import StaticTask, tiny_dataset, tiny_model  # noqa: E402
from integral_keras.configs import TrainConfig  # noqa: E402
from integral_keras.training import checkpoints  # noqa: E402
from integral_keras.training.objective import PoseObjective  # noqa: E402
from integral_keras.training.summaries import last_logged_steps  # noqa: E402
from integral_keras.training.trainer import Trainer  # noqa: E402


def _trainer(model_dir, total_steps):
    config = TrainConfig.from_dict(dict(total_steps=total_steps, log_every_steps=1, steps_per_epoch=100,
                                        checkpoint_every_steps=2, lr_schedule="constant", progress_bar="off"))
    task = StaticTask(tiny_model, PoseObjective("I1", 2), tiny_dataset(4), 4)
    return Trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), task, config, str(model_dir))


def _logged(directory):
    """Counter of `(tag, step)` over every event file (a step logged twice counts 2)."""
    counts = collections.Counter()
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                counts[(value.tag, event.step)] += 1
    return counts


def _kill_during_save_of(model_dir, step, previous):
    """What a SIGKILL inside `CheckpointManager.save(step)` leaves: the temporary folder, no index update."""
    directory = os.path.join(model_dir, "checkpoints")
    for path in glob.glob(os.path.join(directory, f"ckpt-{step}.*")):
        os.remove(path)
    with open(os.path.join(directory, "checkpoint"), "w") as f:
        f.write(f'model_checkpoint_path: "ckpt-{previous}"\nall_model_checkpoint_paths: "ckpt-{previous}"\n')
    temporary = os.path.join(directory, f"ckpt-{step}_temp")
    os.makedirs(temporary)
    with open(os.path.join(temporary, "part-00000-of-00001.data-00000-of-00001"), "wb") as f:
        f.write(b"\0" * 100)
    os.makedirs(os.path.join(directory, f"ckpt-{step}_temp_0a1b2c"))
    return temporary


def test_resumed_run_removes_stale_temporaries_and_logs_no_step_twice(tmp_path):
    _trainer(tmp_path, total_steps=4).train()
    first = _logged(tmp_path / "train")
    assert first and set(first.values()) == {1} and max(step for _, step in first) == 4
    temporary = _kill_during_save_of(str(tmp_path), step=4, previous=2)

    resumed = _trainer(tmp_path, total_steps=4)  # start-up removes the leftovers
    assert not os.path.exists(temporary) and not glob.glob(str(tmp_path / "checkpoints" / "*_temp*"))
    assert resumed.train()["step"] == 4  # restored step 2, trained steps 3 and 4 again

    logged = _logged(tmp_path / "train")
    assert {key: count for key, count in logged.items() if count > 1} == {}
    assert set(logged) == set(first)
    assert os.path.exists(tmp_path / "checkpoints" / "ckpt-4.index")


def test_remove_stale_temporaries_keeps_complete_checkpoints(tmp_path):
    (tmp_path / "ckpt-3_temp").mkdir()
    (tmp_path / "ckpt-7_temp_ff00").mkdir()
    for name in ("ckpt-2.index", "ckpt-2.data-00000-of-00001", "checkpoint", "notes_temp.txt"):
        (tmp_path / name).write_text("x")
    removed = checkpoints.remove_stale_temporaries(str(tmp_path))
    assert sorted(os.path.basename(p) for p in removed) == ["ckpt-3_temp", "ckpt-7_temp_ff00"]
    assert sorted(os.listdir(tmp_path)) == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index",
                                            "notes_temp.txt"]
    assert checkpoints.remove_stale_temporaries(str(tmp_path / "missing")) == []
    assert last_logged_steps(str(tmp_path / "missing")) == {}
