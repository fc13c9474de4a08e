"""What the detail panel says: its colours, sizes, tooltips and the short texts of a column."""

from __future__ import annotations

import math

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.sweep import ModelSweep
from inspector.core.threat import format_eps

TOP_K = 5
# Clean vs adversarial bars: light vs mid neutral grey, told apart by lightness in both
# palettes; no hue, since hues name models (Okabe–Ito) and the signs of signed maps.
CLEAN_COLOR = "#BDBDBD"
ADV_COLOR = "#757575"
GREY_TEXT = "#808080"
NBSP, WJ, SHY = "\u00a0", "\u2060", "\u00ad"  # no-break space, word joiner, soft hyphen
MAX_IMAGE = 120  # logical px; larger tiles only take the plots' room
CAPTION_LINES = 5  # beside each image: what it is, prediction, ε, scale
MESSAGE_LINES = 3  # "example not in this model's results" in a narrow column
COLUMN_MIN_WIDTH = 210  # below this the panel scrolls sideways rather than clip the text
CLEAN_CACHE_SIZE = 64

ZOOM_TIP = "Double-click for a large, pixel-exact view of the clean, adversarial and δ images."

STATUS_TIPS = {
    ROBUST: (
        "Robust at this ε: correct on the clean input, and the attack found no perturbation "
        "inside the ε-ball that flips it. This means no flip was found, not that none exists: "
        "attack-based robust accuracy is an upper bound."
    ),
    BOUNDARY_ERROR: (
        "Boundary error: correct on the clean input, but flipped inside the ε-ball — the "
        "attack found a δ with ‖δ‖ ≤ ε (input kept in [0, 1]) that changes the prediction."
    ),
    NATURAL_ERROR: (
        "Natural error: wrong already on the clean input, hence at every ε (every natural "
        "error is also a robust error). It is not attacked."
    ),
}
TIPS = {
    "breaking": (
        "Breaking ε: the smallest grid ε at which the attack flipped this example. The true "
        "robustness radius is at most this value; a stronger attack might flip it earlier."
    ),
    "clean": "The unperturbed input, as the model sees it (values in [0, 1]). " + ZOOM_TIP,
    "adversarial": (
        "The adversarial example is the point the attack found inside the ε-ball around the "
        "clean input. If it does not flip the prediction the example counts as robust: no flip "
        "was found, which does not prove none exists. Once flipped, the same point is shown "
        "at every larger ε (the balls are nested). " + ZOOM_TIP
    ),
    "perturbation": (
        "The perturbation δ = adversarial − clean, amplified ×N so that its largest |δ| fills "
        "the range. Mid grey = 0; magenta = pixel made brighter, green = darker (colour images: "
        "0.5 + N·δ per channel). " + ZOOM_TIP
    ),
    "saliency_clean": (
        "Saliency on the clean input: where the evidence for the chosen class sits. Magenta "
        "raises the class's logit, green lowers it (absolute mode: brighter = more). The "
        "colour bar below gives the scale in the method's units."
    ),
    "saliency_adv": (
        "Saliency on the adversarial example at this ε, for the same class and on the same "
        "colour scale as the clean map: how the perturbation moved the evidence."
    ),
    "bars": (
        "Class probabilities (softmax) on the clean input and on the adversarial example at "
        "this ε: the five most likely classes of either, the true class always included (✓)."
    ),
    "curve": (
        "Probability of the true class on the adversarial example, over the ε grid. The "
        "prediction flips once another class overtakes it (not necessarily below 0.5). The "
        "ring marks the current ε."
    ),
}


def grey(text: str) -> str:
    return f'<span style="color:{GREY_TEXT}">{text}</span>'


def class_name(names: tuple[str, ...], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"class {index}"


def short_name(names: tuple[str, ...], index: int, limit: int = 8) -> str:
    """Class names elided to fit a narrow column; the tooltips carry the full names."""
    name = class_name(names, index)
    return name if len(name) <= limit else name[: limit - 1] + "…"


CONCENTRATION_TIP = (
    "How concentrated this model's attribution is on the object, over all evaluated "
    "examples (digits: the share of |attribution| on the digit's pixels, grey level > 0.2; "
    "other images: alignment with the image's edges). A uniform map scores the 'uniform' "
    "level. Robust models tend to score higher (Tsipras et al.); it is no proof of safety."
)

# Beside a share the core marks with a method note (concentration.BASELINE_NOTE): Integrated
# Gradients from a black baseline scored on a digit mask. Black pixels get zero attribution
# by construction, so every model scores near 100 % (the demo's three: 96-99 %).
# Short (a column is narrow); the tooltip carries the core's whole note.
BASELINE_CAVEAT = "⚠ says little: IG from black gives black pixels zero"


def eps_text(eps: float) -> str:
    """ "ε = 8/255" that never wraps inside."""
    return f"ε{NBSP}={NBSP}{format_eps(eps)}"


FLOAT16_SLACK = 1e-3  # images are stored as float16: δ is known to about this much


def measured_eps(value: float, grid: tuple[float, ...]) -> float:
    """A measured ε-like size (max |δ|, ‖δ‖₂) snapped to the grid ε it equals within float16
    rounding, so that it reads as the grid does: "max |δ| = 0.125" beside "breaking ε = 0.125",
    not 0.12 (two digits) beside 0.125."""
    near = [e for e in grid if e > 0 and abs(value - e) <= FLOAT16_SLACK]
    return min(near, key=lambda e: abs(value - e)) if near else value


def eps_size(label: str, value: float, grid: tuple[float, ...]) -> str:
    """ "max |δ| = 0.125": an ε-like number through `format_eps`, like every ε shown."""
    return f"{label}{NBSP}={NBSP}{format_eps(measured_eps(value, grid))}"


def adversarial_note(sweep: ModelSweep, position: int, eps: float) -> str:
    """Where the shown point comes from (a flip found at a smaller ε is kept at larger ε)."""
    if not sweep.clean_correct[position]:
        return "not attacked"
    broken = float(sweep.breaking_eps[position])
    if eps == 0:
        return "clean input"
    if math.isnan(broken) or broken > eps:
        return "no flip found"
    if broken < eps:
        return "found earlier"
    return "flips here"


def breaking_text(eps: tuple[float, ...], sweep: ModelSweep, position: int) -> str:
    """One short line (columns are narrow); the tooltip says what it means."""
    if not sweep.clean_correct[position]:
        return "wrong without attack"
    broken = float(sweep.breaking_eps[position])
    if not math.isnan(broken):
        return f"breaking {eps_text(broken)}"
    if sweep.eps_done == 0:
        return "not attacked yet"
    so_far = " so far" if sweep.partial else ""
    return f"no flip up to {eps_text(eps[sweep.eps_done - 1])}{so_far}"


def prediction_text(names: tuple[str, ...], pred: int, conf: float, label: int) -> str:
    mark = "✓" if pred == label else "✗"
    return f"<b>{short_name(names, pred)}</b> {mark}{NBSP}{conf:.0%}"
