"""Colour-blind-safe colours (Okabe & Ito 2008), used with text labels, never alone."""

from __future__ import annotations

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST

# One colour per model, in order: blue, orange, bluish green, vermillion, sky blue, purple, yellow.
MODEL_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442")

STATUS_COLORS = {ROBUST: "#0072B2", BOUNDARY_ERROR: "#E69F00", NATURAL_ERROR: "#D55E00"}
CHECK_COLORS = {  # sanity checks
    "passed": "#009E73",
    "warning": "#D55E00",
    "not informative": "#0072B2",
    "skipped": "#808080",
}  # sanity checks
STATUS_LABELS = {ROBUST: "robust", BOUNDARY_ERROR: "boundary error", NATURAL_ERROR: "natural error"}

# Metric line styles on the tradeoff plot (colour = model, dash = metric).
METRIC_LABELS = {
    "clean": "clean accuracy",
    "robust": "robust accuracy (upper bound)",
    "boundary": "boundary-error rate",
}


def model_color(index: int) -> str:
    return MODEL_COLORS[index % len(MODEL_COLORS)]
