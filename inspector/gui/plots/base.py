"""What both summary plots share: the threat-model line, palette colours, ε ticks, tooltips."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette, QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from inspector.core.session import EpsCursor, Session
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView

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


def overlaps_any(a: Rect, others: list[Rect]) -> bool:
    return any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for b in others)


def set_label(label: pg.LabelItem, text: str, **style: str) -> None:
    """Set a LabelItem's text without letting its width become the layout's minimum width."""
    label.setText(text, **style)
    label.setMinimumWidth(0)


class PlotPanel(QWidget):
    """What both plots share: title, wrapped threat line, one PlotItem, palette-aware colours."""

    def __init__(self, object_name: str, tooltip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.view: ResultsView | None = None
        self.session: Session | None = None  # set by bind(): the plots that set ε need it
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
        self.session = session

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
