"""What the tradeoff plot says under the mouse, and which ε a click on it means.

Read from the `ResultsView`, never from the drawn curves, so a read-out is the model's
rate itself: the same number as the table, the headline and the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.gui.plots.base import CERTIFIED_LABEL
from inspector.render.palette import METRIC_LABELS

HOVER_RADIUS_PX = 14.0  # a curve point nearer than this to the mouse is read out
CurveKey = tuple[int, str]  # (model index, metric)


@dataclass(frozen=True)
class Reading:
    """One point of one curve: model, metric, ε and the rate there."""

    model: int
    metric: str
    eps: float
    value: float


def curve_points(view: ResultsView, i: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """The points a curve passes through: computed grid ε values (clean: every grid ε, as the
    flat line spans the grid; certified: its own ε values)."""
    grid = np.asarray(view.eps, dtype=float)
    done = min(view.eps_done(i), len(grid))
    if metric == "clean":
        sweep = view.sweep(i)
        if sweep is None:
            return np.empty(0), np.empty(0)
        return grid, np.full(len(grid), float(sweep.clean_accuracy))
    if metric == "certified":
        certified = view.certified(i)
        if certified is None:
            return np.empty(0), np.empty(0)
        return np.asarray(certified[0], dtype=float), np.asarray(certified[1], dtype=float)
    rates = [view.rates(i, k) for k in range(done)]
    attr = "robust_accuracy" if metric == "robust" else "boundary_error_rate"
    return grid[:done], np.array([getattr(r, attr) for r in rates], dtype=float)


def nearest_reading(
    view: ResultsView,
    x: float,
    y: float,
    pixel: tuple[float, float],
    shown: list[CurveKey],
    radius_px: float = HOVER_RADIUS_PX,
) -> Reading | None:
    """The curve point nearest to (x, y) in screen pixels among the `shown` curves, if it
    lies within `radius_px`; `pixel` is the data size of one pixel (x, y)."""
    px, py = (max(abs(p), 1e-12) for p in pixel)
    best: tuple[float, Reading] | None = None
    for i, metric in shown:
        xs, ys = curve_points(view, i, metric)
        if not len(xs):
            continue
        d = np.hypot((xs - x) / px, (ys - y) / py)
        j = int(np.argmin(d))
        if d[j] <= radius_px and (best is None or d[j] < best[0]):
            best = (float(d[j]), Reading(i, metric, float(xs[j]), float(ys[j])))
    return None if best is None else best[1]


def reading_text(view: ResultsView, reading: Reading) -> str:
    """ "digits_pgd · robust accuracy (upper bound) · ε = 0.1 · 82.5%" on three lines."""
    metric = CERTIFIED_LABEL if reading.metric == "certified" else METRIC_LABELS[reading.metric]
    name = view.models[reading.model].info.name
    return f"{name}\n{metric}\nε = {format_eps(reading.eps)}: {reading.value:.1%}"


def nearest_grid_index(grid: tuple[float, ...], x: float) -> int:
    """The grid point nearest to ε = x (a click between two points goes to the closer)."""
    if not grid:
        return 0
    distances = [abs(e - x) if math.isfinite(x) else 0.0 for e in grid]
    return int(np.argmin(distances))
