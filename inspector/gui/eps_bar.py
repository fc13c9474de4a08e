"""The ε slider and the headline numbers at the chosen ε.

The slider moves over the computed ε grid (indices); moving it is a lookup, never a
recomputation. Headline: per model, clean accuracy, robust accuracy (an upper bound)
and boundary-error rate at ε.

When every model's results carry a per-example radius (the FMN minimum-norm attack),
robust accuracy is known at every ε, so the slider moves freely in fine steps; the
table and the detail panel then show the grid point at or below that ε.

The cursor itself lives in the session (core/session.py): the slider writes it there and
follows it from there, like every other panel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from inspector.core.checks.result import WARNING_MARK
from inspector.core.session import EpsCursor, Session
from inspector.core.threat import NORM_SYMBOLS, format_eps
from inspector.core.view import ResultsView
from inspector.gui.caption import StableCaption
from inspector.gui.colors import model_text_color

FINE_STEPS = 300  # slider positions over [0, ε max] when radii make any ε exact
KEYS_TIP = " ] or Alt+Right / [ or Alt+Left step ε from anywhere in the window."
GRID_TIP = "Perturbation budget ε: moves over the computed ε grid." + KEYS_TIP
FINE_TIP = (
    "Perturbation budget ε: moves freely; every example's own radius (FMN) gives "
    "the rates at any ε, the table shows the grid point at or below it." + KEYS_TIP
)

# The window's keys for ε (menu Examples; they work wherever the focus is, except in a text
# field, which keeps its own keys): one grid point up or down.
EPS_STEPS = (
    ("&Larger ε (next grid point)", 1, ("]", "Alt+Right")),
    ("&Smaller ε (previous grid point)", -1, ("[", "Alt+Left")),
)


class EpsBar(QWidget):
    """The slider over the session's ε cursor, and the headline rates at that ε."""

    def __init__(self, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session if session is not None else Session()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="epsSlider")
        self.slider.setRange(0, 0)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(1)
        self.slider.setPageStep(1)
        self.slider.setToolTip(GRID_TIP)
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
        self.slider.valueChanged.connect(self._on_slider)
        self.session.view_changed.connect(lambda _view: self._follow())
        self.session.results_changed.connect(lambda _none: self._follow())
        self.session.eps_changed.connect(self._on_cursor)
        self._fine_slider = False  # the slider's range: FINE_STEPS positions or grid points
        self._follow()

    @property
    def view(self) -> ResultsView | None:
        return self.session.view

    @property
    def fine(self) -> bool:
        return self.session.eps.fine

    @property
    def eps_index(self) -> int:
        """The grid point shown by the table and the detail panel."""
        return self.session.eps.index

    @property
    def eps_value(self) -> float:
        return self.session.eps.value

    def set_eps_index(self, k: int) -> None:
        """Go to grid point k (in fine mode, to ε = that grid point)."""
        self.session.set_eps_index(k)

    def _position(self, cursor: EpsCursor) -> int:
        """The slider position that shows the cursor."""
        if not cursor.fine:
            return cursor.index
        top = max(self.session.grid) or 1.0
        return round(FINE_STEPS * cursor.value / top)

    def _on_slider(self, position: int) -> None:
        """The user moved the slider: the session moves, and tells everyone once."""
        session = self.session
        if not session.grid:
            return
        if session.eps.fine:
            session.set_eps_value(max(session.grid) * position / FINE_STEPS)
        else:
            session.set_eps_index(position)

    def _on_cursor(self, cursor: EpsCursor) -> None:
        if cursor.fine != self._fine_slider:
            self._set_range(cursor.fine)
        self._place(cursor)
        self._redraw()

    def _place(self, cursor: EpsCursor) -> None:
        if self.slider.value() != (position := self._position(cursor)):
            self.slider.blockSignals(True)
            self.slider.setValue(position)
            self.slider.blockSignals(False)

    def _set_range(self, fine: bool) -> None:
        """Grid steps or free steps (the session keeps the ε shown)."""
        self._fine_slider = fine
        self.slider.blockSignals(True)
        grid = self.session.grid
        self.slider.setRange(0, FINE_STEPS if fine else max(0, len(grid) - 1))
        self.slider.setTickInterval(FINE_STEPS // 10 if fine else 1)
        self.slider.blockSignals(False)
        self.slider.setToolTip(FINE_TIP if fine else GRID_TIP)

    def _follow(self) -> None:
        """Other or newer results: the slider's range and place, the label and headline."""
        self._set_range(self.session.eps.fine)
        self._place(self.session.eps)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the label and the headline at the current ε (new results may have come)."""
        if self.view is None:
            self.value_label.setText("ε = –")
            self.headline.setText("Run an evaluation to see the tradeoff.")
            return
        self._redraw()

    def _redraw(self) -> None:
        """The label and the headline at the cursor's ε (what a move changes)."""
        if self.view is None:
            return
        norm = NORM_SYMBOLS[self.view.threat.norm]
        self.value_label.setText(f"{norm} ε = {format_eps(self.eps_value)}")
        self.headline.setText(self._headline_html(self.eps_index))

    def rates(self, i: int, k: int):
        """Model i's rates at the cursor's ε: from the radii in fine mode, else at grid k."""
        if self.fine:
            return self.view.rates_between(i, self.eps_value)
        return self.view.rates(i, k)

    def changeEvent(self, event: QEvent) -> None:
        """Model names are coloured for the background: a new palette redraws them."""
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "view", None) is not None:
            self._redraw()
        super().changeEvent(event)

    def _headline_html(self, k: int) -> str:
        parts, notes = [], []
        for i, entry in enumerate(self.view.models):
            r = self.rates(i, k)
            name = f"<b style='color:{model_text_color(self, i)}'>{entry.info.name}</b>"
            if (note := self.view.warning(i)) is not None:  # the mark; the why on hover
                name += f" <b>{WARNING_MARK}</b>"  # no hue: vermillion would name a model
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
