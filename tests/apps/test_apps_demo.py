"""The demo (`apps.demo`) without training: the floor rows of the results table, precision names, the Strategy 2
data the demo writes, the baseline computed once per data set, the 3D model's warm start from the 2D model, and the
3D overlay built from a prediction."""
import dataclasses
import pathlib

import numpy as np
import pytest

from integral_keras import visualization
from integral_keras.configs.experiment import load_experiment
from integral_keras.data import skeletons
from integral_keras.data.synthetic import generator as synthetic
from integral_keras.evaluation.baseline import read_labels
from integral_keras.apps import demo as demo_lib

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER_METRICS = ("PCK@0.5", "PCK@0.1", "AUC", "MPJPE mm", "PA-MPJPE mm")


def _result(name, metrics, baseline, depth=1):
    return demo_lib.DemoResult(
        name=name, method="Istar", precision="float32", input_size=64, heatmap="16x16", steps=4, batch_size=2,
        train_seconds=1.0, images_per_second=8.0, metrics=metrics, export_path="x", export_bytes={},
        tflite_max_error_px={}, overlays=[], baseline=baseline, depth=depth)


def _cells(line):
    return [cell.strip() for cell in line.split("|")[1:-1]]


def test_every_model_row_is_followed_by_its_floor_in_the_same_columns():
    floor = {"PCK@0.5": 12.34, "PCK@0.1": 1.0, "AUC": 6.5, "MPJPE": 286.04, "PA-MPJPE": 240.0}
    table = demo_lib.results_table([
        _result("m2d", {"PCK@0.5": 81.0, "PCK@0.1": 35.0, "AUC": 55.0}, floor),
        _result("m3d", {"PCK@0.5": 70.0, "PCK@0.1": 12.0, "AUC": 38.0, "MPJPE": 141.2, "PA-MPJPE": 120.0}, floor, 8),
        _result("no_floor", {"PCK@0.5": 50.0}, None)])
    header, _, *rows = table.splitlines()
    names = _cells(header)
    columns = [names.index(metric) for metric in HEADER_METRICS]
    assert [_cells(row)[0] for row in rows] == ["m2d", "mean-pose floor", "m3d", "mean-pose floor", "no_floor"]
    assert all(len(_cells(row)) == len(names) for row in rows)
    floor_2d, floor_3d = _cells(rows[1]), _cells(rows[3])
    # The 2D model reports no MPJPE, so its floor row leaves those cells empty; the 3D model's floor has them.
    assert [floor_2d[i] for i in columns] == ["12.3", "1.0", "6.5", "", ""]
    assert [floor_3d[i] for i in columns] == ["12.3", "1.0", "6.5", "286.0", "240.0"]
    assert [_cells(rows[2])[i] for i in columns] == ["70.0", "12.0", "38.0", "141.2", "120.0"]
    assert set(floor_3d) - {"mean-pose floor", "12.3", "1.0", "6.5", "286.0", "240.0"} == {""}


def test_a_warm_started_model_names_its_source_in_the_method_cell():
    result = dataclasses.replace(_result("m3d", {"MPJPE": 200.0}, None, depth=8), warm_start="demo_2d_run")
    assert _cells(demo_lib.results_table([result]).splitlines()[2])[1] == "Istar, from demo_2d_run"
    assert _cells(demo_lib.results_table([_result("m2d", {}, None)]).splitlines()[2])[1] == "Istar"


def test_precision_is_named_by_its_dtype():
    assert demo_lib.display_precision("none") == "float32"
    assert demo_lib.display_precision("bfloat16") == "bfloat16"
    assert demo_lib.display_precision("auto") in ("float32", "bfloat16")


def _mix_config(tmp_path, extra=""):
    path = tmp_path / "mix_3d.yaml"
    path.write_text((ROOT / "configs" / "demo_3d.yaml").read_text() + extra)
    return path


