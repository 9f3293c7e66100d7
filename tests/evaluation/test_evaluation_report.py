"""PCK curve plot, metrics JSON and markdown table."""
import json

import numpy as np
import pytest
from matplotlib import image as mpl_image

from integral_keras import evaluation
from integral_keras.evaluation import report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _run(offset):
    thresholds = np.linspace(0, 0.5, 51)
    return {"thresholds": thresholds.tolist(), "curve": (np.clip(thresholds * 200 + offset, 0, 100)).tolist(),
            "AUC": 50.0 + offset}


def test_pck_curves_png(tmp_path):
    path = evaluation.plot_pck_curves({"I1": _run(10.0), "H1": _run(0.0)}, tmp_path / "figs" / "pckh.png")
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    pixels = mpl_image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 0.01  # something was drawn


def test_plot_needs_curves(tmp_path):
    with pytest.raises(KeyError, match="'R1'"):
        evaluation.plot_pck_curves({"R1": {"Mean": 80.0}}, tmp_path / "x.png")


def test_metrics_json_round_trip_with_numpy_values(tmp_path):
    metrics = {"Mean": np.float32(87.5), "frames": np.int64(3), "curve": np.array([1.0, 2.0]),
               "per_joint": {"r_ankle": np.float64(80.0)}}
    path = evaluation.write_metrics_json(metrics, tmp_path / "out" / "metrics.json")
    assert json.loads(open(path).read()) == {"Mean": 87.5, "frames": 3, "curve": [1.0, 2.0],
                                             "per_joint": {"r_ankle": 80.0}}
    assert report.read_metrics_json(path)["Mean"] == 87.5


def test_markdown_table():
    rows = {"H1": {"Mean": 85.04, "AUC": 55.66, "curve": [1, 2], "per_part": {"Head": 96.0}},
            "I1": {"Mean": 87.3, "AUC": float("nan")}}
    table = evaluation.markdown_table(rows, columns=["Mean", "AUC", "per_part/Head"], digits=1)
    assert table == ("| Run | Mean | AUC | per_part/Head |\n"
                     "|---|---:|---:|---:|\n"
                     "| H1 | 85.0 | 55.7 | 96.0 |\n"
                     "| I1 | 87.3 | - | - |\n")


def test_write_report(tmp_path):
    rows = {"R1": {"Mean": 1.25}}
    evaluation.write_report(rows, tmp_path / "r.json", tmp_path / "r.md", digits=2)
    assert json.loads((tmp_path / "r.json").read_text()) == rows
    assert "| R1 | 1.25 |" in (tmp_path / "r.md").read_text()
