"""Table exports: the per-example CSV (one row per model, example and ε, ready for pandas)
and the summary JSON (per model and ε, the rates the window and the report show)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from inspector.core.atomic import atomic_write_text
from inspector.core.metrics import BOUNDARY_ERROR, statuses
from inspector.core.results import EvaluationResults, ModelResult
from inspector.core.threat import format_eps

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
    "broken_by",  # the attack (ensemble: its member) that broke it, where status is boundary_error
    "min_norm_radius",  # FMN: the smallest flipping perturbation found ("inf": none)
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
                by = "" if s.broken_by is None or status[i] != BOUNDARY_ERROR else s.broken_by[i]
                min_norm = None if s.min_norm_radius is None else s.min_norm_radius[i]
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
                    by,
                    "" if min_norm is None else f"{min_norm:.6g}",
                )


def write_csv(path: str | Path, results: EvaluationResults) -> None:
    """Write the per-example table atomically, the threat model in a leading comment line."""
    buffer = io.StringIO()
    buffer.write(f"# {results.threat.describe()}\n")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(per_example_rows(results))
    atomic_write_text(path, buffer.getvalue())


# --- summary JSON -------------------------------------------------------------------------

SUMMARY_FORMAT = "robustness-inspector/summary"
SUMMARY_VERSION = 1
UPPER_BOUND_NOTE = "robust accuracy is an upper bound (attack-based)"


def _model_summary(m: ModelResult) -> dict:
    """One model's identity and figures; the rates are the results' own, not recomputed."""
    s, info = m.sweep, m.info
    certified = s.certified_curve()
    return {
        "name": info.name,
        "path": info.path,
        "sha256": info.sha256,
        "backend": info.backend,
        "device": info.device,
        "providers": list(info.providers),
        "clean_accuracy": s.clean_accuracy,
        "natural_error_rate": float((~s.clean_correct).mean()),
        "partial": s.partial,
        "eps_done": s.eps_done,
        "curve": [
            {"eps_label": format_eps(r.eps), **r.to_dict(), "robust_error": r.robust_error}
            for r in s.curve()
        ],
        "certified_curve": None
        if certified is None
        else [{"eps": e, "certified_accuracy": a} for e, a in certified],
    }


def summary_to_json(results: EvaluationResults) -> dict:
    """Per model: clean accuracy and, per ε, robust accuracy (an upper bound), boundary-error
    and natural-error rates; with the threat model and the exact data and model files."""
    d = results.dataset
    return {
        "format": SUMMARY_FORMAT,
        "version": SUMMARY_VERSION,
        "created": results.created,
        "partial": results.partial,
        "threat_model_description": results.threat.describe(),
        "threat_model": results.threat.to_dict(),
        "robust_accuracy_note": UPPER_BOUND_NOTE,
        "dataset": {
            "spec": d.spec,
            "kind": d.kind,
            "sha256": d.sha256,
            "size": d.size,
            "examples": results.threat.num_examples,
            "shape": list(d.shape),
            "class_names": list(d.class_names),
        },
        "environment": results.environment,
        "models": [_model_summary(m) for m in results.models],
    }


def save_summary_json(path: str | Path, results: EvaluationResults) -> None:
    """Write the summary atomically (a failure leaves any previous file untouched)."""
    text = json.dumps(summary_to_json(results), indent=1, allow_nan=False, ensure_ascii=False)
    atomic_write_text(path, text + "\n")