def test_a_strategy_2_config_is_pointed_at_the_demo_2d_set(tmp_path):
    base = load_experiment([str(ROOT / "configs" / "demo_3d.yaml")], ["data.mix_2d_skeleton=mpii"])
    config, skeleton = demo_lib.with_mix_2d_data(base, tmp_path)
    assert skeleton == "mpii"
    assert config.data.mix_2d_file_pattern == (str(tmp_path / "data_2d_mpii" / "train-*-of-*.tfrecord"),)
    given = base.override(["data.mix_2d_file_pattern=[/data/mpii/train-*.tfrecord]"])
    assert demo_lib.with_mix_2d_data(given, tmp_path) == (given, None)  # the user's own 2D data is kept
    plain = load_experiment([str(ROOT / "configs" / "demo_2d.yaml")])
    assert demo_lib.with_mix_2d_data(plain, tmp_path) == (plain, None)


def test_a_3d_model_warm_starts_from_the_earlier_2d_model_of_the_same_network(tmp_path):
    two_d = load_experiment([str(ROOT / "configs" / "demo_2d.yaml")])
    three_d = load_experiment([str(ROOT / "configs" / "demo_3d.yaml")])
    configs = demo_lib.with_warm_starts([two_d, three_d], tmp_path)
    assert configs[0] == two_d
    assert configs[1].train.init_checkpoint == str(tmp_path / "demo_hourglass_Istar_2d_128features")
    assert configs[1].override(["train.init_checkpoint=null"]) == three_d  # nothing else changed
    # No 2D predecessor (order), another network, or the user's own init_checkpoint: left as they are.
    assert demo_lib.with_warm_starts([three_d, two_d], tmp_path) == [three_d, two_d]
    other = two_d.override(["model.hourglass_features=64"])
    assert demo_lib.with_warm_starts([other, three_d], tmp_path)[1] == three_d
    own = three_d.override(["train.init_checkpoint=/runs/mine"])
    assert demo_lib.with_warm_starts([two_d, own], tmp_path)[1] == own


class _Stop(Exception):
    pass


def test_run_demo_writes_the_2d_only_set_and_computes_the_floor_once(tmp_path, monkeypatch):
    mix = _mix_config(tmp_path)
    settings = demo_lib.DemoSettings(
        work_dir=str(tmp_path / "demo"), export_dir=str(tmp_path / "exports"), num_train=6, num_val=4,
        image_size=48, configs=(str(mix), str(ROOT / "configs" / "demo_2d.yaml")),
        overrides=("data.mix_2d_skeleton=mpii",))
    calls, trained = [], []

    def stand_in(train, val, skeleton, root_joint=0):
        calls.append((tuple(train), tuple(val), skeleton, root_joint))
        return {"PCK@0.5": 10.0, "PCK@0.1": 1.0, "AUC": 5.0, "MPJPE": 300.0, "PA-MPJPE": 250.0, "num_examples": 4}

    def fake_train(config, model_dir):
        trained.append(config)
        raise _Stop()

    monkeypatch.setattr(demo_lib, "train_model", fake_train)
    # Record the demo's log lines directly: absl's handler state after other tests (SavedModel exports) can keep
    # them out of caplog, which made this test depend on the order it ran in.
    logged = []
    monkeypatch.setattr(demo_lib.logging, "info", lambda message, *args: logged.append(message % args))
    with pytest.raises(_Stop):
        demo_lib.run_demo(settings, mean_pose_metrics=stand_in)

    data = tmp_path / "demo" / "data"
    # Both configs (the 2D one got the override too) read the same data: one baseline call, on the main set.
    assert calls == [((synthetic.file_pattern(str(data), "train"),), (synthetic.file_pattern(str(data), "val"),),
                      "h36m", 0)]
    pattern = trained[0].data.mix_2d_file_pattern
    assert pattern == (synthetic.file_pattern(str(tmp_path / "demo" / "data_2d_mpii"), "train"),)
    mixed = read_labels(pattern[0], skeletons.get_skeleton("mpii").num_joints)
    main = read_labels(trained[0].data.train_file_pattern[0], skeletons.get_skeleton("h36m").num_joints)
    assert len(mixed["has_3d"]) == settings.num_train and not mixed["has_3d"].any() and main["has_3d"].all()
    assert not (tmp_path / "demo" / "data_2d_mpii" / "val-00000-of-00001.tfrecord").exists()
    # Another seed than the main set's, so these are other people, not the main set's under another skeleton.
    first = mixed["keypoints_2d"][np.argsort(mixed["center"][:, 0])]
    for seed, same in ((settings.seed + demo_lib.MIX_2D_SEED_OFFSET, True), (settings.seed, False)):
        source = synthetic.SyntheticPoseGenerator("mpii", settings.image_size, seed)
        expected = np.stack([source.sample(i, "train").keypoints_2d for i in range(settings.num_train)])
        expected = expected[np.argsort([source.sample(i, "train").center[0] for i in range(settings.num_train)])]
        assert np.allclose(first, expected, atol=1e-3) == same
    stages = [message for message in logged if message.startswith("[demo ")]
    assert [line.split("] ")[1].split(" (")[0] for line in stages] == [
        "generate synthetic data", "generate 2D-only mpii data", "mean-pose baseline", "train + evaluate mix_3d"]
    assert stages[0].startswith("[demo 1/9]")  # 2 data stages, 1 baseline, 3 per config


