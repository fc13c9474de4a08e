"""The two summary plots of the window: accuracy over ε, and clean vs robust accuracy at one ε.

Both are thin views on `ResultsView`: `refresh()` re-reads it (cheap, items are reused, so it
can run after every finished ε while a run goes on) and `set_eps_index(k)` only moves a marker
or a few points, since it runs on every slider move. Every figure carries the threat model
line, because an attack-based robust accuracy means nothing without it. Colours follow the
widget palette so that light and dark themes both stay legible.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from inspector.core.checks.result import WARNING_MARK
from inspector.core.session import EpsCursor, Session
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.render.palette import METRIC_LABELS, model_color

METRICS = ("robust", "clean", "boundary")  # curve keys of the tradeoff plot
METRIC_STYLES = {  # dash = metric (colour = model)
    "robust": Qt.PenStyle.SolidLine,
    "clean": Qt.PenStyle.DashLine,
    "boundary": Qt.PenStyle.DotLine,
    "certified": Qt.PenStyle.DashDotDotLine,
}
CERTIFIED_LABEL = "certified accuracy (lower bound)"
EPS_AXIS_LABEL = "ε (pixel units, [0, 1] images)"
THREAT_FONT_PT = 8
GRID_EXTENT = 100.0  # grid segments reach this far past the data: "infinite" in view
TITLE_FONT_PT = 10
LEGEND_FONT = "8pt"
# Where a frontier label may go: (side: +1 right / -1 left, shift in label heights), by preference.
LABEL_SPOTS = tuple((side, shift) for shift in (0, -1, 1, -2, 2, -3, 3) for side in (1, -1))
# A little beyond [0, 1] so that lines at 0 or 1 and the tick label "1" stay visible.
RATE_RANGE = (-0.02, 1.05)
GRID_RATES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
RATE_TICKS = [
    [(v / 10, f"{v / 10:g}") for v in range(0, 11, 2)],
    [(v / 10, "") for v in (1, 3, 5, 7, 9)],
]

ROBUST_TIP = (
    "<b>Robust accuracy</b> (solid, upper bound): the share of examples the attack did not "
    "flip within ε. The attack found no flip for them, which does not prove none exists: "
    "a stronger attack can only lower it."
)
CLEAN_TIP = "<b>Clean accuracy</b> (dashed): the share classified correctly without attack."
BOUNDARY_TIP = (
    "<b>Boundary error</b> (dotted): correct on the clean input but flipped inside the "
    "ε-ball. Robust accuracy = clean accuracy − boundary-error rate."
)
TRADEOFF_TIP = "<br>".join((ROBUST_TIP, CLEAN_TIP, BOUNDARY_TIP))
FRONTIER_TIP = "<br>".join(
    (
        "One point per model at the current ε: up is more accurate on clean inputs, right "
        "is more robust. Robust accuracy never exceeds clean accuracy, so points lie on or "
        "above the diagonal.",
        ROBUST_TIP,
        BOUNDARY_TIP,
    )
)


def wrap_segments(
    text: str, font: QFont, width: float, seps: tuple[str, ...] = (" · ", ", ", " ")
) -> list[str]:
    """Break a one-line description into lines that fit `width`, at the coarsest break possible.

    Parts between " · " (norm and ε grid, attack, examples, seed) stay whole when they fit;
    a part too long by itself (a long ε grid) is broken after a comma, then at a space.
    """
    metrics = QFontMetricsF(font)
    if not seps or metrics.horizontalAdvance(text) <= width:
        return [text]
    sep, finer = seps[0], seps[1:]
    keep = sep.rstrip() if sep.strip() not in ("", "·") else ""  # "," stays at the line end
    lines: list[str] = []
    for part in text.split(sep):
        if lines and metrics.horizontalAdvance(lines[-1] + sep + part) <= width:
            lines[-1] += sep + part
            continue
        if lines:
            lines[-1] += keep
        lines.extend(wrap_segments(part, font, width, finer))
    return lines


def eps_ticks(grid: tuple[float, ...], min_gap: float) -> list[list[tuple[float, str]]]:
    """Tick levels for the ε axis: labelled grid points at least `min_gap` apart, then the rest.

    Labels use the grid's own notation (8/255), which is how the user typed the ε values.
    """
    major: list[float] = []
    for e in grid:
        if not major or e - major[-1] >= min_gap:
            major.append(e)
        elif e == grid[-1] and len(major) > 1:
            major[-1] = e  # prefer showing the largest ε over its neighbour
    minor = [e for e in grid if e not in major]
    return [[(e, format_eps(e)) for e in major], [(e, "") for e in minor]]


Rect = tuple[float, float, float, float]  # left, bottom, right, top in data units


def _overlaps_any(a: Rect, others: list[Rect]) -> bool:
    return any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for b in others)


def _inside(rect: Rect) -> bool:
    """Within the frontier's visible square (RATE_RANGE on both axes)."""
    low, high = RATE_RANGE
    return rect[0] >= low and rect[2] <= high and rect[1] >= low and rect[3] <= high


