"""Distributed training in fresh processes: MirroredStrategy on two logical CPUs, two MultiWorkerMirrored workers
on 127.0.0.1, and a run killed with SIGKILL and restarted."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from training_fixtures import tiny_model

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training_driver.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT_S = 300


def _start(mode, model_dir, output, options=None, env=None):
    command = [sys.executable, DRIVER, mode, str(model_dir), str(output), json.dumps(options or {})]
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ, **(env or {})), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _finish(process):
    output, _ = process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == 0, output[-3000:]
    return output


def _weights(arrays, replica=0):
    return [arrays[f"w{i}_r{replica}"] for i in range(len([k for k in arrays.files if k.startswith("init")]))]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_mirrored_two_replicas_match_one_device_with_the_same_global_batch(tmp_path):
    processes = [_start(mode, tmp_path / mode, tmp_path / f"{mode}.npz", {"batch_size": 4, "total_steps": 3})
                 for mode in ("mirrored", "single")]
    for process in processes:
        _finish(process)
    mirrored, single = np.load(tmp_path / "mirrored.npz"), np.load(tmp_path / "single.npz")
    assert int(mirrored["final_step"]) == int(single["final_step"]) == 3
    for index, (replica0, replica1, reference) in enumerate(zip(_weights(mirrored, 0), _weights(mirrored, 1),
                                                                _weights(single))):
        np.testing.assert_array_equal(replica0, replica1)  # replicas in sync
        np.testing.assert_allclose(replica0, reference, rtol=1e-5, atol=1e-6)  # same update as one device
        np.testing.assert_array_equal(mirrored[f"init{index}"], single[f"init{index}"])
    assert any(not np.allclose(w, single[f"init{i}"]) for i, w in enumerate(_weights(single)))


@pytest.mark.slow
def test_multi_worker_mirrored_workers_end_with_equal_weights(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{_free_port()}" for _ in range(2)]}
    processes = [
        _start("multi_worker", tmp_path / "run", tmp_path / f"worker{index}.npz", {"batch_size": 4, "total_steps": 3},
               env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})})
        for index in range(2)]
    for process in processes:
        _finish(process)
    workers = [np.load(tmp_path / f"worker{index}.npz") for index in range(2)]
    assert [int(w["final_step"]) for w in workers] == [3, 3]
    for first, second, initial in zip(_weights(workers[0]), _weights(workers[1]),
                                      [workers[0][f"init{i}"] for i in range(len(_weights(workers[0])))]):
        np.testing.assert_array_equal(first, second)
    assert any(not np.allclose(w, workers[0][f"init{i}"]) for i, w in enumerate(_weights(workers[0])))
    # Only the chief (worker 0) writes to the model directory; worker 1's temporary checkpoints are gone.
    assert os.path.exists(tmp_path / "run" / "checkpoints" / "ckpt-3.index")
    assert not os.path.exists(tmp_path / "run" / ".worker_tmp" / "worker_1" / "checkpoints")


@pytest.mark.slow
def test_killed_run_resumes_from_its_checkpoint_and_finishes_at_total_steps(tmp_path):
    options = {"total_steps": 40, "checkpoint_every_steps": 5, "step_delay_s": 0.25}
    model_dir, checkpoint_state = tmp_path / "run", tmp_path / "run" / "checkpoints" / "checkpoint"
    process = _start("resume", model_dir, tmp_path / "killed.npz", options)
    deadline = time.time() + TIMEOUT_S
    while not checkpoint_state.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=TIMEOUT_S)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (tmp_path / "killed.npz").exists()

    _finish(_start("resume", model_dir, tmp_path / "resumed.npz", options))
    resumed = np.load(tmp_path / "resumed.npz")
    assert 5 <= int(resumed["restored_step"]) < 40
    assert int(resumed["restored_step"]) % 5 == 0
    assert int(resumed["final_step"]) == 40
    # The second run started from the checkpoint's weights, not from a fresh initialisation.
    fresh = [np.asarray(v) for v in tiny_model().trainable_variables]
    assert any(not np.allclose(fresh[i], resumed[f"init{i}"]) for i in range(len(fresh)))
