"""Clean vs robust accuracy at the current ε: one point (and one name) per model."""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from inspector.core.session import EpsCursor
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.gui.colors import model_line_color
from inspector.gui.plots.base import (
    FRONTIER_TIP,
    LABEL_SPOTS,
    RATE_RANGE,
    THREAT_FONT_PT,
    PlotPanel,
    Rect,
    overlaps_any,
    set_label,
)
from inspector.reporting.frontier_axes import diagonal_segment, nice_ticks, zoomed

Range = tuple[float, float]


class FrontierPlot(PlotPanel):
    """Clean against robust accuracy at the current ε: one labelled point per model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("frontierPlot", FRONTIER_TIP, parent)
        plot = self.plot_item
        plot.setLabel("bottom", "robust accuracy at ε (upper bound)")
        plot.setLabel("left", "clean accuracy")
        for name in ("left", "bottom"):  # zoomed ticks (0.96, 0.97) must not turn into "×0.001"
            plot.getAxis(name).enableAutoSIPrefix(False)
        self.ranges: tuple[Range, Range] = (RATE_RANGE, RATE_RANGE)  # x (robust), y (clean)
        self._ticks: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
        self.impossible = pg.PlotDataItem([0.0, 1.0], [0.0, 1.0], fillLevel=0.0, antialias=True)
        self.impossible.setZValue(-10)
        plot.addItem(self.impossible)
        self.diagonal_note = pg.TextItem(
            "robust ≤ clean: no model can fall below the diagonal", anchor=(1, 1)
        )
        note_font = QFont(self.font())
        note_font.setPointSizeF(THREAT_FONT_PT)
        self.diagonal_note.setFont(note_font)
        plot.addItem(self.diagonal_note)
        self._zoom(RATE_RANGE, RATE_RANGE)
        self.points: dict[int, pg.ScatterPlotItem] = {}
        self.labels: dict[int, pg.TextItem] = {}
        self.leaders: dict[int, pg.PlotCurveItem] = {}
        plot.getViewBox().sigResized.connect(self._view_resized)
        self._built = True
        self.apply_palette()
        self._set_title()

    def set_view(self, view: ResultsView | None) -> None:
        """Show another evaluation (or nothing): one point and one name per model."""
        self.view = view
        for item in (*self.points.values(), *self.labels.values(), *self.leaders.values()):
            self.plot_item.removeItem(item)
        self.points.clear()
        self.labels.clear()
        self.leaders.clear()
        for i, entry in enumerate(view.models if view is not None else []):
            self.points[i] = pg.ScatterPlotItem(
                size=13, brush=model_line_color(self, i), hoverable=False
            )
            self.labels[i] = pg.TextItem(entry.info.name, anchor=(0, 0.5))
            self.leaders[i] = pg.PlotCurveItem(antialias=True)  # point → displaced name
            self.points[i].setZValue(2)
            for item in (self.points[i], self.labels[i], self.leaders[i]):
                self.plot_item.addItem(item)
        self._restyle()
        self.set_threat_text(view.threat.describe() if view is not None else "")
        self.set_eps_index(self.eps_index if view is not None else 0)

    def refresh(self) -> None:
        """Re-read the rates at the current ε (more models may have reached it)."""
        if self.view is not None and len(self.view.models) != len(self.points):
            self.set_view(self.view)
        else:
            self.set_eps_index(self.eps_index)

    def show_cursor(self, cursor: EpsCursor) -> None:
        """The session's ε moved: the points at ε itself (fine steps) or at the grid point."""
        self.eps_value = cursor.value if cursor.fine else None
        self.set_eps_index(cursor.index)

    def set_eps_value(self, eps: float | None) -> None:
        """Place the points at any ε from the examples' radii (FMN); None: at the grid."""
        self.eps_value = eps
        self.set_eps_index(self.eps_index)

    def set_eps_index(self, k: int) -> None:
        """Move the points to grid point k; models without results there are hidden."""
        view = self.view
        if view is not None:
            k = min(max(k, 0), len(view.eps) - 1)
        self.eps_index = k
        self._set_title()
        if view is None:
            return
        shown: list[int] = []
        xs: list[float] = []
        ys: list[float] = []
        for i, point in self.points.items():
            rates = view.rates(i, k)
            if self.eps_value is not None:
                rates = view.rates_between(i, self.eps_value) or rates
            point.setVisible(rates is not None)
            self.labels[i].setVisible(rates is not None)
            self.leaders[i].setVisible(False)
            if rates is None:
                continue
            shown.append(i)
            x, y = rates.robust_accuracy, rates.clean_accuracy
            point.setData([x], [y])
            xs.append(x)
            ys.append(y)
            point.setToolTip(
                f"{html.escape(view.models[i].info.name)}<br>clean accuracy {y:.1%}<br>"
                f"robust accuracy {x:.1%} (upper bound)<br>"
                f"boundary-error rate {rates.boundary_error_rate:.1%}"
            )
        if xs:
            self._zoom(zoomed(xs), zoomed(ys))
        self._place_labels(shown)

    def _zoom(self, x_range: Range, y_range: Range) -> None:
        """Both axes zoomed to the points with margins (the report's rule, `zoomed`), round
        ticks and grid lines at them; the diagonal's note only where the diagonal shows."""
        plot = self.plot_item
        self.ranges = (x_range, y_range)
        plot.setXRange(*x_range, padding=0)
        plot.setYRange(*y_range, padding=0)
        ticks = (tuple(nice_ticks(*x_range)), tuple(nice_ticks(*y_range)))
        if ticks != self._ticks:
            self._ticks = ticks
            for name, values in (("bottom", ticks[0]), ("left", ticks[1])):
                plot.getAxis(name).setTicks([[(v, f"{v:g}") for v in values]])
            self.set_grid(*ticks)
        segment = diagonal_segment(x_range, y_range)
        self.diagonal_note.setVisible(segment is not None)
        if segment is not None:  # below the diagonal, in the view's bottom-right corner
            inset = 0.01 * (x_range[1] - x_range[0])
            self.diagonal_note.setPos(x_range[1] - inset, y_range[0] + inset)

    def _in_view(self, rect: Rect) -> bool:
        (x0, x1), (y0, y1) = self.ranges
        return rect[0] >= x0 and rect[2] <= x1 and rect[1] >= y0 and rect[3] <= y1

    def _place_labels(self, shown: list[int]) -> None:
        """Put each name beside its point where it covers no other point or name."""
        px, py = self._pixel_size()
        spots = {
            i: (float(self.points[i].getData()[0][0]), float(self.points[i].getData()[1][0]))
            for i in shown
        }
        taken = [(x - 8 * px, y - 8 * py, x + 8 * px, y + 8 * py) for x, y in spots.values()]
        for i in sorted(shown, key=lambda j: -spots[j][1]):  # top first: reading order
            x, y = spots[i]
            box = self.labels[i].textItem.boundingRect()
            w, h, gap = box.width() * px, box.height() * py, 10 * px
            candidates = []
            for side, shift in LABEL_SPOTS:
                left = x + gap if side > 0 else x - gap - w
                rect = (left, y + (shift - 0.5) * h, left + w, y + (shift + 0.5) * h)
                candidates.append((side, shift, rect))
            free = [c for c in candidates if self._in_view(c[2]) and not overlaps_any(c[2], taken)]
            side, shift, rect = free[0] if free else candidates[0]
            taken.append(rect)
            self.labels[i].setAnchor((0.0 if side > 0 else 1.0, 0.5))
            self.labels[i].setPos(x + gap * side, y + shift * h)
            if shift:  # a name off its point's row gets a thin line to the point
                self.leaders[i].setData([x, x + gap * side], [y, y + shift * h])
                self.leaders[i].setVisible(True)

    def _pixel_size(self) -> tuple[float, float]:
        """Data units per screen pixel; a guess (400×300 px view) before the first layout."""
        box = self.plot_item.getViewBox()
        if box.width() < 10 or box.height() < 10:
            (x0, x1), (y0, y1) = self.ranges
            return (x1 - x0) / 400, (y1 - y0) / 300
        return box.viewPixelSize()

    def _view_resized(self) -> None:
        if self.view is not None:
            self.set_eps_index(self.eps_index)  # the labels' spacing is in pixels

    def _set_title(self) -> None:
        eps = "…"
        if self.view is not None:
            eps = format_eps(
                self.view.eps[self.eps_index] if self.eps_value is None else self.eps_value
            )
        set_label(self.title_label, f"Clean vs robust accuracy at ε = {eps}")

    def _restyle(self) -> None:
        text = self.text_color()
        self.impossible.setPen(pg.mkPen(self.faint_color(110), width=1, style=Qt.PenStyle.DashLine))
        self.impossible.setFillBrush(pg.mkBrush(self.faint_color(18)))
        self.diagonal_note.setColor(self.faint_color(170))
        for i, point in self.points.items():
            point.setPen(pg.mkPen(text, width=1))
            point.setBrush(pg.mkBrush(model_line_color(self, i)))
        for label in self.labels.values():
            label.setColor(text)
        for leader in self.leaders.values():
            leader.setPen(pg.mkPen(self.faint_color(150), width=1))
