"""Saliency in the detail panel: pickers, a background computer with a cache, a colour bar.

Maps are computed by the core (inspector.core.saliency, captum underneath) in a superqt
worker, one request at a time; a newer request replaces a queued one, so moving through
examples quickly never piles up work. Display choices (signed or absolute, opacity) only
re-colour cached maps. The concentration score (share of |attribution| on the digit) is
computed once per model and method over the evaluated examples.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QWidget,
)

from inspector.core.models.base import LoadedModel
from inspector.core.saliency import METHODS, TARGET_CHOICES, attribute, colormap
from inspector.core.saliency.concentration import model_concentration
from inspector.gui.workers import release, start_worker

CACHE_SIZE = 256  # (model, example, ε, method, target) entries kept
TARGET_LABELS = {
    "true": "true label",
    "clean": "clean prediction",
    "adversarial": "adversarial prediction",
}


@dataclass(frozen=True, eq=False)
class SaliencyRequest:
    """Maps of one example for one model: the clean input and the adversarial one at ε_k."""

    model_index: int
    dataset_index: int
    eps_index: int
    method: str
    target_class: int
    clean: np.ndarray  # C×H×W
    adversarial: np.ndarray | None  # None where no adversarial image is kept

    @property
    def key(self) -> tuple:
        adv = self.eps_index if self.adversarial is not None else None
        return (self.model_index, self.dataset_index, adv, self.method, self.target_class)


class SaliencyControls(QWidget):
    """Method, target class, signed or absolute, overlay opacity: shared by every model."""

    computeChanged = Signal()  # method or target: maps must be computed again
    displayChanged = Signal()  # signed or opacity: cached maps are only re-coloured

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.method_combo = QComboBox(objectName="saliencyMethod")
        for name, method in METHODS.items():
            self.method_combo.addItem(method.label, name)
        self.method_combo.setToolTip(
            "Attribution method (captum). Vanilla gradient: the input gradient of the target "
            "logit. SmoothGrad: its average under Gaussian noise. Integrated Gradients: path "
            "integral from a black image (sums to f(x) − f(black)). Grad-CAM: last conv layer."
        )
        self.target_combo = QComboBox(objectName="saliencyTarget")
        for choice in TARGET_CHOICES:
            self.target_combo.addItem(TARGET_LABELS[choice], choice)
        self.target_combo.setToolTip(
            "Which class the maps explain; the clean and adversarial maps explain the same one"
        )
        self.signed_box = QCheckBox("signed", objectName="saliencySigned")
        self.signed_box.setChecked(True)
        self.signed_box.setToolTip(
            "Signed: magenta raises the target logit, green lowers it. Off: |attribution|."
        )
        self.opacity = QSlider(Qt.Orientation.Horizontal, objectName="saliencyOpacity")
        self.opacity.setRange(0, 100)
        self.opacity.setValue(80)
        self.opacity.setFixedWidth(60)
        self.opacity.setToolTip("Opacity of the map over the image")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Saliency</b>")
        title.setToolTip(self.method_combo.toolTip())
        for widget in (
            title,
            self.method_combo,
            QLabel("of"),
            self.target_combo,
            self.signed_box,
            self.opacity,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)
        for combo in (self.method_combo, self.target_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.method_combo.currentIndexChanged.connect(self.computeChanged)
        self.target_combo.currentIndexChanged.connect(self.computeChanged)
        self.signed_box.toggled.connect(self.displayChanged)
        self.opacity.valueChanged.connect(self.displayChanged)

    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    @property
    def target(self) -> str:
        return self.target_combo.currentData()

    @property
    def signed(self) -> bool:
        return self.signed_box.isChecked()

    @property
    def alpha(self) -> float:
        return self.opacity.value() / 100.0

    def state(self) -> dict:
        return {"method": self.method, "target": self.target, "signed": self.signed,
                "opacity": self.opacity.value()}  # fmt: skip

    def restore_state(self, state: dict) -> None:
        for combo, key in ((self.method_combo, "method"), (self.target_combo, "target")):
            found = combo.findData(state.get(key))
            if found >= 0:
                combo.setCurrentIndex(found)
        if isinstance(state.get("signed"), bool):
            self.signed_box.setChecked(state["signed"])
        if isinstance(state.get("opacity"), int):
            self.opacity.setValue(state["opacity"])


class SaliencyService(QObject):
    """Computes maps off the GUI thread, newest request first, and caches them."""

    ready = Signal(object)  # SaliencyRequest whose maps are now in the cache
    failed = Signal(object, str)  # SaliencyRequest, one-line reason
    concentrationReady = Signal(int, str, object)  # model index, method, summary or None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models: list[LoadedModel | None] = []
        self.cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self.failures: dict[tuple, str] = {}
        self.concentration: dict[tuple[int, str], object] = {}
        self._queue: list[SaliencyRequest] = []
        self._worker = None
        self._concentration_worker = None
        self._concentration_queue: list[Callable[[], None]] = []

    @property
    def busy(self) -> bool:
        """Maps or scores still being computed (automation waits before a screenshot)."""
        return bool(
            self._worker is not None
            or self._queue
            or self._concentration_worker is not None
            or self._concentration_queue
        )

    def set_models(self, models: list[LoadedModel | None]) -> None:
        """The loaded models, by the view's model index (None where a model is not loaded)."""
        self.models = list(models)
        self.cache.clear()
        self.failures.clear()
        self.concentration.clear()

    def model(self, index: int) -> LoadedModel | None:
        return self.models[index] if 0 <= index < len(self.models) else None

    def maps(self, request: SaliencyRequest) -> np.ndarray | None:
        return self.cache.get(request.key)

    def request(self, requests: list[SaliencyRequest]) -> None:
        """Compute what is not cached; replaces whatever was still waiting."""
        self._queue = [
            r for r in requests if r.key not in self.cache and r.key not in self.failures
        ]
        if self._worker is None:
            self._next()

    def _next(self) -> None:
        self._worker = None
        if not self._queue:
            return
        request = self._queue.pop(0)
        model = self.model(request.model_index)
        if model is None:
            self._fail(request, "the model file is not loaded (open it to compute saliency)")
            self._next()
            return
        images = [request.clean]
        if request.adversarial is not None:
            images.append(request.adversarial)
        x = np.stack(images).astype(np.float32)
        target = np.full(len(x), request.target_class, dtype=np.int64)
        self._worker = start_worker(
            attribute, model, x, target, request.method,
            returned=lambda result, r=request: self._store(r, result.maps),
            errored=lambda exc, r=request: self._fail(r, str(exc)),
            finished=self._done,
        )  # fmt: skip

    def _done(self) -> None:
        release(self._worker)
        self._next()

    def _store(self, request: SaliencyRequest, maps: np.ndarray) -> None:
        self.cache[request.key] = maps
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        self.ready.emit(request)

    def _fail(self, request: SaliencyRequest, reason: str) -> None:
        self.failures[request.key] = reason
        self.failed.emit(request, reason)

    def wait(self, timeout_ms: int = 10_000) -> None:
        self._queue.clear()
        self._concentration_queue.clear()
        for worker in (self._worker, self._concentration_worker):
            if worker is not None:
                worker.await_workers(timeout_ms)
                release(worker)  # its queued callbacks may never run now

    # -- the number beside the picture ----------------------------------------------------

    def request_concentration(self, index: int, method: str, dataset, indices) -> None:
        """Score one model over the evaluated examples (once per model and method)."""
        model = self.model(index)
        key = (index, method)
        if model is None or dataset is None or key in self.concentration:
            return
        self.concentration[key] = "computing"

        def start() -> None:
            self._concentration_worker = start_worker(
                model_concentration, model, dataset, np.asarray(indices), method,
                returned=lambda summary: self._scored(key, summary),
                errored=lambda exc: self._scored(key, f"not available: {exc}"),
                finished=self._next_concentration,
            )  # fmt: skip

        self._concentration_queue.append(start)
        if self._concentration_worker is None:
            self._next_concentration()

    def _next_concentration(self) -> None:
        release(self._concentration_worker)
        self._concentration_worker = None
        if self._concentration_queue:
            self._concentration_queue.pop(0)()

    def _scored(self, key: tuple[int, str], summary) -> None:
        self.concentration[key] = summary
        self.concentrationReady.emit(key[0], key[1], summary)


