"""Evaluation reports: metrics to a JSON file and to a markdown table."""
import json
import math
import os
from typing import Mapping, Optional, Sequence

import numpy as np


def to_jsonable(value):
    """Converts numpy scalars / arrays (also nested in dicts, lists and tuples) to plain Python values."""
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_metrics_json(metrics: Mapping, path) -> str:
    """Writes a (nested) metrics dict as indented JSON; parent folders are created. Returns the path."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(to_jsonable(metrics), f, indent=2, sort_keys=False)
        f.write("\n")
    return path


def read_metrics_json(path) -> dict:
    """Reads a metrics JSON written by `write_metrics_json`."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Metrics file not found: {path}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def scalar_metrics(metrics: Mapping, prefix: str = "") -> dict:
    """Flattens nested dicts to `"outer/inner"` keys, keeping only numbers (curves and lists are dropped)."""
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(scalar_metrics(value, prefix=f"{name}/"))
        elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def _format(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def markdown_table(rows: Mapping[str, Mapping], columns: Optional[Sequence[str]] = None,
                   digits: int = 1, row_header: str = "Run") -> str:
    """Renders runs as a markdown table.

    Args:
      rows: run label -> metrics dict (nested dicts are flattened with `scalar_metrics`).
      columns: metric names to show, in order; default: every scalar of the first row.
      digits: decimals.
      row_header: header of the first column.

    Returns:
      the table as a string ending with a newline; a missing metric shows as `-`.
    """
    if not rows:
        raise ValueError("markdown_table needs at least one row")
    flat = {label: scalar_metrics(metrics) for label, metrics in rows.items()}
    columns = list(columns) if columns is not None else list(next(iter(flat.values())))
    lines = ["| " + " | ".join([row_header, *columns]) + " |",
             "|" + "|".join(["---"] + ["---:"] * len(columns)) + "|"]
    for label, values in flat.items():
        cells = [_format(values.get(column), digits) for column in columns]
        lines.append("| " + " | ".join([str(label), *cells]) + " |")
    return "\n".join(lines) + "\n"


def write_report(rows: Mapping[str, Mapping], json_path, markdown_path, columns: Optional[Sequence[str]] = None,
                 digits: int = 1) -> None:
    """Writes all runs' metrics to `json_path` and their table (`markdown_table`) to `markdown_path`."""
    write_metrics_json(rows, json_path)
    markdown_path = os.fspath(markdown_path)
    os.makedirs(os.path.dirname(os.path.abspath(markdown_path)), exist_ok=True)
    with open(markdown_path, "w", encoding="utf-8") as f:
        f.write(markdown_table(rows, columns=columns, digits=digits))
