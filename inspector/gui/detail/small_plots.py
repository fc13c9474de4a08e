"""The detail panel's two small plots: top-5 class probabilities and the true class over ε."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from inspector.core.threat import format_eps
from inspector.gui.detail.text import (
    ADV_COLOR,
    CLEAN_COLOR,
    GREY_TEXT,
    NBSP,
    TIPS,
    TOP_K,
    class_name,
    short_name,
)
from inspector.gui.detail.tiles import caption, small_font


def style_plot(plot: pg.PlotWidget, height: int) -> None:
    """A small, static plot: no mouse zoom or menu, palette colours, small tick font."""
    plot.setBackground(None)
    plot.setMinimumSize(60, height)
    plot.setMaximumHeight(int(1.4 * height))  # taller adds nothing to five bars or a curve
    plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
    item = plot.getPlotItem()
    item.setMouseEnabled(x=False, y=False)
    item.setMenuEnabled(False)
    item.hideButtons()
    item.layout.setContentsMargins(0, 2, 10, 0)
    font = small_font(plot, 0.8)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(font)
        axis.setStyle(tickLength=-3, tickTextOffset=2, hideOverlappingLabels=False)
    color_axes(plot)
    item.disableAutoRange()


def color_axes(plot: pg.PlotWidget) -> None:
    item = plot.getPlotItem()
    if item is None:  # a palette event during pyqtgraph's own construction
        return
    text = plot.palette().color(QPalette.ColorRole.WindowText)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))


class SmallPlot(pg.PlotWidget):
    """A detail-panel plot whose axes follow the palette when the system theme changes."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            color_axes(self)
            self.palette_changed()
        super().changeEvent(event)

    def palette_changed(self) -> None:
        """Owners recolour their own items here."""


def top_classes(clean: np.ndarray, adv: np.ndarray | None, label: int, k: int = TOP_K) -> list:
    """The k classes most likely clean or adversarially, the true class always among them."""
    score = clean if adv is None else np.maximum(clean, adv)
    order = [int(c) for c in np.argsort(-score, kind="stable")[:k]]
    if 0 <= label < len(score) and label not in order:
        order[-1] = label
    return order


class BarChart(QWidget):
    """Top-5 class probabilities, clean and adversarial bars side by side per class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = SmallPlot()
        style_plot(self.plot, 104)
        self.plot.invertY(True)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(-0.5, TOP_K - 0.5, padding=0)
        self.plot.getAxis("bottom").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
        no_pen = pg.mkPen(None)
        self.bars_clean = pg.BarGraphItem(x0=0, y=[], height=0.38, width=[], brush=CLEAN_COLOR)
        self.bars_adv = pg.BarGraphItem(x0=0, y=[], height=0.38, width=[], brush=ADV_COLOR)
        for bars in (self.bars_clean, self.bars_adv):
            bars.setOpts(pen=no_pen)
            self.plot.addItem(bars)
        self.classes: list[int] = []
        legend = (
            f'<span style="color:{CLEAN_COLOR}">■</span>{NBSP}clean{NBSP}{NBSP}'
            f'<span style="color:{ADV_COLOR}">■</span>{NBSP}adversarial'
        )  # one unbreakable line: a wrapped legend would separate a colour from its name
        self.title = caption(f"top-5 classes<br>{legend}", TIPS["bars"])
        self.title.setMinimumHeight(2 * self.title.fontMetrics().lineSpacing() + 2)
        self.setToolTip(TIPS["bars"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot)

    def show_probs(
        self, clean: np.ndarray, adv: np.ndarray | None, label: int, names: tuple[str, ...]
    ) -> None:
        """Bar lengths are the probabilities themselves; adv None leaves those bars empty."""
        self.classes = top_classes(clean, adv, label)
        ys = np.arange(len(self.classes), dtype=float)
        self.bars_clean.setOpts(y=ys - 0.2, width=clean[self.classes].astype(float))
        adv_widths = np.zeros(len(ys)) if adv is None else adv[self.classes].astype(float)
        self.bars_adv.setOpts(y=ys + 0.2, width=adv_widths)
        ticks = []
        for y, c in zip(ys, self.classes, strict=True):
            name = short_name(names, c)
            ticks.append((float(y), f"{name} ✓" if c == label else name))
        self.plot.getAxis("left").setTicks([ticks])
        rows = [
            f"{class_name(names, c)}: clean {clean[c]:.1%}"
            + ("" if adv is None else f", adversarial {adv[c]:.1%}")
            for c in self.classes
        ]
        self.plot.setToolTip(TIPS["bars"] + "\n\n" + "\n".join(rows))


class TrueClassPlot(QWidget):
    """P(true class) on the adversarial example over ε, with a ring at the current ε."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = SmallPlot()
        self.plot.palette_changed = self._recolor_marker
        style_plot(self.plot, 88)
        self.plot.setYRange(0, 1, padding=0.05)
        self.plot.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
        self.curve = self.plot.plot(
            [], [], pen=pg.mkPen(ADV_COLOR, width=2), symbol="o", symbolSize=4,
            symbolBrush=ADV_COLOR, symbolPen=None,
        )  # fmt: skip
        self.marker = pg.ScatterPlotItem(
            size=10, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.WindowText), width=2),
            brush=None,
        )  # fmt: skip
        self.line = pg.InfiniteLine(angle=90, pen=pg.mkPen(GREY_TEXT, style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.line)
        self.plot.addItem(self.marker)
        self.title = caption("P(true class) over ε", TIPS["curve"])
        self.setToolTip(TIPS["curve"])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot)
        self._grid: tuple[float, ...] = ()

    def _recolor_marker(self) -> None:
        if not hasattr(self, "marker"):
            return
        self.marker.setPen(pg.mkPen(self.palette().color(QPalette.ColorRole.WindowText), width=2))

    def set_grid(self, eps: tuple[float, ...]) -> None:
        """Axis over the whole grid, so a partial sweep visibly stops short."""
        if eps == self._grid:
            return
        self._grid = eps
        top = max(eps[-1], 1e-6)
        self.plot.setXRange(0, top, padding=0.04)
        picks = sorted({eps[0], eps[len(eps) // 2], eps[-1]})
        self.plot.getAxis("bottom").setTicks([[(e, format_eps(e)) for e in picks]])

    def show_curve(self, eps: np.ndarray, probs: np.ndarray, current: float, k: int) -> None:
        """`probs` over `eps` (the computed grid points); marker only if ε_k is among them."""
        self.curve.setData(eps, probs)
        self.show_marker(probs, current, k)

    def show_marker(self, probs: np.ndarray, current: float, k: int) -> None:
        """Move only the ring and the line: what a slider move changes."""
        self.line.setValue(current)
        if k < len(probs):
            self.marker.setData([current], [float(probs[k])])
        else:
            self.marker.setData([], [])