class ColorBar(QWidget):
    """The colour map with its scale in the map's units: what a colour means, in numbers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.signed, self.scale, self.unit = True, 0.0, ""
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def set_scale(self, signed: bool, scale: float, unit: str) -> None:
        if (signed, scale, unit) == (self.signed, self.scale, self.unit):
            return
        self.signed, self.scale, self.unit = signed, scale, unit
        self.setToolTip(
            f"Colour scale: full colour = {scale:.3g} {unit} or more"
            + (" (magenta raises the target logit, green lowers it)" if signed else "")
        )
        self.update()

    def paintEvent(self, event) -> None:
        if self.scale <= 0:
            return
        painter = QPainter(self)
        width = max(1, self.width() - 8)
        values = np.linspace(-1 if self.signed else 0, 1, width, dtype=np.float32)
        rgb = np.ascontiguousarray(np.repeat(colormap(values, self.signed)[None], 10, axis=0))
        image = QImage(rgb.data, width, 10, 3 * width, QImage.Format.Format_RGB888).copy()
        painter.drawImage(QRectF(4, 2, width, 10), image)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 0.8)
        painter.setFont(font)
        low = f"−{self.scale:.2g}" if self.signed else "0"
        box = QRectF(4, 13, width, self.height() - 13)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignLeft), low)
        painter.drawText(box, int(Qt.AlignmentFlag.AlignRight), f"+{self.scale:.2g}")
        if self.signed:
            painter.drawText(box, int(Qt.AlignmentFlag.AlignHCenter), "0")
