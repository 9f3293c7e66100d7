"""The evaluated metrics next to the numbers the paper reports for a config's table row (`paper:` block).

`scripts/evaluate.py --compare_paper` prints `comparison_table`; the references themselves are config data
(`integral_keras.configs.paper_numbers.PaperReference`).
"""
from typing import Dict, List, Mapping

from integral_keras.evaluation import report

#: (metric, protocol) -> key of the flattened `metrics.json` of `scripts/evaluate.py` (report.scalar_metrics).
EVALUATED_KEYS = {
    ("PCKh@0.5", "mpii_val"): "Mean", ("PCKh@0.1", "mpii_val"): "Mean@0.1", ("AUC", "mpii_val"): "AUC",
    ("AP", "coco_val2017"): "AP",
    ("MPJPE", "h36m_p2"): "protocol2/mean", ("PA-MPJPE", "h36m_p1"): "protocol1/mean",
}


def compare_with_paper(reference, metrics: Mapping) -> List[Dict]:
    """Rows `{metric, protocol, unit, evaluated, paper, paper_status, paper_mark, difference}`, one per number the
    paper reports for a row (`paper_mark` is `" (quoted)"` for a quoted value, else empty).

    Args:
      reference: the config's `paper` block (a `PaperReference`).
      metrics: the evaluation's metrics (nested as `metrics.json`, or already flattened).

    Returns:
      one row per paper result; `evaluated` is None where the evaluation has no such metric (e.g. a test-set
      number, or a protocol not evaluated), `paper` None where the paper's number is not transcribed, and
      `difference` (evaluated - paper) where both exist.
    """
    flat = report.scalar_metrics(metrics)
    rows = []
    for result in reference.results:
        key = EVALUATED_KEYS.get((result.metric, result.protocol))
        evaluated = flat.get(key) if key else None
        difference = None if evaluated is None or result.value is None else evaluated - result.value
        rows.append({"metric": result.metric, "protocol": result.protocol, "unit": result.unit,
                     "evaluated": evaluated, "paper": result.value, "paper_status": result.status,
                     "paper_mark": result.mark, "difference": difference})
    return rows


def comparison_table(reference, metrics: Mapping, label: str = "this run") -> str:
    """`compare_with_paper` as a markdown table headed by the paper's table and row."""

    def cell(value):
        return "-" if value is None else f"{value:.1f}"

    lines = [f"Paper: Table {reference.table}, row {reference.row}", "",
             f"| Metric | Protocol | {label} | Paper | Difference |", "|---|---|---|---|---|"]
    for row in compare_with_paper(reference, metrics):
        paper = cell(row["paper"]) + row["paper_mark"] if row["paper"] is not None else "not transcribed"
        lines.append(f"| {row['metric']} ({row['unit']}) | {row['protocol']} | {cell(row['evaluated'])} | {paper} | "
                     f"{cell(row['difference'])} |")
    return "\n".join(lines) + "\n"
