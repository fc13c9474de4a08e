"""The frontier's axes, zoomed to its data: shared by the report's figure and the window's plot.

Clean accuracies often sit within a few points of each other; a 0-1 axis squashes them into a
line. Both front ends zoom with these functions (Qt-free), so window and report agree.
"""

from __future__ import annotations

import math

MIN_SPAN = 0.04  # the least range an axis shows (4 accuracy points)
MARGIN = 0.08  # of the span, on each side of the data
LIMITS = (-0.02, 1.02)


def zoomed(values: list[float], min_span: float = MIN_SPAN) -> tuple[float, float]:
    """An axis range holding every value, at least `min_span` wide, with margins, in LIMITS."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    span = max(hi - lo, min_span)
    centre = (lo + hi) / 2
    lo, hi = centre - span / 2 - MARGIN * span, centre + span / 2 + MARGIN * span
    if lo < LIMITS[0]:
        lo, hi = LIMITS[0], min(LIMITS[1], hi + LIMITS[0] - lo)
    if hi > LIMITS[1]:
        lo, hi = max(LIMITS[0], lo - (hi - LIMITS[1])), LIMITS[1]
    return lo, hi


def nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    """Round tick values inside [lo, hi] (steps of 1, 2, 2.5 or 5 × 10^k), about `target`."""
    raw = (hi - lo) / max(target - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = [round(k * step, 10) for k in range(first, math.floor(hi / step + 1e-9) + 1)]
    return [t for t in ticks if lo - 1e-12 <= t <= hi + 1e-12 and 0 <= t <= 1]


def diagonal_segment(x_range, y_range) -> tuple[float, float] | None:
    """The part of robust = clean inside both ranges, as (from, to), or None."""
    lo, hi = max(x_range[0], y_range[0]), min(x_range[1], y_range[1])
    return (lo, hi) if hi > lo else None
