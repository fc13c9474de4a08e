"""Per-example table export: one row per model, example and ε (tidy, ready for pandas)."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from inspector.core.atomic import atomic_write_text
from inspector.core.metrics import statuses
from inspector.core.results import EvaluationResults

COLUMNS = (
    "model",
    "index",
    "label",
    "clean_pred",
    "clean_conf",
    "eps",
    "adv_pred",
    "adv_conf",
    "status",
    "breaking_eps",
    "certified_radius",
)


def per_example_rows(results: EvaluationResults):
    """Rows of COLUMNS; class indices, not names, so the file stays machine-readable."""
    for m in results.models:
        s = m.sweep
        for k in range(s.eps_done):
            status = statuses(s.clean_correct, s.breaking_eps, s.eps[k])
            for i in range(len(s.indices)):
                brk = s.breaking_eps[i]
                radius = None if s.certified_radius is None else s.certified_radius[i]
                yield (
                    m.info.name,
                    int(s.indices[i]),
                    int(s.labels[i]),
                    int(s.clean_pred[i]),
                    f"{s.clean_conf[i]:.6f}",
                    f"{s.eps[k]:.6g}",
                    int(s.adv_pred[i, k]),
                    f"{s.adv_conf[i, k]:.6f}",
                    status[i],
                    "" if math.isnan(brk) else f"{brk:.6g}",
                    "" if radius is None else f"{radius:.6g}",
                )


def write_csv(path: str | Path, results: EvaluationResults) -> None:
    """Write the per-example table atomically, the threat model in a leading comment line."""
    buffer = io.StringIO()
    buffer.write(f"# {results.threat.describe()}\n")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(per_example_rows(results))
    atomic_write_text(path, buffer.getvalue())
