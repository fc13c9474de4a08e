"""The examples panel: the filters on top, the table below, and the chosen example.

The chosen example, the model in view and the filter are told to the session; the panel
follows the session's results and ε grid point.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.session import ExampleFilter, Session
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.gui.examples.model import (
    ADV,
    BREAKING,
    CLEAN,
    COLUMNS,
    DISAGREE,
    EPS_COLUMNS,
    INDEX,
    STATUS,
    THUMB,
    THUMB_SIZE,
    TRUE,
    ExamplesModel,
    adversarial_header,
)
from inspector.gui.fitting import fit_to_current
from inspector.render.palette import STATUS_LABELS

STATUS_GLYPH_ROOM = 18  # the status cell's glyph icon (14 px) and its gap

STATUS_FILTERS = (
    ("All examples", None),
    ("Boundary errors", BOUNDARY_ERROR),
    ("Natural errors", NATURAL_ERROR),
    ("Robust", ROBUST),
)


class ExamplesPanel(QWidget):
    """Filters on top, the table below; emits the selected example's position.

    The example the user picked stays chosen while a filter hides its row (the boundary-
    error filter follows ε, so rows come and go as the slider moves): the detail panel keeps
    showing it (saying it is hidden), and its row is selected again when it returns.
    """

    selectionChanged = Signal(object)  # position (int) or None
    modelChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ExamplesModel()
        self.chosen: int | None = None  # sweep position of the example the user picked
        self._restoring = False  # re-selecting the chosen row: not a new choice
        self.session: Session | None = None  # told the choice, the model and the filter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._filter_row())
        self.table = QTableView(objectName="exampleTable")
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(INDEX, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 4)
        # Columns are fitted to what they can show when new data arrive (_fit_columns), not
        # on every ε move: ResizeToContents re-measured 1,000 rows of every column (~60,000
        # Python data() calls, most of a slider move's time) at each change of data or header.
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        layout.addWidget(self.table)
        self._fit_columns()  # the titles fit before the first results, too

    def _filter_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.model_combo = QComboBox(objectName="viewModelCombo")
        self.model_combo.setToolTip("Whose predictions the table shows")
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.currentIndexChanged.connect(self._on_model)
        self.status_combo = QComboBox(objectName="statusFilter")
        for label, value in STATUS_FILTERS:
            self.status_combo.addItem(label, value)
        self.true_combo = QComboBox(objectName="trueClassFilter")
        self.pred_combo = QComboBox(objectName="predictedClassFilter")
        for combo in (self.status_combo, self.true_combo, self.pred_combo):
            combo.currentIndexChanged.connect(self._apply_filters)
        for combo in (self.model_combo, self.status_combo, self.true_combo, self.pred_combo):
            fit_to_current(combo)  # whole entries, in a row that has little room at 1280 px
        self.count_label = QLabel(objectName="exampleCount")
        for w in (
            QLabel("Model"),
            self.model_combo,
            QLabel("Show"),
            self.status_combo,
            QLabel("True"),
            self.true_combo,
            QLabel("Predicted"),
            self.pred_combo,
        ):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.count_label)
        return row

    def bind(self, session: Session) -> None:
        """Follow the session's results and ε; tell it the chosen example (hidden or not),
        the model in view and the filter, whenever one of them changes."""
        self.session = session

        def show_view(view: ResultsView | None) -> None:
            self.model.k = session.eps.index  # the rows are filtered at the session's ε
            self.set_view(view)

        session.view_changed.connect(show_view)
        session.results_changed.connect(lambda _none: self.refresh())
        session.eps_index_changed.connect(self.set_eps_index)

    def _publish(self) -> None:
        session = self.session
        if session is None:
            return
        session.set_model(max(0, self.model_combo.currentIndex()))
        session.set_filter(
            ExampleFilter(
                self.status_combo.currentData(),
                self.true_combo.currentData(),
                self.pred_combo.currentData(),
            )
        )
        session.set_example(self.current_position(), self.chosen_hidden())

    def set_view(self, view: ResultsView | None) -> None:
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        names = [] if view is None else [m.info.name for m in view.models]
        self.model_combo.addItems(names)
        self.model_combo.blockSignals(False)
        classes = () if view is None else view.dataset_info.class_names
        for combo, label in ((self.true_combo, "any"), (self.pred_combo, "any")):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(label, None)
            for i, name in enumerate(classes):
                combo.addItem(name, i)
            combo.blockSignals(False)
        self.model.model_index = 0
        self.chosen = None  # new results: the window picks an example when rows arrive
        self.model.set_view(view)
        self._apply_filters()
        self._fit_columns()
        self._publish()

    def refresh(self) -> None:
        if self.model.refresh():  # the first results: a model reset
            self._fit_columns()
        self._follow_chosen()
        self._update_count()
        self._publish()

    def set_eps_index(self, k: int) -> None:
        # Qt repaints the whole table for a multi-cell dataChanged; only the ε columns
        # change here, so unless the rows changed just their strip is repainted.
        if not self.model.set_eps_index(k):
            self._repaint_columns(EPS_COLUMNS)
        else:
            self._follow_chosen()
        # The ε column's title names ε. headerDataChanged would make the table repaint every
        # cell (93 cells' data per move instead of 39); the header reads its titles when it
        # paints, and its width was fitted to every ε's title, so a repaint of that section
        # is all it takes.
        header = self.table.horizontalHeader()
        x = header.sectionViewportPosition(ADV)
        header.viewport().update(x, 0, header.sectionSize(ADV), header.height())
        self._update_count()
        self._publish()

    def _repaint_columns(self, columns: tuple[int, ...]) -> None:
        viewport = self.table.viewport()
        for column in columns:
            x = self.table.columnViewportPosition(column)
            if x >= 0 or self.table.columnWidth(column) + x > 0:
                viewport.update(x, 0, self.table.columnWidth(column), viewport.height())

    def current_position(self) -> int | None:
        """The chosen example, shown in the table or hidden by a filter."""
        chosen = self.chosen
        return chosen if chosen is not None and 0 <= chosen < self.model.total else None

    def _follow_chosen(self) -> None:
        """After the rows changed: select the chosen example's row again if it is shown."""
        chosen = self.current_position()
        row = None if chosen is None else self.model.row_of(chosen)
        current = self.table.currentIndex()
        if row is None or (current.isValid() and current.row() == row):
            return
        self._restoring = True
        try:
            self.table.selectRow(row)
        finally:
            self._restoring = False

    def visible_positions(self) -> list[int]:
        return self.model.order.tolist()

    def state(self) -> dict:
        """The table's selections, for an audit file (plain JSON)."""
        column, order = self.model.sort_column, self.model.sort_order
        return {
            "model_index": self.model_combo.currentIndex(),
            "status": self.status_combo.currentData(),
            "true_class": self.true_combo.currentData(),
            "predicted_class": self.pred_combo.currentData(),
            "sort_column": column,
            "sort_descending": order == Qt.SortOrder.DescendingOrder,
            "example": self.current_position(),
        }

    def restore_state(self, state: dict) -> None:
        """Re-apply saved selections; values that no longer fit are ignored."""
        model = state.get("model_index")
        if isinstance(model, int) and 0 <= model < self.model_combo.count():
            self.model_combo.setCurrentIndex(model)
        for combo, key in (
            (self.status_combo, "status"),
            (self.true_combo, "true_class"),
            (self.pred_combo, "predicted_class"),
        ):
            found = combo.findData(state.get(key))
            if found >= 0:
                combo.setCurrentIndex(found)
        column = state.get("sort_column")
        if isinstance(column, int) and 0 <= column < len(COLUMNS):
            order = (
                Qt.SortOrder.DescendingOrder
                if state.get("sort_descending")
                else (Qt.SortOrder.AscendingOrder)
            )
            self.table.sortByColumn(column, order)
        example = state.get("example")
        if isinstance(example, int):
            self.select_position(example)

    def select_position(self, position: int) -> None:
        """Choose the example at sweep position `position`; its row is selected if shown."""
        row = self.model.row_of(position)
        if row is not None:
            self.table.selectRow(row)
            return
        self.chosen = position
        self.table.clearSelection()
        self._publish()
        self.selectionChanged.emit(self.current_position())

    def select_status(self, status: str | None) -> None:
        self.status_combo.setCurrentIndex([v for _, v in STATUS_FILTERS].index(status))

    def step(self, delta: int) -> None:
        """Move the selection to the next (+1) or previous (−1) visible example."""
        rows = self.model.rowCount()
        if rows == 0:
            return
        current = self.table.currentIndex().row()
        target = 0 if current < 0 else min(max(current + delta, 0), rows - 1)
        self.table.selectRow(target)

    def _apply_filters(self) -> None:
        self.model.set_filters(
            self.status_combo.currentData(),
            self.true_combo.currentData(),
            self.pred_combo.currentData(),
        )
        self._follow_chosen()
        self._update_count()
        self._publish()

    def changeEvent(self, event: QEvent) -> None:
        """Larger type (the window's zoom): the columns are fitted again, once it settled."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            QTimer.singleShot(0, self, self._fit_columns)

    def _fit_columns(self) -> None:
        """Fit the columns to what they can ever show, worked out from the formats.

        Measuring cells (resizeColumnsToContents) asked data() for 50 rows of every column and
        rendered their thumbnails: 25–75 ms of the GUI thread when the first results arrive,
        while the attack runs. The widths depend only on the class names, the ε grid and the
        largest dataset index, so they are computed from those, in microseconds, and do not
        change with the rows that happen to come first."""
        view = self.model.view
        header = self.table.horizontalHeader()
        cell, head = self.table.fontMetrics(), header.fontMetrics()
        style = self.table.style()
        cell_pad = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1) + 6
        head_pad = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 2 * head.height()
        # two lines of text ("boundary / error") or a thumbnail, whichever is taller
        rows = max(THUMB_SIZE + 4, 2 * cell.lineSpacing() + 6)
        self.table.verticalHeader().setDefaultSectionSize(rows)
        if view is None:  # no rows yet: the titles alone ("adversarial prediction") fit
            for column, title in enumerate(COLUMNS):
                if column != THUMB:
                    self.table.setColumnWidth(column, head.horizontalAdvance(title) + head_pad)
            return
        # the table names classes as the model in view does; any model may come into view
        names = [*view.dataset_info.class_names]
        names += [name for m in view.models for name in m.info.class_names]
        longest_class = max(names or ["0"], key=cell.horizontalAdvance)
        indices = [m.sweep.indices for m in view.models if m.sweep is not None]
        top_index = max((int(i.max()) for i in indices if len(i)), default=0)
        samples = {
            INDEX: [str(top_index)],
            TRUE: [longest_class],
            CLEAN: [f"{longest_class}  (0.00)"],
            ADV: [f"{longest_class}  (0.00)"],
            STATUS: [word for label in STATUS_LABELS.values() for word in label.split()],
            BREAKING: ["–", *(format_eps(e) for e in view.eps)],
            DISAGREE: ["yes"],
        }
        self.table.setColumnWidth(THUMB, THUMB_SIZE + cell_pad)
        for column, texts in samples.items():
            content = max(cell.horizontalAdvance(t) for t in texts) + cell_pad
            content += STATUS_GLYPH_ROOM if column == STATUS else 0
            titles = (
                [adversarial_header(e) for e in view.eps] if column == ADV else [COLUMNS[column]]
            )
            title = max(head.horizontalAdvance(t) for t in titles) + head_pad
            self.table.setColumnWidth(column, max(content, title))

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.model.rowCount()} of {self.model.total}")

    def chosen_hidden(self) -> bool:
        """Whether the chosen example is filtered out of the table (at this ε)."""
        chosen = self.current_position()
        return chosen is not None and self.model.row_of(chosen) is None

    def _on_model(self, i: int) -> None:
        if i >= 0:
            self.model.set_model_index(i)  # a model reset: filtered and sorted anew
            self._follow_chosen()
            self._update_count()
            self._publish()
            self.modelChanged.emit(i)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        """A row the user (or step/select_position) picked. A current index that became
        invalid means the row went away under a filter or a model switch: still chosen."""
        if self._restoring or not current.isValid():
            return
        self.chosen = self.model.position(current.row())
        self._publish()
        self.selectionChanged.emit(self.chosen)
