"""The report's two figures, drawn as vector paths with QPainter (sharp at any zoom).

Tradeoff: clean accuracy, robust accuracy (an upper bound) and boundary-error rate over ε;
colour = model (Okabe–Ito, as in the window), dash = metric, and the certified accuracy (a
lower bound) dash-dotted where exact. The axes, legends and markers here are shared with
the frontier (frontier.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath

from inspector.core.threat import format_eps
from inspector.render.palette import METRIC_LABELS, model_color
from inspector.render.pdf.page import FAINT, INK, MUTED, RULE, Context, draw_text, font, mm, pen
from inspector.reporting.data import ModelSummary

RATE_TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
RATE_RANGE = (-0.02, 1.04)
METRIC_PENS = {  # (width in mm, style)
    "robust": (0.55, Qt.PenStyle.SolidLine),
    "clean": (0.4, Qt.PenStyle.DashLine),
    "boundary": (0.5, Qt.PenStyle.DotLine),
    "certified": (0.4, Qt.PenStyle.DashDotLine),
}
CERTIFIED_LABEL = "certified accuracy (lower bound)"
MARKER_MM = 0.75
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CENTER = Qt.AlignmentFlag.AlignCenter


@dataclass(frozen=True)
class Axes:
    """Maps data to device coordinates inside the plot rectangle."""

    rect: QRectF
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def x(self, value: float) -> float:
        lo, hi = self.x_range
        return self.rect.left() + (value - lo) / (hi - lo) * self.rect.width()

    def y(self, value: float) -> float:
        lo, hi = self.y_range
        return self.rect.bottom() - (value - lo) / (hi - lo) * self.rect.height()

    def point(self, x: float, y: float) -> QPointF:
        return QPointF(self.x(x), self.y(y))


def _eps_ticks(ctx: Context, grid: tuple[float, ...], axes: Axes) -> list[float]:
    """Grid points whose labels do not collide; the largest ε is always labelled."""
    fm = ctx.metrics(font("axis"))
    gap = max(fm.horizontalAdvance(format_eps(e)) for e in grid) + mm(2.5)
    shown: list[float] = []
    for e in grid:
        if not shown or axes.x(e) - axes.x(shown[-1]) >= gap:
            shown.append(e)
        elif e == grid[-1]:
            shown[-1] = e
    return shown


def frame(ctx: Context, painter: QPainter, axes: Axes, xticks, yticks, xlabel, ylabel) -> None:
    """Grid lines, axes, tick labels and axis titles."""
    r, axis_font = axes.rect, font("axis")
    line_h = ctx.metrics(axis_font).height()
    painter.setPen(pen(FAINT, 0.15))
    for v in yticks:
        painter.drawLine(QPointF(r.left(), axes.y(v)), QPointF(r.right(), axes.y(v)))
    for v, _ in xticks:
        painter.drawLine(QPointF(axes.x(v), r.top()), QPointF(axes.x(v), r.bottom()))
    painter.setPen(pen(RULE, 0.25))
    painter.drawLine(r.bottomLeft(), r.bottomRight())
    painter.drawLine(r.bottomLeft(), r.topLeft())
    for v in yticks:
        y = axes.y(v)
        painter.setPen(pen(RULE, 0.25))
        painter.drawLine(QPointF(r.left() - mm(1.0), y), QPointF(r.left(), y))
        box = QRectF(r.left() - mm(12), y - line_h / 2, mm(10.5), line_h)
        draw_text(painter, box, f"{v:g}", axis_font, INK, RIGHT)
    for v, label in xticks:
        x = axes.x(v)
        painter.setPen(pen(RULE, 0.25))
        painter.drawLine(QPointF(x, r.bottom()), QPointF(x, r.bottom() + mm(1.0)))
        if label:
            box = QRectF(x - mm(10), r.bottom() + mm(1.3), mm(20), line_h)
            draw_text(painter, box, label, axis_font, INK, CENTER)
    title = QRectF(r.left(), r.bottom() + mm(1.6) + line_h, r.width(), line_h)
    draw_text(painter, title, xlabel, axis_font, MUTED, CENTER)
    painter.save()
    painter.translate(r.left() - mm(14.5), r.center().y())
    painter.rotate(-90)
    draw_text(
        painter,
        QRectF(-r.height() / 2, -line_h, r.height(), line_h),
        ylabel,
        axis_font,
        MUTED,
        CENTER,
    )
    painter.restore()


LegendItem = tuple[Callable[[QPainter, QPointF], None], str]


def _line_sample(
    color: QColor, metric: str, with_marker: bool
) -> Callable[[QPainter, QPointF], None]:
    width, style = METRIC_PENS[metric]

    def draw(painter: QPainter, at: QPointF) -> None:
        painter.setPen(pen(color, width, style))
        painter.drawLine(at, QPointF(at.x() + mm(8), at.y()))
        if with_marker:
            marker(painter, QPointF(at.x() + mm(4), at.y()), color)

    return draw


def marker(painter: QPainter, at: QPointF, color: QColor, radius_mm: float = MARKER_MM) -> None:
    painter.setPen(pen(QColor("white"), 0.15))
    painter.setBrush(color)
    painter.drawEllipse(at, mm(radius_mm), mm(radius_mm))
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _item_width(ctx: Context, label: str) -> float:
    return mm(10) + ctx.metrics(font("axis")).horizontalAdvance(label) + mm(5)


def legend_rows(
    ctx: Context, groups: list[list[LegendItem]], width: float
) -> list[list[LegendItem]]:
    """Each group (metrics, models) on its own rows, as many items per row as fit."""
    rows: list[list[LegendItem]] = []
    for group in groups:
        row: list[LegendItem] = []
        for item in group:
            used = sum(_item_width(ctx, label) for _, label in row)
            if row and used + _item_width(ctx, item[1]) > width:
                rows.append(row)
                row = []
            row.append(item)
        if row:
            rows.append(row)
    return rows


def legend_height(ctx: Context, rows: list[list[LegendItem]]) -> float:
    return len(rows) * (ctx.metrics(font("axis")).height() + mm(1.2))


def legend(ctx: Context, painter: QPainter, rect: QRectF, rows: list[list[LegendItem]]) -> None:
    """Rows of samples and labels, each row centred under the plot."""
    f = font("axis")
    line_h = ctx.metrics(f).height()
    y = rect.top()
    for items in rows:
        widths = [_item_width(ctx, label) for _, label in items]
        x = rect.center().x() - (sum(widths) - mm(5)) / 2
        for (sample, label), w in zip(items, widths, strict=True):
            sample(painter, QPointF(x, y + line_h / 2))
            draw_text(painter, QRectF(x + mm(10), y, w, line_h), label, f, INK, LEFT)
            x += w
        y += line_h + mm(1.2)


def polyline(points: list[QPointF]) -> QPainterPath:
    path = QPainterPath()
    for i, p in enumerate(points):
        if i == 0:
            path.moveTo(p)
        else:
            path.lineTo(p)
    return path


def _eps_axes(rect: QRectF, grid: tuple[float, ...]) -> Axes:
    top = max(grid) if max(grid) > 0 else 1 / 255
    return Axes(rect, (-0.02 * top, top * 1.03), RATE_RANGE)


def tradeoff_legend(models: list[ModelSummary]) -> list[list[LegendItem]]:
    """Two groups: line style = metric (neutral ink), colour = model."""
    neutral = QColor(INK)
    metrics = [
        (_line_sample(neutral, "robust", True), METRIC_LABELS["robust"]),
        (_line_sample(neutral, "clean", False), METRIC_LABELS["clean"]),
        (_line_sample(neutral, "boundary", False), METRIC_LABELS["boundary"]),
    ]
    if any(m.has_certified for m in models):
        metrics.append((_line_sample(neutral, "certified", False), CERTIFIED_LABEL))
    names = [(_line_sample(QColor(model_color(m.index)), "robust", True), m.name) for m in models]
    return [metrics, names]


def draw_tradeoff(
    ctx: Context, painter: QPainter, rect: QRectF, models: list[ModelSummary], grid, marked: float
) -> None:
    """Every model's curves over the computed ε grid, a marker at the report's ε (its label
    above the frame, where no curve runs)."""
    rows = legend_rows(ctx, tradeoff_legend(models), rect.width())
    line_h = ctx.metrics(font("axis")).height()
    top = mm(2) + ctx.metrics(font("caption")).height()
    plot = QRectF(
        rect.left() + mm(17),
        rect.top() + top,
        rect.width() - mm(21),
        rect.height() - top - mm(2) - 2 * line_h - mm(3) - legend_height(ctx, rows),
    )
    axes = _eps_axes(plot, grid)
    xticks = [(e, format_eps(e) if e in _eps_ticks(ctx, grid, axes) else "") for e in grid]
    frame(ctx, painter, axes, xticks, RATE_TICKS, "ε (pixel units, [0, 1] images)", "rate")
    _marker_line(ctx, painter, axes, marked)
    painter.save()
    painter.setClipRect(plot.adjusted(-mm(1.5), -mm(1.5), mm(1.5), mm(1.5)))
    for m in models:
        _model_curves(painter, axes, m, grid)
    painter.restore()
    legend_top = plot.bottom() + mm(3) + 2 * line_h + mm(1.5)
    legend(ctx, painter, QRectF(rect.left(), legend_top, rect.width(), 0), rows)


def _marker_line(ctx: Context, painter: QPainter, axes: Axes, eps: float) -> None:
    x, r = axes.x(eps), axes.rect
    painter.setPen(pen(MUTED, 0.25, Qt.PenStyle.DashLine))
    painter.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
    f = font("caption")
    label = f"report ε = {format_eps(eps)}"
    w = ctx.metrics(f).horizontalAdvance(label) + mm(2)
    h = ctx.metrics(f).height()
    box = QRectF(x - w / 2, r.top() - h - mm(0.3), w, h)
    draw_text(painter, box, label, f, MUTED, CENTER)


def _model_curves(painter: QPainter, axes: Axes, m: ModelSummary, grid) -> None:
    color = QColor(model_color(m.index))
    xs = [r.eps for r in m.rows]
    series = {
        "clean": [(grid[0], m.clean_accuracy), (grid[-1], m.clean_accuracy)],
        "boundary": [(e, r.boundary_error_rate) for e, r in zip(xs, m.rows, strict=True)],
        "certified": [
            (r.eps, r.certified_accuracy) for r in m.rows if r.certified_accuracy is not None
        ],
        "robust": [(e, r.robust_accuracy) for e, r in zip(xs, m.rows, strict=True)],
    }
    for metric, points in series.items():
        if len(points) < 1:
            continue
        width, style = METRIC_PENS[metric]
        painter.setPen(pen(color, width, style))
        painter.drawPath(polyline([axes.point(x, y) for x, y in points]))
    for x, y in series["robust"]:
        marker(painter, axes.point(x, y), color)
