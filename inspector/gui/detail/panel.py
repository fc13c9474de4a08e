"""The per-example detail panel: one column per model, clean vs adversarial, side by side.

It is refreshed on every ε-slider move and every selection change, so widgets are built
once (again only when the number of models changes) and an update only swaps images and
plot data. Everything shown is a lookup in `ResultsView`; nothing is recomputed here.
Missing data (no results yet, images not kept, ε not reached) shows grey text, never fails.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from inspector.core.session import Session
from inspector.core.threat import NORM_SYMBOLS, format_eps
from inspector.core.view import ResultsView
from inspector.gui.caption import StableCaption
from inspector.gui.colors import model_text_color
from inspector.gui.detail.column import ModelColumn
from inspector.gui.detail.saliency_control import SaliencyController
from inspector.gui.detail.text import CLEAN_CACHE_SIZE, COLUMN_MIN_WIDTH, class_name, grey
from inspector.gui.detail.tiles import caption
from inspector.gui.saliency_view import SaliencyControls


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
        self.zoom = 1.0  # the window's zoom: tiles and column widths grow with it
        self._clean_cache: dict[int, np.ndarray | None] = {}
        self.header = StableCaption(fit=True)  # its ε changes per slider move: no relayout
        self.threat_label = caption()
        self.threat_label.setAlignment(Qt.AlignmentFlag.AlignLeft)
        self.session: Session | None = None
        self.saliency_controls = SaliencyControls()
        self.saliency_control = SaliencyController(
            self.saliency_controls, lambda: self.columns, self._clean_image, self
        )
        self.saliency = self.saliency_control.service  # the maps, their cache, the scores
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
        self._name_columns()
        self.saliency_control.set_view(view)
        self.show_example(self.position, self.eps_index, self.hidden)

    def _name_columns(self) -> None:
        """Each column's title in its model's colour, readable on this palette."""
        models = [] if self.view is None else self.view.models
        for i, (column, entry) in enumerate(zip(self.columns, models, strict=True)):
            column.set_model(entry.info.name, model_text_color(self, i))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "columns", None):
            self._name_columns()
        super().changeEvent(event)

    def refresh(self) -> None:
        """Show the current example again, e.g. after the view received a new snapshot."""
        self.show_example(self.position, self.eps_index, self.hidden)

    def show_example(self, position: int | None, eps_index: int, hidden: bool = False) -> None:
        """Show row `position` of the sweep arrays (the same for every model) at ε_eps_index;
        `hidden`: the examples table's filters leave it out at this ε (the header says so)."""
        self.position, self.eps_index, self.hidden = position, eps_index, hidden
        view = self.view
        if view is None:
            self.header.setText(grey("No results yet: run an evaluation or open a results file."))
            self.threat_label.setText("")
            return
        k = min(max(int(eps_index), 0), len(view.eps) - 1)
        self._show_threat(view)
        if position is None:
            self.header.setText(grey("Select an example to see it under every model."))
            for column in self.columns:
                column.show_missing("no example selected")
            return
        self._show_header(view, position, k)
        for i, column in enumerate(self.columns):
            column.show_example(view, i, position, k, self._clean_image(i, position))
        self.saliency_control.show(position, eps_index)

    # -- the session and the run --------------------------------------------------------

    def bind(self, session: Session) -> None:
        """Follow the session: other results, newer results (a turn of the event loop later,
        as the table and plots repaint first), the grid point and the chosen example."""
        self.session = session
        refresh_soon = QTimer(self, singleShot=True, interval=0)
        refresh_soon.timeout.connect(self.refresh)

        def show_view(view: ResultsView | None) -> None:
            refresh_soon.stop()
            self.position, self.hidden = session.example.position, session.example.hidden
            self.eps_index = session.eps.index
            self.set_view(view)

        session.view_changed.connect(show_view)
        session.results_changed.connect(lambda _none: refresh_soon.start())
        session.eps_index_changed.connect(lambda _k: self._follow(session))
        session.example_changed.connect(lambda _choice: self._follow(session))
        session.running_changed.connect(self.set_running)

    def _follow(self, session: Session) -> None:
        """Show the session's example at its grid point, unless that is shown already (a
        grid move also re-tells whether the example is hidden: one redraw, not two)."""
        if session.view is not self.view:
            return  # other results are coming: `view_changed` shows them
        choice = session.example
        wanted = (choice.position, session.eps.index, choice.hidden)
        if wanted != (self.position, self.eps_index, self.hidden):
            self.show_example(*wanted)

    def set_running(self, running: bool) -> None:
        """While an attack runs, the whole-set saliency score waits (see the controller)."""
        self.saliency_control.set_running(running)

    def set_models(self, models: list) -> None:
        """The loaded models (LoadedModel), matched to the view's models by name."""
        self.saliency_control.set_models(models)

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
            column.set_zoom(self.zoom)
            self._grid.setColumnStretch(i, 1)
            self._grid.setColumnMinimumWidth(i, round(COLUMN_MIN_WIDTH * self.zoom))
        self._grid.removeWidget(self.saliency_controls)
        if self.columns:  # spare height goes below the last row, not between the rows
            self._grid.setRowStretch(3 + len(self.columns[0].body), 1)
            row = self.columns[0].saliency_row
            self._grid.addWidget(self.saliency_controls, row, 0, 1, count)
        self.saliency_controls.setVisible(bool(self.columns))

    def set_zoom(self, zoom: float) -> None:
        """The window's zoom (presentation mode): larger images in wider columns."""
        self.zoom = zoom
        for i, column in enumerate(self.columns):
            column.set_zoom(zoom)
            self._grid.setColumnMinimumWidth(i, round(COLUMN_MIN_WIDTH * zoom))

    def _show_threat(self, view: ResultsView) -> None:
        threat = view.threat
        self.threat_label.setText(
            grey(f"{NORM_SYMBOLS[threat.norm]} · {threat.attack_label()} · attack-based")
        )
        self.threat_label.setToolTip(threat.describe())

    def _show_header(self, view: ResultsView, position: int, k: int) -> None:
        eps = f"{NORM_SYMBOLS[view.threat.norm]} ε = <b>{format_eps(view.eps[k])}</b>"
        sweeps = [m.sweep for m in view.models if m.sweep is not None]
        sweep = next((s for s in sweeps if position < len(s.labels)), None)
        if sweep is None or position < 0:
            self.header.setText(f"Example at row {position} · {eps} · {grey('no results yet')}")
            return
        index, label = int(sweep.indices[position]), int(sweep.labels[position])
        name = class_name(view.dataset_info.class_names, label)
        note = f" · {grey('filtered out of the table here')}" if self.hidden else ""
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