def test_overlay_figure_of_a_perfect_3d_prediction_shows_zero_error_in_both_views():
    skeleton = skeletons.get_skeleton("h36m")
    sample = synthetic.SyntheticPoseGenerator("h36m", 96, 0).sample(1, "val")
    predicted = {"joints": sample.keypoints_2d.astype(np.float32), "depth_mm": sample.keypoints_3d[:, 2]}
    figure = demo_lib.overlay_figure(sample, predicted, skeleton, panel_size=256)
    comparison = visualization.pose_comparison(sample.image, sample.keypoints_2d, sample.keypoints_2d, skeleton,
                                               visible=sample.visible, center=sample.center,
                                               side=float(sample.scale[0]))
    # Back-projecting the true (u, v, z) with the true root depth and camera gives the true pose: 0 mm.
    views = visualization.pose_views_3d(sample.keypoints_3d, sample.keypoints_3d, skeleton, size=(512, 307),
                                        title="3D, root-relative: MPJPE 0 mm, PA-MPJPE 0 mm")
    np.testing.assert_array_equal(figure[:comparison.shape[0]], comparison)
    np.testing.assert_array_equal(figure[comparison.shape[0]:], views)
    flat = demo_lib.overlay_figure(sample, {"joints": sample.keypoints_2d}, skeleton)  # a 2D model: no views
    np.testing.assert_array_equal(flat, comparison)


def test_copy_figures_needs_a_finished_demo(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the demo first"):
        demo_lib.copy_figures(str(tmp_path), str(tmp_path / "images"))
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / demo_lib.FIGURE_NAMES[2]).write_bytes(b"png")
    copied = demo_lib.copy_figures(str(tmp_path), str(tmp_path / "images"))
    assert [pathlib.Path(p).name for p in copied] == [demo_lib.FIGURE_NAMES[2]]
    assert (tmp_path / "images" / demo_lib.FIGURE_NAMES[2]).read_bytes() == b"png"


