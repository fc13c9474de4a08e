"""Accuracy under attack over ε: clean, robust and boundary-error curves per model."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import QWidget

from inspector.core.checks.result import WARNING_MARK
from inspector.core.session import EpsCursor
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.gui.colors import model_line_color
from inspector.gui.plots.base import (
    CERTIFIED_LABEL,
    EPS_AXIS_LABEL,
    GRID_RATES,
    LEGEND_FONT,
    METRIC_STYLES,
    METRICS,
    RATE_RANGE,
    RATE_TICKS,
    TRADEOFF_TIP,
    PlotPanel,
    eps_ticks,
    set_label,
)
from inspector.gui.plots.readout import (
    CurveKey,
    nearest_grid_index,
    nearest_reading,
    reading_text,
)
from inspector.render.palette import METRIC_LABELS

INTERACT_TIP = (
    "<br><i>Hover a curve point to read its value; click or drag on the plot to set ε.</i>"
)


class TradeoffPlot(PlotPanel):
    """Clean accuracy, robust accuracy and boundary-error rate of every model over ε."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("tradeoffPlot", TRADEOFF_TIP + INTERACT_TIP, parent)
        set_label(self.title_label, "Accuracy under attack over ε")
        plot = self.plot_item
        plot.setLabel("bottom", EPS_AXIS_LABEL)
        plot.setLabel("left", "rate")
        plot.setYRange(*RATE_RANGE, padding=0)
        plot.getAxis("left").setTicks(RATE_TICKS)
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.curves: dict[tuple[int, str], pg.PlotDataItem] = {}
        self.marker = pg.InfiniteLine(
            pos=0.0, angle=90, movable=False, label="", labelOpts={"position": 0.96}
        )
        self.marker.setZValue(5)  # above the curves, so its ε label stays readable
        plot.addItem(self.marker, ignoreBounds=True)
        # Below the plot, not on it: a legend inside the view box always covers some curve.
        # Dash = metric, colour = model: one neutral sample per metric, one per model.
        self.metric_legend = self._add_legend(row=3)
        self.model_legend = self._add_legend(row=4)
        self._metric_keys: dict[pg.PlotDataItem, str] = {}
        self._model_keys: dict[pg.PlotDataItem, int] = {}
        for metric in METRICS:  # neutral samples, recoloured by _restyle
            proxy = pg.PlotDataItem([0.0], [0.0], antialias=True)
            self._metric_keys[proxy] = metric
            self.metric_legend.addItem(proxy, METRIC_LABELS[metric])
        self._add_readout()
        self._built = True
        self.apply_palette()

    # -- building -------------------------------------------------------------------------
    def set_view(self, view: ResultsView | None) -> None:
        """Show another evaluation (or nothing): rebuilds the per-model items once."""
        self.view = view
        self._build_models()
        self.set_threat_text(view.threat.describe() if view is not None else "")
        self._set_eps_range()
        self.refresh()
        self.set_eps_index(self.eps_index if view is not None else 0)

    def _build_models(self) -> None:
        """Curves and legend entries; the legend factors as 'colour = model, dash = metric'."""
        for curve in self.curves.values():
            self.plot_item.removeItem(curve)
        self.curves.clear()
        self.model_legend.clear()
        self._model_keys.clear()
        count = len(self.view.models) if self.view is not None else 0
        for i in range(count):
            for metric in (*METRICS, "certified"):
                curve = self._make_curve(i, metric)
                self.curves[(i, metric)] = curve
                self.plot_item.addItem(curve)
            proxy = self._make_curve(i, "robust")
            proxy.setData([0.0], [0.0])  # a symbol sample needs data to take its style
            self._model_keys[proxy] = i
            self.model_legend.addItem(proxy, self._legend_name(i))
        self._restyle()
        self._fit_legend()
        self._apply_visibility()

    def _add_legend(self, row: int) -> pg.LegendItem:
        """A legend below the plot, not on it: inside the view box it always covers a curve."""
        legend = pg.LegendItem(colCount=3, labelTextSize=LEGEND_FONT, horSpacing=14)
        legend.layout.setContentsMargins(4, 0, 4, 0)
        self.graphics.addItem(legend, row=row, col=0)
        self.graphics.ci.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter)
        legend.setToolTip(TRADEOFF_TIP + "<br>Click a sample to hide or show its curves.")
        legend.sigSampleClicked.connect(self._apply_visibility)
        return legend

    def _make_curve(self, i: int, metric: str) -> pg.PlotDataItem:
        if metric == "certified":  # a lower bound: hollow squares, to tell it from the attack
            curve = pg.PlotDataItem(symbol="s", symbolSize=6, symbolBrush=None, antialias=True)
        elif metric != "robust":
            curve = pg.PlotDataItem(antialias=True)
        else:
            curve = pg.PlotDataItem(symbol="o", symbolSize=7, antialias=True)
        self._color_curve(curve, i, metric)
        return curve

    def _color_curve(self, curve: pg.PlotDataItem, i: int, metric: str) -> None:
        """Model i's colour, at 3:1 on this palette's background (the first blue is too dark
        on the dark palette as it is); the dash says the metric."""
        color = model_line_color(self, i)
        width = 2.5 if metric == "robust" else 2.0
        curve.setPen(pg.mkPen(color, width=width, style=METRIC_STYLES[metric]))
        if metric in ("certified", "robust"):
            curve.setSymbolPen(color)
        if metric == "robust":
            curve.setSymbolBrush(color)

    def _set_eps_range(self) -> None:
        top = max(self.view.eps) if self.view is not None else 1.0
        top = top if top > 0 else 1 / 255
        self.plot_item.setXRange(-0.02 * top, top * 1.04, padding=0)
        self.plot_item.getAxis("bottom").setTicks(
            eps_ticks(self.view.eps, 0.09 * top) if self.view is not None else None
        )
        self.set_grid(self.view.eps if self.view is not None else (), GRID_RATES)

    # -- updating -------------------------------------------------------------------------
    def _legend_name(self, i: int) -> str:
        """The model's name, marked when its sanity checks warn (their why: the tooltip)."""
        name = html.escape(self.view.models[i].info.name)
        return name if self.view.warning(i) is None else f"{name} {WARNING_MARK}"

    def _mark_warnings(self) -> None:
        """The plot's tooltip follows the checks as they arrive (the legend: `_label_model`)."""
        notes = [self.view.warning(i) for i in range(len(self.view.models))]
        self.setToolTip("\n\n".join(n for n in notes if n))

    def refresh(self) -> None:
        """Re-read every model's rates; curves grow as a run finishes more ε values."""
        view = self.view
        if view is None:
            return
        if len(view.models) != len(self._model_keys):
            self._build_models()
        self._mark_warnings()
        grid = np.asarray(view.eps, dtype=float)
        for i in range(len(view.models)):
            rates = [view.rates(i, k) for k in range(min(view.eps_done(i), len(grid)))]
            x = grid[: len(rates)]
            robust = np.array([r.robust_accuracy for r in rates], dtype=float)
            boundary = np.array([r.boundary_error_rate for r in rates], dtype=float)
            self.curves[(i, "robust")].setData(x, robust)
            self.curves[(i, "boundary")].setData(x, boundary)
            certified = view.certified(i)
            if certified is None:
                self.curves[(i, "certified")].setData(np.empty(0), np.empty(0))
            else:
                self.curves[(i, "certified")].setData(certified[0], certified[1])
            sweep = view.sweep(i)
            if sweep is None:
                self.curves[(i, "clean")].setData([], [])
            else:  # clean accuracy does not depend on ε: a flat line over the whole grid
                clean = sweep.clean_accuracy
                self.curves[(i, "clean")].setData([grid[0], grid[-1]], [clean, clean])
            self._label_model(i, len(rates), len(grid))
        self._show_certified_key(any(view.certified(i) for i in range(len(view.models))))

    def _show_certified_key(self, shown: bool) -> None:
        """A legend entry for the certified curve only when some model has one."""
        keyed = [p for p, m in self._metric_keys.items() if m == "certified"]
        if shown and not keyed:
            proxy = pg.PlotDataItem([0.0], [0.0], antialias=True)
            self._metric_keys[proxy] = "certified"
            self.metric_legend.addItem(proxy, CERTIFIED_LABEL)
            self._restyle()
            self._fit_legend()
        elif not shown and keyed:
            for proxy in keyed:
                self.metric_legend.removeItem(proxy)
                del self._metric_keys[proxy]
            self._fit_legend()

    def _label_model(self, i: int, done: int, total: int) -> None:
        """Legend text per model, with how far its sweep is while a run goes on (and the
        mark of a sanity-check warning)."""
        assert self.view is not None
        name = self._legend_name(i)
        if done == 0:
            name += " (no results yet)"
        elif done < total:
            name += f" ({done} of {total} ε)"
        proxy = next(p for p, j in self._model_keys.items() if j == i)
        label = self.model_legend.getLabel(proxy)
        if label is not None and label.text != name:
            label.setText(name, color=self.text_color().name())
            self._fit_legend()

    def _fit_legend(self) -> None:
        """As many legend columns as the width allows; metrics and models each keep their rows."""
        room = self.graphics.width() - 24
        for legend, choices in ((self.metric_legend, (3, 2, 1)), (self.model_legend, (4, 3, 2, 1))):
            # an entry: sample (20), spacing (14), label, spacing to the next column (14)
            widths = sorted((48 + label.item.boundingRect().width() for _, label in legend.items))
            columns = next((c for c in choices if sum(widths[::-1][:c]) <= room), 1)
            if columns != legend.columnCount:
                legend.setColumnCount(columns)
                self._refit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def set_eps_index(self, k: int) -> None:
        """Move the current-ε marker; nothing else, as the slider calls this on every move."""
        if self.view is None:
            self.marker.hide()
            return
        k = min(max(k, 0), len(self.view.eps) - 1)
        self.eps_index = k
        self.set_eps_value(self.view.eps[k])

    def show_cursor(self, cursor: EpsCursor) -> None:
        """The session's ε moved: the marker at the grid point, or at ε itself (fine)."""
        if self.view is None:
            self.marker.hide()
            return
        self.eps_index = min(max(cursor.index, 0), len(self.view.eps) - 1)
        self.set_eps_value(cursor.value if cursor.fine else self.view.eps[self.eps_index])

    def set_eps_value(self, eps: float) -> None:
        """The marker at any ε (between grid points when radii allow, see EpsBar)."""
        self.marker.show()
        self.marker.setValue(eps)
        self.marker.label.setFormat(f"ε = {format_eps(eps)}")

    # -- interrogation: hover read-outs, click or drag to set ε ------------------------------
    def _add_readout(self) -> None:
        """A text box and a ring over the hovered point; mouse events from the scene."""
        self.readout = pg.TextItem("", anchor=(0, 1))
        self.highlight = pg.ScatterPlotItem(size=15, brush=None)
        for z, item in ((11, self.readout), (10, self.highlight)):
            item.setZValue(z)
            item.hide()
            self.plot_item.addItem(item, ignoreBounds=True)
        self._dragging = False  # the left button went down on the plot: moves set ε
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self.graphics.viewport().installEventFilter(self)

    def _shown_curves(self) -> list[CurveKey]:
        return [key for key, curve in self.curves.items() if curve.isVisible()]

    def hover_at(self, x: float, y: float) -> str | None:
        """Read out the curve point nearest to (x, y) in data units; None (and nothing
        shown) when no point is within reach."""
        view = self.view
        reading = None
        if view is not None:
            pixel = self.plot_item.getViewBox().viewPixelSize()
            reading = nearest_reading(view, x, y, pixel, self._shown_curves())
        if reading is None:
            self.readout.hide()
            self.highlight.hide()
            return None
        text = reading_text(view, reading)
        (x0, x1), (y0, y1) = self.plot_item.viewRange()
        right, low = reading.eps > (x0 + x1) / 2, reading.value < (y0 + y1) / 2
        self.readout.setAnchor((1.0 if right else 0.0, 1.0 if low else 0.0))
        self.readout.setText(text)
        self.readout.setPos(reading.eps, reading.value)
        self.highlight.setData([reading.eps], [reading.value])
        self.readout.show()
        self.highlight.show()
        return text

    def pick_eps(self, x: float) -> None:
        """ε = x chosen on the plot: the nearest grid point, or ε itself with radii (fine)."""
        session = self.session
        if session is None or not session.grid:
            return
        if session.eps.fine:
            session.set_eps_value(min(max(x, 0.0), max(session.grid)))
        else:
            session.set_eps_index(nearest_grid_index(session.grid, x))

    def _in_plot(self, scene_pos: QPointF) -> QPointF | None:
        box = self.plot_item.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        return box.mapSceneToView(scene_pos)

    def _mouse_moved(self, scene_pos: QPointF) -> None:
        point = self._in_plot(scene_pos)
        if self._dragging:
            return  # the event filter moves ε (pyqtgraph drops fast moves from this signal)
        if point is None:
            self.hover_at(float("nan"), float("nan"))
        else:
            self.hover_at(point.x(), point.y())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A press on the plot sets ε and starts a drag; the release ends it."""
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            point = self._in_plot(self.graphics.mapToScene(event.position().toPoint()))
            if point is not None:
                self._dragging = True
                self.hover_at(float("nan"), float("nan"))
                self.pick_eps(point.x())
        elif kind == QEvent.Type.MouseMove and self._dragging:
            point = self._in_plot(self.graphics.mapToScene(event.position().toPoint()))
            if point is not None:
                self.pick_eps(point.x())  # a drag moves ε along
        elif kind == QEvent.Type.MouseButtonRelease:
            self._dragging = False
        return super().eventFilter(watched, event)

    # -- colours and legend ---------------------------------------------------------------
    def _restyle(self) -> None:
        text, window = self.text_color(), self.palette().color(QPalette.ColorRole.Window)
        self.marker.setPen(
            pg.mkPen(self.faint_color(170), width=1.5, style=Qt.PenStyle.DashDotLine)
        )
        fill = QColor(window)
        fill.setAlpha(210)
        self.marker.label.fill = pg.mkBrush(fill)
        self.marker.label.setColor(text)
        self.readout.fill = pg.mkBrush(fill)
        self.readout.setColor(text)
        self.highlight.setPen(pg.mkPen(text, width=1.5))
        for proxy, metric in self._metric_keys.items():
            pen = pg.mkPen(text, width=2, style=METRIC_STYLES[metric])
            symbol = {"robust": "o", "certified": "s"}.get(metric)
            proxy.setPen(pen)
            proxy.setSymbol(symbol)
            proxy.setSymbolBrush(None if metric == "certified" else text)
            proxy.setSymbolPen(text)
            proxy.setSymbolSize(7)
        for (i, metric), curve in self.curves.items():
            self._color_curve(curve, i, metric)
        for proxy, i in self._model_keys.items():
            self._color_curve(proxy, i, "robust")
        for legend in (self.metric_legend, self.model_legend):
            legend.setLabelTextColor(text)
            for _, label in legend.items:  # setLabelTextColor alone does not re-render them
                label.setText(label.text, color=text.name())

    def _apply_visibility(self, *_clicked: object) -> None:
        """A legend click hides or shows a model or a metric (the sample shows an eye when off)."""
        hidden_metrics = {m for p, m in self._metric_keys.items() if not p.isVisible()}
        hidden_models = {i for p, i in self._model_keys.items() if not p.isVisible()}
        for (i, metric), curve in self.curves.items():
            curve.setVisible(i not in hidden_models and metric not in hidden_metrics)
