"""The per-example detail panel: one column per model, clean vs adversarial, side by side.

It is refreshed on every ε-slider move and every selection change, so widgets are built
once (again only when the number of models changes) and an update only swaps images and
plot data. Everything shown is a lookup in `ResultsView`; nothing is recomputed here.
Missing data (no results yet, images not kept, ε not reached) shows grey text, never fails.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.saliency import METHODS, overlay, to_display
from inspector.core.sweep import ModelSweep
from inspector.core.threat import NORM_SYMBOLS, format_eps
from inspector.core.view import ResultsView
from inspector.gui.caption import StableCaption
from inspector.gui.saliency_view import (
    ColorBar,
    SaliencyControls,
    SaliencyRequest,
    SaliencyService,
)
from inspector.render.images import format_factor, perturbation_image, to_pixmap
from inspector.render.palette import STATUS_COLORS, STATUS_LABELS, model_color

TOP_K = 5
# Sky blue vs vermillion (Okabe–Ito): distinct in hue and lightness for every colour vision.
CLEAN_COLOR = "#56B4E9"
ADV_COLOR = "#D55E00"
GREY_TEXT = "#808080"
NBSP, WJ, SHY = "\u00a0", "\u2060", "\u00ad"  # no-break space, word joiner, soft hyphen
MAX_IMAGE = 120  # logical px; larger tiles only take the plots' room
CAPTION_LINES = 5  # beside each image: what it is, prediction, ε, scale
MESSAGE_LINES = 3  # "example not in this model's results" in a narrow column
COLUMN_MIN_WIDTH = 110  # below this the panel scrolls sideways rather than clip the text
CLEAN_CACHE_SIZE = 64

STATUS_TIPS = {
    ROBUST: (
        "Robust at this ε: correct on the clean input, and the attack found no perturbation "
        "inside the ε-ball that flips it. This means no flip was found, not that none exists: "
        "attack-based robust accuracy is an upper bound."
    ),
    BOUNDARY_ERROR: (
        "Boundary error: correct on the clean input, but flipped inside the ε-ball — the "
        "attack found a δ with ‖δ‖ ≤ ε (input kept in [0, 1]) that changes the prediction."
    ),
    NATURAL_ERROR: (
        "Natural error: wrong already on the clean input, hence at every ε (every natural "
        "error is also a robust error). It is not attacked."
    ),
}
TIPS = {
    "breaking": (
        "Breaking ε: the smallest grid ε at which the attack flipped this example. The true "
        "robustness radius is at most this value; a stronger attack might flip it earlier."
    ),
    "clean": "The unperturbed input, as the model sees it (values in [0, 1]).",
    "adversarial": (
        "The adversarial example is the point the attack found inside the ε-ball around the "
        "clean input. If it does not flip the prediction the example counts as robust: no flip "
        "was found, which does not prove none exists. Once flipped, the same point is shown "
        "at every larger ε (the balls are nested)."
    ),
    "perturbation": (
        "The perturbation δ = adversarial − clean, amplified ×N so that its largest |δ| fills "
        "the range. Mid grey = 0; orange = pixel made brighter, blue = darker (colour images: "
        "0.5 + N·δ per channel)."
    ),
    "saliency_clean": (
        "Saliency on the clean input: where the evidence for the chosen class sits. Orange "
        "raises the class's logit, blue lowers it (absolute mode: brighter = more). The "
        "colour bar below gives the scale in the method's units."
    ),
    "saliency_adv": (
        "Saliency on the adversarial example at this ε, for the same class and on the same "
        "colour scale as the clean map: how the perturbation moved the evidence."
    ),
    "bars": (
        "Class probabilities (softmax) on the clean input and on the adversarial example at "
        "this ε: the five most likely classes of either, the true class always included (✓)."
    ),
    "curve": (
        "Probability of the true class on the adversarial example, over the ε grid. The "
        "prediction flips once another class overtakes it (not necessarily below 0.5). The "
        "ring marks the current ε."
    ),
}


def _grey(text: str) -> str:
    return f'<span style="color:{GREY_TEXT}">{text}</span>'


def _class_name(names: tuple[str, ...], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"class {index}"


def _short_name(names: tuple[str, ...], index: int, limit: int = 8) -> str:
    """Class names elided to fit a narrow column; the tooltips carry the full names."""
    name = _class_name(names, index)
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _small_font(widget: QWidget, scale: float = 0.9) -> QFont:
    font = QFont(widget.font())
    font.setPointSizeF(max(6.0, font.pointSizeF() * scale))
    return font


def _caption(text: str = "", tip: str = "", scale: float = 0.9) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    label.setFont(_small_font(label, scale))
    label.setToolTip(tip)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
    return label


class ImageView(QWidget):
    """One image drawn nearest-neighbour as large as its square box allows, or grey text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.message = ""
        self._pixmap: QPixmap | None = None
        self._key: tuple[int, float] | None = None
        self.setFixedSize(64, 64)  # the column sizes it from its width (see ModelColumn)

    def sizeHint(self) -> QSize:
        return QSize(64, 64)

    def set_image(self, image: np.ndarray | None, message: str = "") -> None:
        """Show `image`, or `message` in grey when it is None; renders lazily on paint."""
        self.image, self.message = image, ("" if image is not None else message)
        self._pixmap = None
        self.update()

    def pixmap(self) -> QPixmap | None:
        """The rendering for the current size and screen, cached until either changes."""
        if self.image is None:
            return None
        side = max(1, min(self.width(), self.height(), MAX_IMAGE))
        key = (side, float(self.devicePixelRatioF()))
        if self._pixmap is None or self._key != key:
            self._pixmap, self._key = to_pixmap(self.image, side, key[1]), key
        return self._pixmap

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        pixmap = self.pixmap()
        if pixmap is None:
            side = min(self.width(), self.height())
            box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
            painter.setPen(QColor(GREY_TEXT))
            painter.drawRect(box.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setFont(_small_font(self, 0.85))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(box.adjusted(4, 4, -4, -4), int(flags), self.message)
            return
        size = pixmap.deviceIndependentSize()
        x = (self.width() - size.width()) / 2
        y = (self.height() - size.height()) / 2
        painter.drawPixmap(int(x), int(y), pixmap)


class ImageTile(QWidget):
    """An image with its caption beside it: what it is, at which ε, how it was scaled."""

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageView()
        # Room for five lines, so rows line up across columns whatever the text says, and a
        # new caption on a slider move repaints the caption alone (no relayout).
        self.caption = StableCaption(CAPTION_LINES)
        self.caption.setFont(_small_font(self.caption, 0.85))
        self.caption.setToolTip(tip)
        self.setToolTip(tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.view)
        layout.addWidget(self.caption, 1)

    def set_side(self, side: int) -> None:
        if self.view.height() != side or self.view.width() != side:
            self.view.setFixedSize(side, side)

    def show_image(self, image: np.ndarray | None, caption: str, message: str = "") -> None:
        shown = self.view
        if image is shown.image and caption == self.caption.text() and (
            image is not None or message == shown.message
        ):
            return  # nothing changed: no repaint (slider moves pass here a lot)
        self.view.set_image(image, message)
        self.caption.setText(caption)


def _style_plot(plot: pg.PlotWidget, height: int) -> None:
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
    font = _small_font(plot, 0.8)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(font)
        axis.setStyle(tickLength=-3, tickTextOffset=2, hideOverlappingLabels=False)
    _color_axes(plot)
    item.disableAutoRange()


def _color_axes(plot: pg.PlotWidget) -> None:
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
            _color_axes(self)
            self.palette_changed()
        super().changeEvent(event)

    def palette_changed(self) -> None:
        """Owners recolour their own items here."""


def _stacked(main: QWidget, placeholder: QLabel) -> QStackedWidget:
    stack = QStackedWidget()
    stack.addWidget(main)
    stack.addWidget(placeholder)
    return stack


def _placeholder(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"color: {GREY_TEXT};")
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


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
        _style_plot(self.plot, 104)
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
        self.title = _caption(f"top-5 classes<br>{legend}", TIPS["bars"])
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
            name = _short_name(names, c)
            ticks.append((float(y), f"{name} ✓" if c == label else name))
        self.plot.getAxis("left").setTicks([ticks])
        rows = [
            f"{_class_name(names, c)}: clean {clean[c]:.1%}"
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
        _style_plot(self.plot, 88)
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
        self.title = _caption("P(true class) over ε", TIPS["curve"])
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


def _chw(rgb: np.ndarray) -> np.ndarray:
    """uint8 H×W×3 → float C×H×W in [0, 1], what the image tiles draw."""
    return np.moveaxis(rgb.astype(np.float32) / 255.0, -1, 0)


CONCENTRATION_TIP = (
    "How concentrated this model's attribution is on the object, over all evaluated "
    "examples (digits: the share of |attribution| on the digit's pixels, grey level > 0.2; "
    "other images: alignment with the image's edges). A uniform map scores the 'uniform' "
    "level. Robust models tend to score higher (Tsipras et al.); it is no proof of safety."
)


def _eps_text(eps: float) -> str:
    """ "ε = 8/255" that never wraps inside."""
    return f"ε{NBSP}={NBSP}{format_eps(eps)}"


def _adversarial_note(sweep: ModelSweep, position: int, eps: float) -> str:
    """Where the shown point comes from (a flip found at a smaller ε is kept at larger ε)."""
    if not sweep.clean_correct[position]:
        return "not attacked"
    broken = float(sweep.breaking_eps[position])
    if eps == 0:
        return "clean input"
    if math.isnan(broken) or broken > eps:
        return "no flip found"
    if broken < eps:
        return "found earlier"
    return "flips here"


def _breaking_text(eps: tuple[float, ...], sweep: ModelSweep, position: int) -> str:
    """One short line (columns are narrow); the tooltip says what it means."""
    if not sweep.clean_correct[position]:
        return "wrong without attack"
    broken = float(sweep.breaking_eps[position])
    if not math.isnan(broken):
        return f"breaking {_eps_text(broken)}"
    if sweep.eps_done == 0:
        return "not attacked yet"
    so_far = " so far" if sweep.partial else ""
    return f"no flip up to {_eps_text(eps[sweep.eps_done - 1])}{so_far}"


def _prediction(names: tuple[str, ...], pred: int, conf: float, label: int) -> str:
    mark = "✓" if pred == label else "✗"
    return f"<b>{_short_name(names, pred)}</b> {mark}{NBSP}{conf:.0%}"


class ModelColumn(QObject):
    """Everything about one model for the selected example: one column of the panel's grid.

    The widgets live in a grid shared by all models (see `place`), so rows line up across
    columns even when one caption wraps to more lines than another.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._shown: tuple | None = None  # (snapshot, ε done, example, clean image) last shown
        self.name_label = QLabel()
        self.name_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.color_bar = QFrame()
        self.color_bar.setFixedHeight(3)
        self.color_bar.installEventFilter(self)  # spans the column: its width is the column's
        self.status_label = StableCaption(1, Qt.AlignmentFlag.AlignHCenter)
        self.status_label.setFont(_small_font(self.status_label, 0.95))
        self.breaking_label = _caption(tip=TIPS["breaking"])
        self.clean = ImageTile(TIPS["clean"])
        self.adversarial = ImageTile(TIPS["adversarial"])
        self.perturbation = ImageTile(TIPS["perturbation"])
        self.saliency_clean = ImageTile(TIPS["saliency_clean"])
        self.saliency_adv = ImageTile(TIPS["saliency_adv"])
        self.saliency_bar = ColorBar()
        self.concentration_label = _caption(tip=CONCENTRATION_TIP, scale=0.85)
        self.bars = BarChart()
        self.bar_placeholder = _placeholder()
        self.bar_stack = _stacked(self.bars, self.bar_placeholder)
        self.true_prob = TrueClassPlot()
        self.curve_placeholder = _placeholder()
        self.curve_stack = _stacked(self.true_prob, self.curve_placeholder)
        self.body = [
            self.status_label,
            self.breaking_label,
            self.clean,
            self.adversarial,
            self.perturbation,
            self.saliency_clean,
            self.saliency_adv,
            self.saliency_bar,
            self.concentration_label,
            self.bar_stack,
            self.curve_stack,
        ]
        self._image_side = 0  # longest side (px) of the images shown, to snap the tiles to

    @property
    def placeholder(self) -> StableCaption:
        """Where "no results yet" and the like go: the status line, the rest hidden.

        (A separate label spanning the hidden rows would make QGridLayout drop their spacing.)
        """
        return self.status_label

    def place(self, grid: QGridLayout, column: int) -> None:
        """Put the widgets in `column` of the shared grid, one row each; the row before the
        saliency maps is left for the saliency pickers, which span every column."""
        widgets = self.widgets()
        first_saliency = widgets.index(self.saliency_clean)
        for row, widget in enumerate(widgets):
            grid.addWidget(widget, row + (row >= first_saliency), column)

    @property
    def saliency_row(self) -> int:
        """The grid row of the saliency pickers (see `place`)."""
        return self.widgets().index(self.saliency_clean)

    def widgets(self) -> list[QWidget]:
        return [self.name_label, self.color_bar, *self.body]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.color_bar and event.type() == QEvent.Type.Resize:
            self._fit_images()
        return False

    def _fit_images(self) -> None:
        """Square images of about half the column, snapped up to a whole enlargement factor.

        A 32×32 image in a 62 px box would be shown 1:1; snapping the box to 64 px shows it
        twice as large at the cost of a few pixels of caption.
        """
        width = self.color_bar.width()
        side = (width - 4) // 2
        if self._image_side > 0:
            snapped = self._image_side * -(-side // self._image_side)
            if snapped <= 0.55 * width:
                side = snapped
        side = max(40, min(MAX_IMAGE, side))
        for tile in (
            self.clean,
            self.adversarial,
            self.perturbation,
            self.saliency_clean,
            self.saliency_adv,
        ):
            tile.set_side(side)

    # Handles for tests and for the window (e.g. to export the plots).
    @property
    def bars_clean(self) -> pg.BarGraphItem:
        return self.bars.bars_clean

    @property
    def bars_adv(self) -> pg.BarGraphItem:
        return self.bars.bars_adv

    @property
    def true_prob_curve(self) -> pg.PlotDataItem:
        return self.true_prob.curve

    @property
    def true_prob_marker(self) -> pg.ScatterPlotItem:
        return self.true_prob.marker

    def set_model(self, name: str, color: str) -> None:
        self.name_label.setText(f'<b style="color:{color}">{name}</b>')
        self.name_label.setToolTip(name)
        self.color_bar.setStyleSheet(f"background: {color};")

    # -- saliency -------------------------------------------------------------------------

    def show_saliency_message(self, message: str) -> None:
        for tile, what in ((self.saliency_clean, "clean"), (self.saliency_adv, "adversarial")):
            tile.show_image(None, f"saliency, {what}", message)
        self.saliency_bar.set_scale(True, 0.0, "")

    def show_saliency(
        self, request: SaliencyRequest, maps: np.ndarray, controls: SaliencyControls, eps: str
    ) -> None:
        """Both maps on one colour scale, over their images, with what they explain."""
        shown = to_display(maps, controls.signed)
        method = METHODS[request.method]
        what = f"{method.label}<br>of class {request.target_class}"
        image = overlay(request.clean, shown.values[0], shown.signed, controls.alpha)
        self.saliency_clean.show_image(_chw(image), f"saliency, clean<br>{what}")
        if request.adversarial is None or len(shown.values) < 2:
            self.saliency_adv.show_image(None, "saliency, adversarial", "no adversarial image")
        else:
            image = overlay(request.adversarial, shown.values[1], shown.signed, controls.alpha)
            self.saliency_adv.show_image(
                _chw(image), f"saliency, adversarial,<br>{eps}<br>{what}"
            )
        self.saliency_bar.set_scale(shown.signed, shown.scale, method.unit)

    def show_concentration(self, summary) -> None:
        if summary is None:
            self.concentration_label.setText(_grey("no concentration score for this data"))
        elif isinstance(summary, str):
            self.concentration_label.setText(_grey(f"concentration: {summary}"))
        else:
            what = "on the digit" if summary.measure == "object_share" else "edge alignment"
            detail = (
                f"(95% CI {summary.ci_low:.0%}–{summary.ci_high:.0%}, "
                f"uniform map {summary.uniform:.0%}, n={summary.n})"
            )
            self.concentration_label.setText(
                f"{what}: <b>{summary.mean:.0%}</b> {_grey(detail)}"
            )
            self.concentration_label.setToolTip(summary.describe() + ". " + summary.caveat)

    def show_missing(self, message: str) -> None:
        self._shown = None
        self.status_label.set_lines(MESSAGE_LINES)  # room for a sentence in a narrow column
        self.status_label.setText(_grey(message))
        self.status_label.setToolTip("")
        self._show_body(False)

    def _show_body(self, visible: bool) -> None:
        for widget in self.body[1:]:
            widget.setVisible(visible)

    def show_example(
        self, view: ResultsView, index: int, position: int, k: int, clean: np.ndarray | None
    ) -> None:
        """Fill the column from the view; only data and pixmaps change."""
        sweep = view.sweep(index)
        if sweep is None:
            self.show_missing("no results yet")
            return
        if not 0 <= position < len(sweep.labels):
            self.show_missing("example not in this model's results")
            return
        self._show_body(True)
        self.status_label.set_lines(1)
        names = view.models[index].info.class_names
        # Same example and same snapshot as last time: only ε moved, so the clean tile and
        # the P(true) curve stay as they are (a slider move must repaint little).
        key = (id(sweep), sweep.eps_done, position, id(clean))
        same_example, self._shown = key == self._shown, key
        self._show_status(view, index, sweep, position, k)
        self._show_images(view, index, sweep, position, k, clean, same_example)
        self._show_probs(sweep, position, k, names)
        self._show_curve(view.eps, sweep, position, k, same_example)

    def _show_status(
        self, view: ResultsView, index: int, sweep: ModelSweep, position: int, k: int
    ) -> None:
        status = view.status_of(index, position, k)
        if status is None:
            self.status_label.setText(_grey("not computed yet"))
            self.status_label.setToolTip(
                f"This model's sweep has not reached {_eps_text(view.eps[k])} yet."
            )
        else:
            chip = f'<span style="color:{STATUS_COLORS[status]}">■</span>'
            self.status_label.setText(f"{chip} <b>{STATUS_LABELS[status]}</b>")
            self.status_label.setToolTip(STATUS_TIPS[status])
        self.breaking_label.setText(_breaking_text(view.eps, sweep, position))

    def _show_images(
        self,
        view: ResultsView,
        index: int,
        sweep: ModelSweep,
        position: int,
        k: int,
        clean: np.ndarray | None,
        same_example: bool = False,
    ) -> None:
        """Clean, adversarial and δ with captions saying what each is and where it comes from."""
        eps = view.eps[k]
        names, label = view.models[index].info.class_names, int(sweep.labels[position])
        if not same_example:
            pred = _prediction(
                names, int(sweep.clean_pred[position]), sweep.clean_conf[position], label
            )
            self.clean.show_image(clean, f"clean<br>{pred}", "image not available")
            self._note_image_size(clean)
        caption = f"adversarial, {_eps_text(eps)}"
        if k >= sweep.eps_done:
            caption += "<br>" + _grey("not computed yet")
        else:
            pred = _prediction(
                names, int(sweep.adv_pred[position, k]), sweep.adv_conf[position, k], label
            )
            caption += f"<br>{pred}<br>{_grey(_adversarial_note(sweep, position, eps))}"
        adv = view.adversarial_image(index, position, k)
        if adv is None:
            why = "ε not computed yet" if k >= sweep.eps_done else "adversarial images not kept"
            self.adversarial.show_image(None, caption, why)
            self.perturbation.show_image(None, "perturbation δ", why)
            return
        self.adversarial.show_image(adv, caption)
        self._show_delta(clean, adv, view.threat.norm)
        self._note_image_size(adv)

    def _note_image_size(self, image: np.ndarray | None) -> None:
        """Re-fit the tiles when the image size changes (a new dataset)."""
        if image is not None and image.ndim == 3 and max(image.shape[1:]) != self._image_side:
            self._image_side = max(image.shape[1:])
            self._fit_images()

    def _show_delta(self, clean: np.ndarray | None, adv: np.ndarray, norm: str) -> None:
        if clean is None or clean.shape != adv.shape:
            self.perturbation.show_image(None, "perturbation δ", "clean image not available")
            return
        # The adversarial image is stored as float16: round the clean one alike, so pixels
        # the attack left alone give δ = 0 exactly instead of amplified rounding noise.
        delta = adv - clean.astype(np.float16).astype(np.float32)
        image, factor = perturbation_image(delta)
        peak = float(np.abs(delta).max())
        if peak == 0:
            self.perturbation.show_image(image, f"perturbation<br>δ{NBSP}={NBSP}0")
            return
        size = f"max{NBSP}|{WJ}δ{WJ}| ={NBSP}{peak:.2g}"  # no break at a "|"
        if norm == "l2":
            size += f"<br>‖δ‖₂{NBSP}={NBSP}{float(np.linalg.norm(delta)):.2g}"
        amplified = f"δ{NBSP}×{format_factor(factor)}"
        self.perturbation.show_image(image, f"pertur{SHY}bation<br>{amplified}<br>{_grey(size)}")

    def _show_probs(self, sweep: ModelSweep, position: int, k: int, names: tuple[str, ...]) -> None:
        if sweep.clean_probs is None:
            self.bar_placeholder.setText("class probabilities not kept (results from a file)")
            self.bar_stack.setCurrentIndex(1)
            return
        adv = None
        if sweep.adv_probs is not None and k < sweep.eps_done:
            adv = sweep.adv_probs[position, k]
        self.bars.show_probs(sweep.clean_probs[position], adv, int(sweep.labels[position]), names)
        self.bar_stack.setCurrentIndex(0)

    def _show_curve(
        self,
        eps: tuple[float, ...],
        sweep: ModelSweep,
        position: int,
        k: int,
        same_example: bool = False,
    ) -> None:
        label, done = int(sweep.labels[position]), sweep.eps_done
        probs = sweep.adv_probs
        if probs is None or done == 0 or not 0 <= label < probs.shape[-1]:
            why = "no adversarial probabilities yet" if done == 0 else "probabilities not kept"
            self.curve_placeholder.setText(why)
            self.curve_stack.setCurrentIndex(1)
            return
        values = probs[position, :done, label].astype(float)
        if same_example and self.curve_stack.currentIndex() == 0:
            self.true_prob.show_marker(values, eps[k], k)
            return
        self.true_prob.set_grid(eps)
        self.true_prob.show_curve(np.asarray(eps[:done], dtype=float), values, eps[k], k)
        self.curve_stack.setCurrentIndex(0)


class DetailPanel(QWidget):
    """The selected example under every loaded model, at the current ε."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailPanel")
        self.view: ResultsView | None = None
        self.position: int | None = None
        self.eps_index = 0
        self.hidden = False  # the example is filtered out of the examples table
        self.columns: list[ModelColumn] = []
        self._clean_cache: dict[int, np.ndarray | None] = {}
        self.header = StableCaption(fit=True)  # its ε changes per slider move: no relayout
        self.threat_label = _caption()
        self.threat_label.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.running = False
        self.saliency_controls = SaliencyControls()
        self.saliency = SaliencyService(self)
        self.saliency.ready.connect(self._saliency_arrived)
        self.saliency.failed.connect(self._saliency_failed)
        self.saliency.concentrationReady.connect(self._concentration_arrived)
        self.saliency_controls.computeChanged.connect(self._update_saliency)
        self.saliency_controls.displayChanged.connect(self._update_saliency)
        self._columns_widget = QWidget()
        self._grid = QGridLayout(self._columns_widget)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(6)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._columns_widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.threat_label)
        layout.addWidget(scroll, 1)
        self.show_example(None, 0)

    def set_view(self, view: ResultsView | None) -> None:
        """Use new results; columns are rebuilt only when the number of models changes."""
        self.view = view
        self._clean_cache.clear()
        models = [] if view is None else view.models
        if len(models) != len(self.columns):
            self._rebuild_columns(len(models))
        for i, (column, entry) in enumerate(zip(self.columns, models, strict=True)):
            column.set_model(entry.info.name, model_color(i))
        self._match_models()
        self.show_example(self.position, self.eps_index, self.hidden)

    def refresh(self) -> None:
        """Show the current example again, e.g. after the view received a new snapshot."""
        self.show_example(self.position, self.eps_index, self.hidden)

    def show_example(self, position: int | None, eps_index: int, hidden: bool = False) -> None:
        """Show row `position` of the sweep arrays (the same for every model) at ε_eps_index;
        `hidden`: the examples table's filters leave it out at this ε (the header says so)."""
        self.position, self.eps_index, self.hidden = position, eps_index, hidden
        view = self.view
        if view is None:
            self.header.setText(_grey("No results yet: run an evaluation or open a results file."))
            self.threat_label.setText("")
            return
        k = min(max(int(eps_index), 0), len(view.eps) - 1)
        self._show_threat(view)
        if position is None:
            self.header.setText(_grey("Select an example to see it under every model."))
            for column in self.columns:
                column.show_missing("no example selected")
            return
        self._show_header(view, position, k)
        for i, column in enumerate(self.columns):
            column.show_example(view, i, position, k, self._clean_image(i, position))
        self._update_saliency()

    # -- saliency -------------------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        """While an attack runs, the concentration score (a pass over every example, which
        competes with the attack and the event loop for the interpreter) waits."""
        self.running = running
        if not running:
            self._update_saliency()

    def set_models(self, models: list) -> None:
        """The loaded models (LoadedModel), matched to the view's models by name."""
        self._loaded = list(models)
        self._match_models()
        self._update_saliency()

    def _match_models(self) -> None:
        loaded = getattr(self, "_loaded", [])
        self.saliency.set_models([] if self.view is None else self.view.loaded_models(loaded))

    def _requests(self) -> list[tuple[int, SaliencyRequest | str]]:
        """Per model column: what to show (a request) or why nothing can be shown."""
        view, position, k = self.view, self.position, self.eps_index
        if view is None or position is None:
            return []
        controls = self.saliency_controls
        found: list[tuple[int, SaliencyRequest | str]] = []
        for i in range(len(self.columns)):
            s = view.sweep(i)
            if s is None or not 0 <= position < len(s.labels):
                continue
            clean = self._clean_image(i, position)
            if clean is None:
                found.append((i, "image not available"))
                continue
            done = s.eps_done > 0 and k < s.eps_done
            adv_pred = int(s.adv_pred[position, k]) if done else int(s.clean_pred[position])
            target = {
                "true": int(s.labels[position]),
                "clean": int(s.clean_pred[position]),
                "adversarial": adv_pred,
            }[controls.target]
            adversarial = view.adversarial_image(i, position, k) if done else None
            request = SaliencyRequest(
                i, int(s.indices[position]), k, controls.method, target, clean, adversarial
            )
            found.append((i, request))
        return found

    def _update_saliency(self) -> None:
        """Show cached maps at once; ask the service for the rest (in the background)."""
        if self.view is None:
            return
        method = self.saliency_controls.method
        wanted = []
        for i, request in self._requests():
            column = self.columns[i]
            if isinstance(request, str):
                column.show_saliency_message(request)
                continue
            maps = self.saliency.maps(request)
            if maps is not None:
                column.show_saliency(request, maps, self.saliency_controls, self._eps_label())
            elif request.key in self.saliency.failures:
                column.show_saliency_message(self.saliency.failures[request.key])
            else:
                column.show_saliency_message("computing…")
                wanted.append(request)
            s = self.view.sweep(i)
            if s is not None and not self.running:  # a whole-set pass: not beside an attack
                self.saliency.request_concentration(i, method, self.view.dataset, s.indices)
            waiting = "after the run" if self.running else "computing…"
            column.show_concentration(self.saliency.concentration.get((i, method), waiting))
        self.saliency.request(wanted)

    def _eps_label(self) -> str:
        return "" if self.view is None else _eps_text(self.view.eps[self.eps_index])

    def _is_current(self, request: SaliencyRequest) -> bool:
        current = dict(self._requests()).get(request.model_index)
        return isinstance(current, SaliencyRequest) and current.key == request.key

    def _saliency_arrived(self, request: SaliencyRequest) -> None:
        if self._is_current(request):
            self.columns[request.model_index].show_saliency(
                request, self.saliency.maps(request), self.saliency_controls, self._eps_label()
            )

    def _saliency_failed(self, request: SaliencyRequest, reason: str) -> None:
        if self._is_current(request):
            self.columns[request.model_index].show_saliency_message(reason)

    def _concentration_arrived(self, index: int, method: str, summary) -> None:
        if method == self.saliency_controls.method and 0 <= index < len(self.columns):
            self.columns[index].show_concentration(summary)

    def _rebuild_columns(self, count: int) -> None:
        for i, column in enumerate(self.columns):
            for widget in column.widgets():
                self._grid.removeWidget(widget)
                widget.deleteLater()
            column.deleteLater()
            self._grid.setColumnStretch(i, 0)
            self._grid.setColumnMinimumWidth(i, 0)
        self.columns = [ModelColumn(self) for _ in range(count)]
        for i, column in enumerate(self.columns):
            column.place(self._grid, i)
            self._grid.setColumnStretch(i, 1)
            self._grid.setColumnMinimumWidth(i, COLUMN_MIN_WIDTH)
        self._grid.removeWidget(self.saliency_controls)
        if self.columns:  # spare height goes below the last row, not between the rows
            self._grid.setRowStretch(3 + len(self.columns[0].body), 1)
            row = self.columns[0].saliency_row
            self._grid.addWidget(self.saliency_controls, row, 0, 1, count)
        self.saliency_controls.setVisible(bool(self.columns))

    def _show_threat(self, view: ResultsView) -> None:
        threat = view.threat
        self.threat_label.setText(
            _grey(f"{NORM_SYMBOLS[threat.norm]} · {threat.attack_label()} · attack-based")
        )
        self.threat_label.setToolTip(threat.describe())

    def _show_header(self, view: ResultsView, position: int, k: int) -> None:
        eps = f"{NORM_SYMBOLS[view.threat.norm]} ε = <b>{format_eps(view.eps[k])}</b>"
        sweeps = [m.sweep for m in view.models if m.sweep is not None]
        sweep = next((s for s in sweeps if position < len(s.labels)), None)
        if sweep is None or position < 0:
            self.header.setText(f"Example at row {position} · {eps} · {_grey('no results yet')}")
            return
        index, label = int(sweep.indices[position]), int(sweep.labels[position])
        name = _class_name(view.dataset_info.class_names, label)
        note = f" · {_grey('filtered out of the table here')}" if self.hidden else ""
        self.header.setText(f"<b>Example #{index}</b> · true label <b>{name}</b> · {eps}{note}")
        self.header.setToolTip(
            f"Dataset index {index} (row {position} of the evaluated subset); "
            f"the true label is class {label}."
        )

    def _clean_image(self, index: int, position: int) -> np.ndarray | None:
        """The clean image, decoded once per dataset index (slider moves reuse it)."""
        view = self.view
        sweep = None if view is None else view.sweep(index)
        if view is None or sweep is None or not 0 <= position < len(sweep.indices):
            return None
        key = int(sweep.indices[position])
        if key not in self._clean_cache:
            if len(self._clean_cache) >= CLEAN_CACHE_SIZE:
                self._clean_cache.clear()
            try:
                self._clean_cache[key] = view.clean_image(index, position)
            except Exception:  # an unreadable file must not break the panel: show the text
                self._clean_cache[key] = None
        return self._clean_cache[key]