def test_summary_figures_sheet_each_dimension_and_plot_every_model(tmp_path):
    import cv2

    results = []
    for name, depth, value in (("a2d", 1, 60), ("b3d", 8, 200)):
        paths = []
        for index in range(3):
            path = tmp_path / f"{name}_{index}.png"
            cv2.imwrite(str(path), np.full((40, 30, 3), value, np.uint8))
            paths.append(str(path))
        result = _result(name, {}, None, depth)
        result.overlays = paths
        results.append(result)
    curve = {"thresholds": np.linspace(0, 0.5, 51), "curve": np.linspace(0, 80, 51), "AUC": 40.0}
    losses = {"loss": (np.array([1, 2, 3]), np.array([3.0, 2.0, 1.0]))}
    written = demo_lib.summary_figures(results, {"a2d": curve, "b3d": curve}, {"a2d": losses, "b3d": losses},
                                       str(tmp_path / "figures"))
    assert sorted(written) == sorted(demo_lib.FIGURE_NAMES)
    sheet_2d = cv2.imread(written["demo_overlays_2d.png"])
    sheet_3d = cv2.imread(written["demo_overlays_3d.png"])
    # SHEET_OVERLAYS = 2 overlays side by side (4 px apart), each sheet only from its own models.
    assert sheet_2d.shape == (40, 2 * 30 + 4, 3) and sheet_2d[0, 0, 0] == 60 and sheet_2d[0, -1, 0] == 60
    assert sheet_3d.shape == (40, 64, 3) and sheet_3d[0, 0, 0] == 200
    two_runs = cv2.imread(written["demo_loss_curves.png"])
    one_run = cv2.imread(demo_lib.summary_figures([], {}, {"a2d": losses}, str(tmp_path / "one"))[
        "demo_loss_curves.png"])
    assert two_runs.shape[1] > 1.5 * one_run.shape[1]  # one panel per model


def test_a_slow_training_stage_is_reported_with_its_measured_rate():
    images = 1600 * 32  # the 2D model: planned 30 s + 51200 / 100 img/s = 542 s
    assert demo_lib.speed_note("m2d", images, 542.0) is None
    assert demo_lib.speed_note("m2d", images, 1.25 * 542.0) is None  # within the plan's margin
    note = demo_lib.speed_note("m2d", images, 1098.0)
    assert note.startswith("m2d trained at 46.6 img/s (evaluations included): 2.0x the 542 s planned")
    assert "100 img/s" in note


SCHEDULE_FIELDS = ("train.total_steps", "train.steps_per_epoch", "train.lr_boundaries", "train.lr_values",
                   "train.checkpoint_every_steps")


def _schedule(config):
    return {field: getattr(config.train, field.split(".")[1]) for field in SCHEDULE_FIELDS}


def test_the_full_budget_trains_the_demo_networks_longer_on_more_data():
    demo, full = demo_lib.BUDGETS["demo"], demo_lib.BUDGETS["full"]
    assert full.num_train == 4 * demo.num_train and full.work_dir != demo.work_dir
    for short_path, long_path in zip(demo.configs, full.configs):
        short, long = (load_experiment([str(ROOT / path)]) for path in (short_path, long_path))
        assert long.name == "demo_full" and short.name == "demo"
        assert long.train.total_steps > short.train.total_steps
        assert long.train.lr_boundaries[-1] < long.train.total_steps  # the schedule fits the run
        assert long.train.total_steps % long.train.checkpoint_every_steps == 0  # the last step is checkpointed
        # Model, data, augmentation and precision are the demo's: only the name and the schedule differ.
        same_schedule = [f"{field}={value}" for field, value in _schedule(short).items()]
        assert long.override(same_schedule + ["name=demo"]) == short


def test_a_budget_fills_only_the_settings_that_were_not_given():
    full = demo_lib.DemoSettings.for_budget("full", num_val=8)
    assert (full.work_dir, tuple(full.configs), full.num_train, full.num_val) == (
        "runs/demo_full", ("configs/demo_full_2d.yaml", "configs/demo_full_3d.yaml"), 12000, 8)
    given = demo_lib.DemoSettings.for_budget("full", work_dir="/tmp/w", configs=["a.yaml"], num_train=16)
    assert (given.work_dir, given.configs, given.num_train) == ("/tmp/w", ("a.yaml",), 16)
    assert demo_lib.DemoSettings.for_budget("demo") == demo_lib.DemoSettings()
    with pytest.raises(ValueError, match=r"'fast'.*\['demo', 'full'\]"):
        demo_lib.DemoSettings.for_budget("fast")
