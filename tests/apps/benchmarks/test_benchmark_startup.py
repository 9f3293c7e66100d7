"""Tests for `scripts/benchmark.py startup`: the processes it starts, the order of the settings, the table and its
errors (timings are never asserted), and one real measurement in this process."""
import json
import subprocess
import types

import pytest

from integral_keras.apps.benchmarks import startup

TINY = "data.batch_size=2,data.shuffle_buffer=4,model.hourglass_features=16"


def _fake_runs(monkeypatch, returncode=0):
    """Replaces the child processes: each prints a result line whose numbers encode its call index."""
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        setting = next(a for a in command if a.startswith("--child=")).split("=", 1)[1]
        result = {phase: float(len(calls)) for phase in startup.PHASES}
        result["steady img/s"] = 100.0 + len(calls)
        stdout = f"noise\n{startup.RESULT_PREFIX}{json.dumps(result)}\n" if returncode == 0 else ""
        return types.SimpleNamespace(returncode=returncode, stdout=stdout, stderr=f"{setting} broke")

    monkeypatch.setattr(startup, "write_data", lambda args, data_dir: None)
    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_settings_alternate_in_fresh_processes_and_the_table_gives_medians(monkeypatch, capsys):
    calls = _fake_runs(monkeypatch)
    assert startup.main(["benchmark.py", "--repeats=3", "--steps=7"]) == 0
    settings = [next(a for a in c if a.startswith("--child=")) for c in calls]
    assert settings == ["--child=on", "--child=off", "--child=off", "--child=on", "--child=on", "--child=off"]
    assert all(c[1:3] == ["-m", "integral_keras.apps.benchmarks.startup"] and "--steps=7" in c for c in calls)
    lines = capsys.readouterr().out.splitlines()
    assert lines[-4] == "| grappler | import s | build s | trace s | first step s | before steady steps s | steady img/s |"
    # "on" ran as calls 1, 4, 5 (median 4; four phases of 4 s: 16 s), "off" as 2, 3, 6 (median 3).
    assert lines[-2] == "| on | 4.0 | 4.0 | 4.0 | 4.0 | 16.0 | 104.0 |"
    assert lines[-1] == "| off | 3.0 | 3.0 | 3.0 | 3.0 | 12.0 | 103.0 |"


def test_a_failed_process_is_reported_with_its_error(monkeypatch):
    _fake_runs(monkeypatch, returncode=1)
    with pytest.raises(RuntimeError, match=r"the grappler=on process failed \(status 1\):\non broke"):
        startup.main(["benchmark.py", "--repeats=1"])


def test_unknown_setting_is_one_line(capsys):
    assert startup.main(["benchmark.py", "--grappler=on,maybe"]) == 2
    assert capsys.readouterr().err == "benchmark.py startup: --grappler: unknown 'maybe'; choose from ['on', 'off']\n"


def test_overrides_keep_their_list_values_and_the_data_paths_follow_the_config(tmp_path):
    args = startup._parse(["startup", "--config_file=configs/demo_3d.yaml",
                           "--params_override=train.lr_boundaries=[100,200],train.lr_values=[0.5,0.25]"], "startup")
    config = startup.load_config(args, str(tmp_path))
    assert config.train.lr_boundaries == (100, 200) and config.train.lr_values == (0.5, 0.25)
    assert config.data.train_file_pattern == config.data.val_file_pattern == (str(tmp_path / "train-*-of-*.tfrecord"),)
    assert config.data.mix_2d_file_pattern == (str(tmp_path / "mix_2d" / "train-*-of-*.tfrecord"),)
    assert not startup.load_config(startup._parse(["startup"], "startup"), str(tmp_path)).data.mix_2d_file_pattern


def test_one_process_measures_every_phase_on_written_data(tmp_path):
    args = startup._parse(["startup", f"--params_override={TINY}", "--steps=2", "--num_records=8",
                           "--image_size=64"], "startup")
    startup.write_data(args, str(tmp_path))
    assert sorted(p.name for p in tmp_path.glob("train-*.tfrecord")) == ["train-00000-of-00002.tfrecord",
                                                                         "train-00001-of-00002.tfrecord"]
    times = startup.measure(args, str(tmp_path), "on", start=0.0)  # "off" would switch grappler off for the session
    assert set(times) == {*startup.PHASES, "steady img/s"}
    assert all(value > 0 for value in times.values())
