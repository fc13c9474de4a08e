"""The ε slider and the headline numbers at the chosen ε.

The slider moves over the computed ε grid (indices); moving it is a lookup, never a
recomputation. Headline: per model, clean accuracy, robust accuracy (an upper bound)
and boundary-error rate at ε.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from inspector.core.threat import NORM_SYMBOLS, format_eps
from inspector.core.view import ResultsView
from inspector.gui.colors import model_color


class EpsBar(QWidget):
    epsIndexChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view: ResultsView | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="epsSlider")
        self.slider.setRange(0, 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Perturbation budget ε: moves over the computed ε grid")
        self.value_label = QLabel("ε = –", objectName="epsValue")
        self.value_label.setMinimumWidth(120)
        row.addWidget(QLabel("ε"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        layout.addLayout(row)
        self.headline = QLabel(objectName="headline")
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.headline.setWordWrap(True)
        self.headline.setToolTip(
            "Robust accuracy is measured by an attack: an upper bound on the true robust "
            "accuracy (a stronger attack can only lower it).\nBoundary error: correct on the "
            "clean input, but flipped by a perturbation inside the ε-ball."
        )
        layout.addWidget(self.headline)
        self.slider.valueChanged.connect(self._on_value)

    @property
    def eps_index(self) -> int:
        return self.slider.value()

    def set_view(self, view: ResultsView | None) -> None:
        self.view = view
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0 if view is None else len(view.eps) - 1)
        self.slider.setValue(0 if view is None else len(view.eps) // 2)
        self.slider.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the label and the headline at the current ε (new results may have come)."""
        if self.view is None:
            self.value_label.setText("ε = –")
            self.headline.setText("Run an evaluation to see the tradeoff.")
            return
        k = self.slider.value()
        norm = NORM_SYMBOLS[self.view.threat.norm]
        self.value_label.setText(f"{norm} ε = {format_eps(self.view.eps[k])}")
        self.headline.setText(self._headline_html(k))

    def _headline_html(self, k: int) -> str:
        parts = []
        for i, entry in enumerate(self.view.models):
            r = self.view.rates(i, k)
            name = f"<b style='color:{model_color(i)}'>{entry.info.name}</b>"
            if r is None:
                parts.append(f"{name}: not computed yet")
                continue
            parts.append(
                f"{name}: clean {r.clean_accuracy:.1%} · robust ≤ {r.robust_accuracy:.1%} · "
                f"boundary errors {r.boundary_error_rate:.1%}"
            )
        return "<br>".join(parts)

    def _on_value(self, k: int) -> None:
        self.refresh()
        self.epsIndexChanged.emit(k)
