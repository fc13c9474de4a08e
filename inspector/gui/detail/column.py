"""One model's column of the detail panel: images, status, probabilities, saliency."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QWidget,
)

from inspector.core.saliency import METHODS, overlay, to_display
from inspector.core.sweep import ModelSweep
from inspector.core.view import ResultsView
from inspector.gui.caption import StableCaption
from inspector.gui.colors import status_chip
from inspector.gui.detail.small_plots import BarChart, TrueClassPlot
from inspector.gui.detail.text import (
    BASELINE_CAVEAT,
    CONCENTRATION_TIP,
    MAX_IMAGE,
    MESSAGE_LINES,
    NBSP,
    SHY,
    STATUS_TIPS,
    TIPS,
    WJ,
    adversarial_note,
    breaking_text,
    eps_size,
    eps_text,
    grey,
    prediction_text,
)
from inspector.gui.detail.tiles import ImageTile, caption, placeholder, small_font, stacked
from inspector.gui.detail.zoom import ZoomDialog
from inspector.gui.saliency_view import (
    ColorBar,
    SaliencyControls,
    SaliencyRequest,
)
from inspector.render.images import format_factor, perturbation_image


def chw(rgb: np.ndarray) -> np.ndarray:
    """uint8 H×W×3 → float C×H×W in [0, 1], what the image tiles draw."""
    return np.moveaxis(rgb.astype(np.float32) / 255.0, -1, 0)


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
        self.status_label.setFont(small_font(self.status_label, 0.95))
        self.breaking_label = caption(tip=TIPS["breaking"])
        self.clean = ImageTile(TIPS["clean"])
        self.adversarial = ImageTile(TIPS["adversarial"])
        self.perturbation = ImageTile(TIPS["perturbation"])
        self.saliency_clean = ImageTile(TIPS["saliency_clean"])
        self.saliency_adv = ImageTile(TIPS["saliency_adv"])
        self.model_name = ""
        self.zoom_dialog: ZoomDialog | None = None
        for tile in (self.clean, self.adversarial, self.perturbation):
            tile.view.on_double_click = self.open_zoom
        self.saliency_bar = ColorBar()
        self.concentration_label = caption(tip=CONCENTRATION_TIP, scale=0.85)
        self.bars = BarChart()
        self.bar_placeholder = placeholder()
        self.bar_stack = stacked(self.bars, self.bar_placeholder)
        self.true_prob = TrueClassPlot()
        self.curve_placeholder = placeholder()
        self.curve_stack = stacked(self.true_prob, self.curve_placeholder)
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
        self.max_image = MAX_IMAGE  # the tiles' largest side: MAX_IMAGE × the window's zoom

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
        side = max(40, min(self.max_image, side))
        for tile in (
            self.clean,
            self.adversarial,
            self.perturbation,
            self.saliency_clean,
            self.saliency_adv,
        ):
            tile.set_side(side, self.max_image)

    def set_zoom(self, zoom: float) -> None:
        """Larger tiles (and room for them) at the window's zoom factor."""
        self.max_image = round(MAX_IMAGE * zoom)
        self._fit_images()

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

    def open_zoom(self) -> ZoomDialog:
        """The large view of what the column shows: clean, adversarial and δ, one factor."""
        if self.zoom_dialog is not None:
            self.zoom_dialog.close()
        entries = [
            (title, tile.view.image, tile.caption.text())
            for title, tile in (
                ("clean", self.clean),
                ("adversarial", self.adversarial),
                ("perturbation", self.perturbation),
            )
        ]
        parent = self.clean.window()
        self.zoom_dialog = ZoomDialog(f"{self.model_name}: one example, large", entries, parent)
        self.zoom_dialog.destroyed.connect(self._zoom_closed)
        self.zoom_dialog.show()
        return self.zoom_dialog

    def _zoom_closed(self, *_args: object) -> None:
        self.zoom_dialog = None

    def set_model(self, name: str, color: str) -> None:
        self.model_name = name
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
        self.saliency_clean.show_image(chw(image), f"saliency, clean<br>{what}")
        if request.adversarial is None or len(shown.values) < 2:
            self.saliency_adv.show_image(None, "saliency, adversarial", "no adversarial image")
        else:
            image = overlay(request.adversarial, shown.values[1], shown.signed, controls.alpha)
            self.saliency_adv.show_image(chw(image), f"saliency, adversarial,<br>{eps}<br>{what}")
        self.saliency_bar.set_scale(shown.signed, shown.scale, method.unit)

    def show_concentration(self, summary) -> None:
        if summary is None:
            self.concentration_label.setText(grey("no concentration score for this data"))
        elif isinstance(summary, str):
            self.concentration_label.setText(grey(f"concentration: {summary}"))
        else:
            what = "on the digit" if summary.measure == "object_share" else "edge alignment"
            detail = (
                f"(95% CI {summary.ci_low:.0%}–{summary.ci_high:.0%}, "
                f"uniform map {summary.uniform:.0%}, n={summary.n})"
            )
            caveat = f"<br>{BASELINE_CAVEAT}" if summary.note else ""  # the share says little
            share = f"{what}: <b>{summary.mean:.0%}</b> {grey(detail)}"
            self.concentration_label.setText(share + caveat)
            note = f". {summary.note}" if summary.note else ""
            self.concentration_label.setToolTip(f"{summary.describe()}. {summary.caveat}{note}")

    def show_missing(self, message: str) -> None:
        self._shown = None
        self.status_label.set_lines(MESSAGE_LINES)  # room for a sentence in a narrow column
        self.status_label.setText(grey(message))
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
            self.status_label.setText(grey("not computed yet"))
            self.status_label.setToolTip(
                f"This model's sweep has not reached {eps_text(view.eps[k])} yet."
            )
        else:
            self.status_label.setText(status_chip(status))
            self.status_label.setToolTip(STATUS_TIPS[status])
        self.breaking_label.setText(breaking_text(view.eps, sweep, position))

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
            pred = prediction_text(
                names, int(sweep.clean_pred[position]), sweep.clean_conf[position], label
            )
            self.clean.show_image(clean, f"clean<br>{pred}", "image not available")
            self._note_image_size(clean)
        caption = f"adver{SHY}sarial, {eps_text(eps)}"  # may break: narrow columns
        if k >= sweep.eps_done:
            caption += "<br>" + grey("not computed yet")
        else:
            pred = prediction_text(
                names, int(sweep.adv_pred[position, k]), sweep.adv_conf[position, k], label
            )
            caption += f"<br>{pred}<br>{grey(adversarial_note(sweep, position, eps))}"
        adv = view.adversarial_image(index, position, k)
        if adv is None:
            why = "ε not computed yet" if k >= sweep.eps_done else "adversarial images not kept"
            self.adversarial.show_image(None, caption, why)
            self.perturbation.show_image(None, "perturbation δ", why)
            return
        self.adversarial.show_image(adv, caption)
        self._show_delta(clean, adv, view.threat.norm, tuple(view.eps))
        self._note_image_size(adv)

    def _note_image_size(self, image: np.ndarray | None) -> None:
        """Re-fit the tiles when the image size changes (a new dataset)."""
        if image is not None and image.ndim == 3 and max(image.shape[1:]) != self._image_side:
            self._image_side = max(image.shape[1:])
            self._fit_images()

    def _show_delta(
        self, clean: np.ndarray | None, adv: np.ndarray, norm: str, grid: tuple[float, ...]
    ) -> None:
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
        size = eps_size(f"max{NBSP}|{WJ}δ{WJ}|", peak, grid)  # no break at a "|"
        if norm == "l2":
            size += "<br>" + eps_size("‖δ‖₂", float(np.linalg.norm(delta)), grid)
        amplified = f"δ{NBSP}×{format_factor(factor)}"
        self.perturbation.show_image(image, f"pertur{SHY}bation<br>{amplified}<br>{grey(size)}")

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
