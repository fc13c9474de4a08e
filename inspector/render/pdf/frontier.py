"""The frontier figure: clean (up) against robust accuracy (right) at the report's ε.

The axes are zoomed to the data with margins (clean accuracies often sit within a few
points of each other, which a 0-1 axis would squash into a line), the diagonal
robust = clean is drawn where it falls in range, and each model's point is labelled by
name beside it at a place where the label covers no marker and no other label.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QPainter

from inspector.core.threat import format_eps
from inspector.render.palette import model_color
from inspector.render.pdf.page import INK, MUTED, RULE, Context, draw_text, font, mm, pen
from inspector.render.pdf.plots import (
    Axes,
    LegendItem,
    frame,
    legend,
    legend_height,
    legend_rows,
    marker,
    polyline,
)
from inspector.reporting.data import ModelSummary, format_rate
from inspector.reporting.frontier_axes import (  # shared with the window's frontier
    diagonal_segment,
    nice_ticks,
    zoomed,
)

POINT_MM = 1.1  # the main marker's radius
PATH_MM = 0.45  # the faint path's circles
LABEL_GAP_MM = 1.2


def place_labels(
    anchors: list[QPointF], sizes: list[QSizeF], obstacles: list[QRectF], bounds: QRectF
) -> list[QRectF]:
    """A rectangle per label beside its anchor that overlaps no obstacle (the markers) and no
    label placed before it, inside `bounds`; the first free of eight places, else the least
    overlapping one."""
    placed: list[QRectF] = []
    gap = mm(LABEL_GAP_MM) + mm(POINT_MM)
    for at, size in zip(anchors, sizes, strict=True):
        w, h = size.width(), size.height()
        candidates = [
            QRectF(at.x() - w / 2, at.y() - gap - h, w, h),  # above
            QRectF(at.x() - w / 2, at.y() + gap, w, h),  # below
            QRectF(at.x() + gap * 0.7, at.y() - gap - h, w, h),  # above right
            QRectF(at.x() + gap * 0.7, at.y() + gap, w, h),  # below right
            QRectF(at.x() - gap * 0.7 - w, at.y() - gap - h, w, h),  # above left
            QRectF(at.x() - gap * 0.7 - w, at.y() + gap, w, h),  # below left
            QRectF(at.x() + gap, at.y() - h / 2, w, h),  # right
            QRectF(at.x() - gap - w, at.y() - h / 2, w, h),  # left
        ]

        def cost(r: QRectF) -> float:
            hits = sum(_area(r.intersected(o)) for o in obstacles + placed)
            outside = _area(r) - _area(r.intersected(bounds))
            return hits + outside

        placed.append(min(candidates, key=cost))  # min keeps the first of equal costs
    return placed


def _area(r: QRectF) -> float:
    return max(r.width(), 0.0) * max(r.height(), 0.0) if r.isValid() else 0.0


def frontier_legend(models: list[ModelSummary]) -> list[list[LegendItem]]:
    def dot(color: QColor):
        return lambda painter, at: marker(painter, QPointF(at.x() + mm(4), at.y()), color, POINT_MM)

    return [[(dot(QColor(model_color(m.index))), m.name) for m in models]]


def frontier_ranges(models: list[ModelSummary]) -> tuple[tuple[float, float], tuple[float, float]]:
    """x: every robust accuracy on the grid (the paths); y: the clean accuracies."""
    xs = [r.robust_accuracy for m in models for r in m.rows] + [m.clean_accuracy for m in models]
    return zoomed(xs), zoomed([m.clean_accuracy for m in models])


def draw_frontier(
    ctx: Context, painter: QPainter, rect: QRectF, models: list[ModelSummary], eps: float
) -> None:
    """Clean (up) against robust accuracy (right) at ε; faint paths over the grid."""
    rows = legend_rows(ctx, frontier_legend(models), rect.width())
    line_h = ctx.metrics(font("axis")).height()
    plot = QRectF(
        rect.left() + mm(19),
        rect.top() + mm(2),
        rect.width() - mm(23),
        rect.height() - mm(4) - 2 * line_h - mm(3) - legend_height(ctx, rows),
    )
    x_range, y_range = frontier_ranges(models)
    axes = Axes(plot, x_range, y_range)
    xticks = [(v, f"{v:g}") for v in nice_ticks(*x_range)]
    xlabel = f"robust accuracy at ε = {format_eps(eps)} (upper bound)"
    frame(ctx, painter, axes, xticks, nice_ticks(*y_range), xlabel, "clean accuracy")
    painter.save()
    painter.setClipRect(plot)
    _diagonal(ctx, painter, axes)
    for m in models:
        _path(painter, axes, m)
    painter.restore()
    _points(ctx, painter, axes, models, eps)
    top = plot.bottom() + mm(3) + 2 * line_h + mm(1.5)
    legend(ctx, painter, QRectF(rect.left(), top, rect.width(), 0), rows)


def _diagonal(ctx: Context, painter: QPainter, axes: Axes) -> None:
    """robust = clean where in range, named along the line when the visible part is long."""
    segment = diagonal_segment(axes.x_range, axes.y_range)
    if segment is None:
        return
    a, b = axes.point(segment[0], segment[0]), axes.point(segment[1], segment[1])
    painter.setPen(pen(RULE, 0.3, Qt.PenStyle.DashLine))
    painter.drawLine(a, b)
    f, text = font("caption"), "robust = clean"
    fm = ctx.metrics(f)
    length = math.hypot(b.x() - a.x(), b.y() - a.y())
    if length < fm.horizontalAdvance(text) + mm(6):
        return
    painter.save()
    painter.translate((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)
    painter.rotate(math.degrees(math.atan2(b.y() - a.y(), b.x() - a.x())))
    box = QRectF(
        -fm.horizontalAdvance(text) / 2 - mm(0.6),
        -fm.height() - mm(0.6),
        fm.horizontalAdvance(text) + mm(1.2),
        fm.height(),
    )
    painter.fillRect(box, QColor("white"))
    draw_text(painter, box, text, f, MUTED, Qt.AlignmentFlag.AlignCenter)
    painter.restore()


def _path(painter: QPainter, axes: Axes, m: ModelSummary) -> None:
    faint = QColor(model_color(m.index))
    faint.setAlpha(110)
    path = [axes.point(r.robust_accuracy, m.clean_accuracy) for r in m.rows]
    painter.setPen(pen(faint, 0.3))
    painter.drawPath(polyline(path))
    painter.setPen(pen(faint, 0.25))
    for p in path:
        painter.drawEllipse(p, mm(PATH_MM), mm(PATH_MM))


def label_text(m: ModelSummary, robust: float) -> str:
    return f"{m.name} ({format_rate(robust)})"


def _points(ctx: Context, painter: QPainter, axes: Axes, models, eps: float) -> None:
    """Each model's point at ε, and its label where it hides no marker."""
    shown = [(m, m.row_at(eps)) for m in models]
    shown = [(m, r) for m, r in shown if r is not None]
    anchors = [axes.point(r.robust_accuracy, m.clean_accuracy) for m, r in shown]
    radius = mm(POINT_MM)
    obstacles = [QRectF(a.x() - radius, a.y() - radius, 2 * radius, 2 * radius) for a in anchors]
    f = font("caption")
    fm = ctx.metrics(f)
    texts = [label_text(m, r.robust_accuracy) for m, r in shown]
    sizes = [QSizeF(fm.horizontalAdvance(t) + mm(1.0), fm.height()) for t in texts]
    boxes = place_labels(anchors, sizes, obstacles, axes.rect)
    for (m, _), at, box, text in zip(shown, anchors, boxes, texts, strict=True):
        marker(painter, at, QColor(model_color(m.index)), POINT_MM)
        draw_text(painter, box, text, f, INK, Qt.AlignmentFlag.AlignCenter)
