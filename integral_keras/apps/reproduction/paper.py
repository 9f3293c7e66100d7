"""The paper's numbers for a study's rows, read from the `paper:` blocks of `configs/paper/`.

Nothing here is a number of its own: a value comes from `integral_keras.configs.paper_numbers` (transcribed from
the paper's text, or quoted and marked so) or the cell says `NOT_TRANSCRIBED`; a metric the paper does not report for that row is `NONE`.
"""
import os
from typing import Dict, Optional, Tuple

from integral_keras.configs import paper_numbers

NOT_TRANSCRIBED = "not transcribed"
NONE = "-"
#: this package's synthetic metric -> the paper's (metric, protocol) for the same column. The synthetic 2D metric
#: is the torso PCK; the paper's is MPII's PCKh (head-normalised): the columns say which.
PAPER_METRIC = {"PCK@0.5": ("PCKh@0.5", "mpii_val"), "PCK@0.1": ("PCKh@0.1", "mpii_val"),
                "AUC": ("AUC", "mpii_val"), "MPJPE": ("MPJPE", "h36m_p2"), "PA-MPJPE": ("PA-MPJPE", "h36m_p1")}


def paper_reference(stem: Optional[str], paper_dir) -> Optional[paper_numbers.PaperReference]:
    """The `paper:` block of `<paper_dir>/<stem>.yaml`, or None (no stem, or no such file)."""
    if not stem:
        return None
    path = os.path.join(os.fspath(paper_dir), f"{stem}.yaml")
    if not os.path.isfile(path):
        return None
    return paper_numbers.load_paper_experiment(path).paper


def paper_cells(reference: Optional[paper_numbers.PaperReference], metrics: Tuple[str, ...]) -> Dict[str, str]:
    """Cell text of the paper's number for each of `metrics` (keys of `PAPER_METRIC`).

    Returns:
      metric -> `"86.8"` (transcribed), `"86.8 (quoted)"` (quoted), `NOT_TRANSCRIBED`, or `NONE` (no reference, or the paper reports no such
      number for the row: e.g. Table 7 gives MPJPE only).
    """
    cells = {}
    for metric in metrics:
        wanted = PAPER_METRIC[metric]
        result = None
        if reference is not None:
            result = next((r for r in reference.results if (r.metric, r.protocol) == wanted), None)
        if result is None:
            cells[metric] = NONE
        elif result.value is None:
            cells[metric] = NOT_TRANSCRIBED
        else:
            cells[metric] = f"{result.value:g}{result.mark}"
    return cells


def row_label(reference: Optional[paper_numbers.PaperReference]) -> str:
    """`"Table 7, Strategy 2, I1"`, or `NONE`."""
    if reference is None or not reference.table:
        return NONE
    return f"Table {reference.table}, {reference.row}"
