"""The window's saved view state, read back from an audit someone else wrote.

The view is free JSON in `audit.json`; a hostile value (an opacity of 10**30, an ε index
past the grid, a selected example that does not exist) must not reach the widgets. Only
the window's fields of the right type and range survive; a bad one is dropped, and the
window then falls back to its default for it.
"""

from __future__ import annotations

from typing import Any

from inspector.core.results import EvaluationResults

MAX_NAME = 64  # a filter, method or target name
SORT_COLUMNS = 64


def _int_in(value: Any, low: int, high: int) -> int | None:
    """`value` if it is an int (not a bool) with low <= value < high, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value < high:
        return value
    return None


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_NAME else None


def _keep(found: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in found.items() if v is not None}


def _examples_state(state: Any, results: EvaluationResults) -> dict[str, Any]:
    if not isinstance(state, dict):
        return {}
    models = results.models
    classes = max((len(m.info.class_names) for m in models), default=0)
    classes = max(classes, len(results.dataset.class_names))
    n = max((len(m.sweep.indices) for m in models), default=0)
    found = _keep(
        {
            "model_index": _int_in(state.get("model_index"), 0, len(models)),
            "status": _name(state.get("status")),
            "true_class": _int_in(state.get("true_class"), 0, classes),
            "predicted_class": _int_in(state.get("predicted_class"), 0, classes),
            "sort_column": _int_in(state.get("sort_column"), 0, SORT_COLUMNS),
            "example": _int_in(state.get("example"), 0, n),
        }
    )
    if isinstance(state.get("sort_descending"), bool):
        found["sort_descending"] = state["sort_descending"]
    return found


def _saliency_state(state: Any) -> dict[str, Any]:
    if not isinstance(state, dict):
        return {}
    found = _keep(
        {
            "method": _name(state.get("method")),
            "target": _name(state.get("target")),
            "opacity": _int_in(state.get("opacity"), 0, 101),
        }
    )
    if isinstance(state.get("signed"), bool):
        found["signed"] = state["signed"]
    return found


def clean_view(view: Any, results: EvaluationResults) -> dict[str, Any]:
    """The saved view with the window's fields checked, each within what `results` hold.
    Other keys stay as they are (bounded by the header check; the window ignores them)."""
    if not isinstance(view, dict):
        return {}
    found = {k: v for k, v in view.items() if k not in ("eps_index", "examples", "saliency")}
    k = _int_in(view.get("eps_index"), 0, len(results.threat.eps))
    if k is not None:
        found["eps_index"] = k
    if "examples" in view:
        found["examples"] = _examples_state(view["examples"], results)
    if "saliency" in view:
        found["saliency"] = _saliency_state(view["saliency"])
    return found
