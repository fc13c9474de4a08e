"""Saliency maps: what a model looks at, on clean and adversarial inputs (issue 4).

Qt-free. `attribute` computes maps with captum (vanilla gradient, SmoothGrad, Integrated
Gradients, Grad-CAM); `to_display` / `colormap` / `overlay` turn them into pictures;
`concentration` and `model_concentration` give the number beside the picture.
"""

from inspector.core.saliency.attribution import (
    SaliencyResult,
    attribute,
    gradcam_available,
)
from inspector.core.saliency.concentration import (
    CAVEAT,
    OBJECT_THRESHOLD,
    ConcentrationSummary,
    concentration,
    edge_alignment,
    model_concentration,
    object_masks,
    score_kind,
    scores,
    uniform_scores,
)
from inspector.core.saliency.display import DisplayMaps, colormap, overlay, to_display
from inspector.core.saliency.methods import METHODS
from inspector.core.saliency.targets import TARGET_CHOICES, predict, resolve_target

__all__ = [
    "CAVEAT",
    "METHODS",
    "OBJECT_THRESHOLD",
    "TARGET_CHOICES",
    "ConcentrationSummary",
    "DisplayMaps",
    "SaliencyResult",
    "attribute",
    "colormap",
    "concentration",
    "edge_alignment",
    "gradcam_available",
    "model_concentration",
    "object_masks",
    "overlay",
    "predict",
    "resolve_target",
    "score_kind",
    "scores",
    "to_display",
    "uniform_scores",
]
