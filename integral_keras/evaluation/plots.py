"""Plots of evaluation results: PCK / PCKh curves of several runs in one figure (the paper's Fig. 2).

Uses matplotlib's object API with the Agg canvas, so it never needs a display and never touches pyplot's
global state.
"""
import os
from typing import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def plot_pck_curves(runs: Mapping[str, Mapping], path, title: str = "PCKh on MPII validation",
                    xlabel: str = "Normalized distance", ylabel: str = "Detection rate, %") -> str:
    """Draws one PCK curve per run and saves the figure as PNG.

    Args:
      runs: run label -> metrics dict holding `"thresholds"` and `"curve"` (as returned by
        `evaluation.mpii_pckh` or `evaluation.torso_pck`); an `"AUC"` entry is shown in the legend.
      path: output `.png` path (parent folders are created).
      title, xlabel, ylabel: figure text.

    Returns:
      the path written.
    """
    if not runs:
        raise ValueError("plot_pck_curves needs at least one run")
    figure = Figure(figsize=(6, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for label, metrics in runs.items():
        missing = [key for key in ("thresholds", "curve") if key not in metrics]
        if missing:
            raise KeyError(f"Run {label!r} lacks {missing}; pass the dict returned by mpii_pckh or torso_pck")
        thresholds = np.asarray(metrics["thresholds"], np.float64)
        curve = np.asarray(metrics["curve"], np.float64)
        if "AUC" in metrics:
            label = f"{label} (AUC {metrics['AUC']:.1f})"
        axes.plot(thresholds, curve, linewidth=1.5, label=label)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.set_ylim(0, 100)
    axes.set_xlim(left=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, format="png", bbox_inches="tight")
    return path
