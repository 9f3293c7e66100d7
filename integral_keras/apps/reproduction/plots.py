"""The plot of a study (matplotlib, Agg): one panel per `studies.Panel`, the mean-pose floor dashed on each."""
from typing import Mapping, Optional

import numpy as np

from integral_keras.apps.reproduction import studies


def _ordered(values):
    return list(dict.fromkeys(values))


def plot_study(study: studies.Study, results: Mapping[str, Mapping[str, float]],
               floors: Mapping[str, Mapping[str, float]], path: str, title: Optional[str] = None) -> str:
    """Writes the study's figure to `path` (PNG) and returns `path`.

    Each panel draws `panel.metric` of the runs of `panel.part`: x positions are the distinct values of the label
    `panel.x` (in run order), one line (`kind="line"`, the paper's Table 2 figure) or one bar per x (`"bar"`)
    for each value of the label `panel.series`. Runs without results are left out (a gap in a line).
    """
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel

    panels = study.panels
    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), squeeze=False)
    for axis, panel in zip(axes[0], panels):
        runs = [run for run in study.runs if run.part == panel.part]
        xs = _ordered(run.labels[panel.x] for run in runs)
        series = _ordered(run.labels[panel.series] for run in runs) if panel.series else [None]
        width = 0.8 / len(series)
        for index, name in enumerate(series):
            values = []
            for x in xs:
                run = next((r for r in runs if r.labels[panel.x] == x
                            and (name is None or r.labels[panel.series] == name)), None)
                value = results.get(run.name, {}).get(panel.metric) if run is not None else None
                values.append(np.nan if value is None else value)
            positions = np.arange(len(xs), dtype=np.float64)
            if panel.kind == "line":
                axis.plot(positions, values, marker="o", label=name)
            else:
                axis.bar(positions + (index - (len(series) - 1) / 2) * width, values, width, label=name)
        floor = floors.get(panel.part, {}).get(panel.metric)
        if floor is not None:
            axis.axhline(floor, color="gray", linestyle="--", label="mean-pose floor")
        axis.set_xticks(np.arange(len(xs)))
        axis.set_xticklabels(xs, rotation=30 if max(len(x) for x in xs) > 6 else 0, ha="right")
        unit = " (mm, lower is better)" if panel.metric in studies.METRICS_3D else " (%)"
        axis.set_ylabel(panel.metric + unit)
        axis.set_xlabel("input -> heat map" if panel.x == "setting" else panel.x)
        axis.set_title(study.part(panel.part).title, fontsize=9)
        axis.grid(True, axis="y", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title or f"Study {study.name} (paper {study.paper_tables}) on synthetic data")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
