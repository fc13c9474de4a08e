"""Colours with one meaning each, used with text labels, never alone.

- Model identity: Okabe & Ito (2008), colour-blind safe, one per model in order.
- Example status (robust, boundary error, natural error): a neutral grey scale plus a glyph
  and the word, so no status reads as a model.
- Signed maps (saliency, the perturbation δ): a green/magenta diverging map (ColorBrewer
  PiYG, `SIGNED_ANCHORS`, defined beside the colormap in the core), neither end a model
  colour.
- On a dark background colours are lightened until text reaches WCAG AA (4.5:1).
"""

from __future__ import annotations

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.saliency.display import SIGNED_ANCHORS

# One colour per model, in order: blue, orange, bluish green, vermillion, sky blue, purple, yellow.
MODEL_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442")

# Status: light to dark grey by severity; the glyph and word carry the meaning.
STATUS_COLORS = {ROBUST: "#D9D9D9", BOUNDARY_ERROR: "#4D4D4D", NATURAL_ERROR: "#8C8C8C"}
STATUS_GLYPHS = {ROBUST: "✓", BOUNDARY_ERROR: "✗", NATURAL_ERROR: "•"}
STATUS_LABELS = {ROBUST: "robust", BOUNDARY_ERROR: "boundary error", NATURAL_ERROR: "natural error"}

CHECK_COLORS = {  # sanity checks: shown with their verdict word
    "passed": "#009E73",
    "warning": "#D55E00",
    "not informative": "#0072B2",
    "skipped": "#808080",
}

# Metric line styles on the tradeoff plot (colour = model, dash = metric).
METRIC_LABELS = {
    "clean": "clean accuracy",
    "robust": "robust accuracy (upper bound)",
    "boundary": "boundary-error rate",
}

# Signed maps as colours: negative (lowers the logit, darker pixel), middle, positive.
SIGNED_NEGATIVE, SIGNED_MIDDLE, SIGNED_POSITIVE = (
    "#" + "".join(f"{int(c):02X}" for c in anchor) for anchor in SIGNED_ANCHORS
)

TEXT_CONTRAST = 4.5  # WCAG 2.x AA for normal text
GRAPHIC_CONTRAST = 3.0  # WCAG 2.1 non-text contrast (lines, markers)


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 255.0)):02X}" for c in rgb)


def relative_luminance(color: str) -> float:
    """WCAG's relative luminance of an sRGB colour ("#RRGGBB")."""

    def linear(channel: int) -> float:
        c = channel / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1 (same) to 21 (black on white)."""
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(color: str, background: str, ratio: float = TEXT_CONTRAST) -> str:
    """`color`, mixed toward white (dark background) or black (light) just enough for `ratio`.

    The hue stays, so a model keeps its identity in both palettes.
    """
    if contrast_ratio(color, background) >= ratio:
        return color
    toward = 255.0 if relative_luminance(background) < 0.5 else 0.0
    base = _rgb(color)
    for step in range(1, 101):
        t = step / 100.0
        mixed = _hex(tuple(c + (toward - c) * t for c in base))
        if contrast_ratio(mixed, background) >= ratio:
            return mixed
    return _hex((toward,) * 3)


def model_color(index: int, background: str | None = None) -> str:
    """The model's colour; with a `background`, lightened or darkened to read as text on it."""
    color = MODEL_COLORS[index % len(MODEL_COLORS)]
    return color if background is None else readable_on(color, background)
