"""The ε slider and the headline numbers at the chosen ε.

The slider moves over the computed ε grid (indices); moving it is a lookup, never a
recomputation. Headline: per model, clean accuracy, robust accuracy (an upper bound)
and boundary-error rate at ε.

When every model's results carry a per-example radius (the FMN minimum-norm attack),
robust accuracy is known at every ε, so the slider moves freely in fine steps; the
table and the detail panel then show the grid point at or below that ε.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from inspector.core.checks.result import WARNING_MARK
from inspector.core.threat import NORM_SYMBOLS, format_eps
from inspector.core.view import ResultsView
from inspector.gui.caption import StableCaption
from inspector.render.palette import CHECK_COLORS, model_color

FINE_STEPS = 300  # slider positions over [0, ε max] when radii make any ε exact


class EpsBar(QWidget):
    epsIndexChanged = Signal(int)  # the grid point at or below ε
    epsValueChanged = Signal(float)  # ε itself (between grid points in fine mode)

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
        # Both change on every move: boxes whose size does not follow their text (a QLabel
        # would make the window run its layout again each time).
        self.value_label = StableCaption(1, Qt.AlignmentFlag.AlignRight, objectName="epsValue")
        self.value_label.setText("ε = –")
        self.value_label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        room = self.value_label.fontMetrics().horizontalAdvance("L∞ ε = 0.000000") + 8
        self.value_label.setMinimumWidth(max(120, room))
        row.addWidget(QLabel("ε"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)
        layout.addLayout(row)
        self.headline = StableCaption(fit=True, objectName="headline")
        self.headline.setToolTip(
            "Robust accuracy is measured by an attack: an upper bound on the true robust "
            "accuracy (a stronger attack can only lower it).\nBoundary error: correct on the "
            "clean input, but flipped by a perturbation inside the ε-ball."
        )
        layout.addWidget(self.headline)
        self.slider.valueChanged.connect(self._on_value)
        self.fine = False
        self._last_index = 0

    @property
    def eps_index(self) -> int:
        """The grid point shown by the table and the detail panel."""
        if not self.fine or self.view is None:
            return self.slider.value()
        return max(0, bisect.bisect_right(self.view.eps, self.eps_value + 1e-12) - 1)

    @property
    def eps_value(self) -> float:
        if self.view is None:
            return 0.0
        if self.fine:
            return max(self.view.eps) * self.slider.value() / FINE_STEPS
        return self.view.eps[self.slider.value()]

    def set_eps_index(self, k: int) -> None:
        """Go to grid point k (in fine mode, to the slider position nearest to it)."""
        if self.view is None or not 0 <= k < len(self.view.eps):
            return
        if self.fine:
            top = max(self.view.eps) or 1.0
            self.slider.setValue(round(FINE_STEPS * self.view.eps[k] / top))
        else:
            self.slider.setValue(k)

    def set_view(self, view: ResultsView | None) -> None:
        self.view = view
        self.fine = False
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0 if view is None else len(view.eps) - 1)
        self.slider.setValue(0 if view is None else len(view.eps) // 2)
        self.slider.blockSignals(False)
        self._last_index = self.slider.value()
        self.refresh()

    def _fine_possible(self) -> bool:
        view = self.view
        return (
            view is not None
            and len(view.models) > 0
            and all(view.rates_between(i, 0.0) is not None for i in range(len(view.models)))
        )

    def _set_fine(self, fine: bool) -> None:
        """Switch between grid steps and free steps, keeping the ε shown."""
        k = self.eps_index
        self.fine = fine
        self.slider.blockSignals(True)
        self.slider.setRange(0, FINE_STEPS if fine else len(self.view.eps) - 1)
        self.slider.setTickInterval(FINE_STEPS // 10 if fine else 1)
        self.set_eps_index(k)
        self.slider.blockSignals(False)
        self.slider.setToolTip(
            "Perturbation budget ε: moves freely; every example's own radius (FMN) gives "
            "the rates at any ε, the table shows the grid point at or below it"
            if fine
            else "Perturbation budget ε: moves over the computed ε grid"
        )

    def refresh(self) -> None:
        """Redraw the label and the headline at the current ε (new results may have come)."""
        if self.view is None:
            self.value_label.setText("ε = –")
            self.headline.setText("Run an evaluation to see the tradeoff.")
            return
        if self._fine_possible() != self.fine:
            self._set_fine(not self.fine)
        self._redraw()

    def _redraw(self) -> None:
        """The label and the headline at the slider's ε (what a move changes)."""
        norm = NORM_SYMBOLS[self.view.threat.norm]
        self.value_label.setText(f"{norm} ε = {format_eps(self.eps_value)}")
        self.headline.setText(self._headline_html(self.eps_index))

    def rates(self, i: int, k: int):
        """Model i's rates at the slider's ε: from the radii in fine mode, else at grid k."""
        if self.fine:
            return self.view.rates_between(i, self.eps_value)
        return self.view.rates(i, k)

    def _headline_html(self, k: int) -> str:
        parts, notes = [], []
        for i, entry in enumerate(self.view.models):
            r = self.rates(i, k)
            name = f"<b style='color:{model_color(i)}'>{entry.info.name}</b>"
            if (note := self.view.warning(i)) is not None:  # the mark; the why on hover
                name += f" <b style='color:{CHECK_COLORS['warning']}'>{WARNING_MARK}</b>"
                notes.append(f"{entry.info.name}: {note}")
            if r is None:
                parts.append(f"{name}: not computed yet")
                continue
            parts.append(
                f"{name}: clean {r.clean_accuracy:.1%} · robust ≤ {r.robust_accuracy:.1%} · "
                f"boundary errors {r.boundary_error_rate:.1%}"
            )
        self.headline.setToolTip("\n\n".join(notes))
        return "<br>".join(parts)

    def _on_value(self, _position: int) -> None:
        # Whether fine steps are possible changes only with new results (refresh), not here:
        # deciding it computes every model's rates from the radii.
        if self.view is not None:
            self._redraw()
        k = self.eps_index
        if self.fine:
            self.epsValueChanged.emit(self.eps_value)
        if k != self._last_index or not self.fine:
            self._last_index = k
            self.epsIndexChanged.emit(k)