def set_label(label: pg.LabelItem, text: str, **style: str) -> None:
    """Set a LabelItem's text without letting its width become the layout's minimum width."""
    label.setText(text, **style)
    label.setMinimumWidth(0)


class _PlotPanel(QWidget):
    """What both plots share: title, wrapped threat line, one PlotItem, palette-aware colours."""

    def __init__(self, object_name: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.view: ResultsView | None = None
        self.eps_index = 0
        self.eps_value: float | None = None  # the frontier: ε between grid points (radii)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setToolTip(tooltip)
        self.graphics.ci.setContentsMargins(6, 4, 10, 4)
        self.graphics.ci.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.title_label = self.graphics.addLabel("", row=0, col=0, size=f"{TITLE_FONT_PT}pt")
        self.threat_label = self.graphics.addLabel("", row=1, col=0, size=f"{THREAT_FONT_PT}pt")
        self.threat_label.setToolTip("The threat model: every number here holds only under it.")
        self.plot_item: pg.PlotItem = self.graphics.addPlot(row=2, col=0)
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.plot_item.hideButtons()
        self.graphics.ci.layout.setRowStretchFactor(2, 1)  # extra height goes to the plot
        for name in ("left", "bottom"):  # let the edge labels ("0", "1") overhang a little
            self.plot_item.getAxis(name).setStyle(hideOverlappingLabels=False)
        self.grid_lines: list[pg.PlotCurveItem] = []
        self._threat_text = ""
        self._threat_width = -1.0

    # -- colours --------------------------------------------------------------------------
    def text_color(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.WindowText)

    def faint_color(self, alpha: int = 60) -> QColor:
        color = QColor(self.text_color())
        color.setAlpha(alpha)
        return color

    def apply_palette(self) -> None:
        """Background, axes and labels from the widget palette (light or dark theme)."""
        text = self.text_color()
        self.graphics.setBackground(self.palette().color(QPalette.ColorRole.Window))
        for name in ("left", "bottom"):
            axis = self.plot_item.getAxis(name)
            axis.setPen(self.faint_color(160))
            axis.setTextPen(text)
            axis.label.setDefaultTextColor(text)
        for line in self.grid_lines:
            line.setPen(pg.mkPen(self.faint_color(38), width=1))
        set_label(self.title_label, self.title_label.text, color=text.name())
        set_label(self.threat_label, self.threat_label.text, color=text.name())
        self._restyle()

    def _restyle(self) -> None:
        """Subclasses recolour their own items here."""

    def set_grid(self, xs: tuple[float, ...], ys: tuple[float, ...]) -> None:
        """Faint grid lines as one plot item (an axis-drawn grid would hide the edge tick
        labels; one InfiniteLine per value cost a Python paint call each per slider move)."""
        for line in self.grid_lines:
            self.plot_item.removeItem(line)
        self.grid_lines = []
        far = GRID_EXTENT * max(1.0, *(abs(v) for v in (*xs, *ys)))
        px, py = [], []
        for x in xs:  # vertical segments, far beyond the fixed view range
            px += [x, x]
            py += [-far, far]
        for y in ys:
            px += [-far, far]
            py += [y, y]
        if not px:
            return
        grid = pg.PlotCurveItem(
            np.asarray(px, dtype=float), np.asarray(py, dtype=float), connect="pairs",
            pen=pg.mkPen(self.faint_color(38), width=1),
        )  # fmt: skip
        grid.setZValue(-20)
        self.plot_item.addItem(grid, ignoreBounds=True)
        self.grid_lines.append(grid)

    def changeEvent(self, event: QEvent) -> None:
        kinds = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if event.type() in kinds and getattr(self, "_built", False):  # not mid-construction
            self.apply_palette()
        super().changeEvent(event)

    # -- threat line ----------------------------------------------------------------------
    def bind(self, session: Session) -> None:
        """Follow the session: other results, newer results, every move of ε (once each)."""

        def show_view(view: ResultsView | None) -> None:
            self.eps_index = session.eps.index
            self.set_view(view)
            self.show_cursor(session.eps)

        session.view_changed.connect(show_view)
        session.results_changed.connect(lambda _none: self.refresh())
        session.eps_changed.connect(self.show_cursor)

    def show_cursor(self, cursor: EpsCursor) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        raise NotImplementedError

    def set_view(self, view: ResultsView | None) -> None:
        raise NotImplementedError

    def set_threat_text(self, text: str) -> None:
        self._threat_text = text
        self._threat_width = -1.0
        self._wrap_threat()

    def _wrap_threat(self) -> None:
        """Re-wrap the threat line for the current width (only when the width changed)."""
        width = max(120.0, self.graphics.width() - 24.0)
        if width == self._threat_width:
            return
        self._threat_width = width
        font = QFont(self.font())
        font.setPointSizeF(THREAT_FONT_PT)
        lines = wrap_segments(self._threat_text, font, width) if self._threat_text else [""]
        set_label(self.threat_label, "<br>".join(html.escape(line) for line in lines))
        self._refit()

    def _refit(self) -> None:
        """Re-fit the scene to the window after a label or legend shrank (Qt does not redo it)."""
        self.graphics.ci.setGeometry(QRectF(0, 0, self.graphics.width(), self.graphics.height()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._wrap_threat()


class TradeoffPlot(_PlotPanel):
    """Clean accuracy, robust accuracy and boundary-error rate of every model over ε."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("tradeoffPlot", TRADEOFF_TIP, parent)
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
        color = model_color(i)
        width = 2.5 if metric == "robust" else 2.0
        pen = pg.mkPen(color, width=width, style=METRIC_STYLES[metric])
        if metric == "certified":  # a lower bound: hollow squares, to tell it from the attack
            return pg.PlotDataItem(
                pen=pen, symbol="s", symbolSize=6, symbolBrush=None, symbolPen=color,
                antialias=True,
            )  # fmt: skip
        if metric != "robust":
            return pg.PlotDataItem(pen=pen, antialias=True)
        return pg.PlotDataItem(
            pen=pen, symbol="o", symbolSize=7, symbolBrush=color, symbolPen=color, antialias=True
        )

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
        for proxy, metric in self._metric_keys.items():
            pen = pg.mkPen(text, width=2, style=METRIC_STYLES[metric])
            symbol = {"robust": "o", "certified": "s"}.get(metric)
            proxy.setPen(pen)
            proxy.setSymbol(symbol)
            proxy.setSymbolBrush(None if metric == "certified" else text)
            proxy.setSymbolPen(text)
            proxy.setSymbolSize(7)
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


class FrontierPlot(_PlotPanel):
    """Clean against robust accuracy at the current ε: one labelled point per model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("frontierPlot", FRONTIER_TIP, parent)
        plot = self.plot_item
        plot.setLabel("bottom", "robust accuracy at ε (upper bound)")
        plot.setLabel("left", "clean accuracy")
        plot.setXRange(*RATE_RANGE, padding=0)
        plot.setYRange(*RATE_RANGE, padding=0)
        plot.getAxis("left").setTicks(RATE_TICKS)
        plot.getAxis("bottom").setTicks(RATE_TICKS)
        self.set_grid(GRID_RATES, GRID_RATES)
        self.impossible = pg.PlotDataItem([0.0, 1.0], [0.0, 1.0], fillLevel=0.0, antialias=True)
        self.impossible.setZValue(-10)
        plot.addItem(self.impossible)
        self.diagonal_note = pg.TextItem(
            "robust ≤ clean: no model can fall below the diagonal", anchor=(1, 1)
        )
        self.diagonal_note.setPos(0.99, 0.01)
        note_font = QFont(self.font())
        note_font.setPointSizeF(THREAT_FONT_PT)
        self.diagonal_note.setFont(note_font)
        plot.addItem(self.diagonal_note)
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
            self.points[i] = pg.ScatterPlotItem(size=13, brush=model_color(i), hoverable=False)
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
            point.setToolTip(
                f"{html.escape(view.models[i].info.name)}<br>clean accuracy {y:.1%}<br>"
                f"robust accuracy {x:.1%} (upper bound)<br>"
                f"boundary-error rate {rates.boundary_error_rate:.1%}"
            )
        self._place_labels(shown)

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
            free = [c for c in candidates if _inside(c[2]) and not _overlaps_any(c[2], taken)]
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
            return 1.07 / 400, 1.07 / 300
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
            point.setBrush(pg.mkBrush(model_color(i)))
        for label in self.labels.values():
            label.setColor(text)
        for leader in self.leaders.values():
            leader.setPen(pg.mkPen(self.faint_color(150), width=1))
