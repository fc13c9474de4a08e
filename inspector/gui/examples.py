"""The examples table: one row per evaluated example, for one chosen model, at the current ε.

A QAbstractTableModel over the ResultsView: data are read on demand, so 10,000 rows cost
nothing until painted, and the model filters and sorts itself with numpy (no proxy).
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
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

from inspector.core.checks.result import WARNING_MARK
from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.session import ExampleFilter, Session
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.render.images import to_pixmap
from inspector.render.palette import STATUS_COLORS, STATUS_LABELS

COLUMNS = (
    "",
    "index",
    "true",
    "clean prediction",
    "adversarial prediction",
    "status",
    "breaking ε",
    "disagree",
)
THUMB, INDEX, TRUE, CLEAN, ADV, STATUS, BREAKING, DISAGREE = range(len(COLUMNS))
EPS_COLUMNS = (ADV, STATUS, DISAGREE)  # their values follow the ε slider
DATA_ROLES = frozenset(
    (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
    )
)
STATUS_ORDER = {NATURAL_ERROR: 0, BOUNDARY_ERROR: 1, ROBUST: 2}
THUMB_SIZE = 32

HEADER_TIPS = {
    STATUS: "robust: correct, and the attack found no flip inside the ε-ball (not a proof).\n"
    "boundary error: correct on the clean input, flipped inside the ε-ball.\n"
    "natural error: wrong on the clean input.",
    BREAKING: "The smallest ε on the grid at which the attack flipped this example.",
    DISAGREE: "Whether the loaded models predict different classes for this example at ε.",
}


def adversarial_header(eps: float) -> str:
    return f"adversarial @ ε={format_eps(eps)}"


class ExamplesModel(QAbstractTableModel):
    """The table's rows: the examples that pass the filters, in the order asked for.

    Rows are looked up in `order`, a numpy array of positions in the model's sweep arrays
    (the same for every model). Filtering and sorting are numpy operations on whole
    columns, so a slider move that changes which examples pass (the boundary-error filter
    follows ε) costs one mask and at most one argsort, not a Python call per row as a
    QSortFilterProxyModel's filterAcceptsRow and lessThan would (~17 ms on 10,000 rows).
    When the rows change, the model emits a layout change with its persistent indexes
    moved, as a proxy's invalidate() does, so the selection follows its example.
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: ResultsView | None = None
        self.model_index = 0
        self.k = 0
        self.status: str | None = None
        self.true_class: int | None = None
        self.predicted_class: int | None = None
        self.sort_column, self.sort_order = -1, Qt.SortOrder.AscendingOrder
        self._status: np.ndarray | None = None
        self._disagree: np.ndarray | None = None
        self._thumbs: dict[int, object] = {}
        self.order = np.zeros(0, dtype=np.int64)  # row -> position, what Qt was last told
        self.total = 0  # examples in the sweep, shown or not

    # --- what changes the data ---------------------------------------------------------

    def set_view(self, view: ResultsView | None) -> None:
        self.beginResetModel()
        self.view, self._thumbs = view, {}
        if view is not None:  # the new grid may be shorter than the last one
            self.k = min(self.k, len(view.eps) - 1)
        self._recompute()
        self.order = self._new_order()
        self.endResetModel()

    def set_model_index(self, i: int) -> None:
        self.beginResetModel()
        self.model_index, self._thumbs = i, {}
        self._recompute()
        self.order = self._new_order()
        self.endResetModel()

    def refresh(self) -> bool:
        """New results arrived: rows may appear (first snapshot) or values change.
        Returns whether the rows were reset (a first snapshot)."""
        if self._count() != self.total:
            self.set_model_index(self.model_index)
            return True
        self._recompute()
        if not self.relayout() and len(self.order):
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.order) - 1, DISAGREE))
        return False

    def set_eps_index(self, k: int) -> bool:
        """Follow the slider; returns whether the rows changed (then Qt repaints them all).
        Otherwise nothing is signalled: the caller repaints just the ε columns."""
        self.k = k
        self._recompute()
        return self.relayout()

    def set_filters(self, status=None, true_class=None, predicted_class=None) -> None:
        self.status, self.true_class, self.predicted_class = status, true_class, predicted_class
        self.relayout()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort as the table's header asks (ties keep the dataset-index order)."""
        self.sort_column, self.sort_order = column, order
        self.relayout()

    def relayout(self) -> bool:
        """Recompute which rows show and in what order; tell Qt only if that changed."""
        new = self._new_order()
        if np.array_equal(new, self.order):
            return False
        self.layoutAboutToBeChanged.emit()
        moved = self.persistentIndexList()
        row_of = np.full(max(self.total, 1), -1, dtype=np.int64)
        row_of[new] = np.arange(len(new))
        targets = []
        for index in moved:
            row = int(row_of[self.order[index.row()]]) if index.row() < len(self.order) else -1
            targets.append(self.index(row, index.column()) if row >= 0 else QModelIndex())
        self.order = new
        self.changePersistentIndexList(moved, targets)
        self.layoutChanged.emit()
        return True

    # --- derived arrays -----------------------------------------------------------------

    def _sweep(self):
        return None if self.view is None else self.view.sweep(self.model_index)

    def _k(self, s) -> int:
        """The ε index shown: the slider's, or the last finished one during a run."""
        return min(self.k, max(s.eps_done - 1, 0))

    def _count(self) -> int:
        s = self._sweep()
        return 0 if s is None else len(s.indices)

    def _recompute(self) -> None:
        self.total = self._count()
        s = self._sweep()
        if s is None:
            self._status = self._disagree = None
            return
        k = self._k(s)
        self._status = self.view.statuses(self.model_index, k) if s.eps_done else None
        self._disagree = self.view.disagreement(k)

    def _new_order(self) -> np.ndarray:
        s = self._sweep()
        if s is None:
            return np.zeros(0, dtype=np.int64)
        mask = np.ones(len(s.indices), dtype=bool)
        if self.status is not None:
            mask &= False if self._status is None else self._status == self.status
        if self.true_class is not None:
            mask &= s.labels == self.true_class
        if self.predicted_class is not None and s.eps_done:
            mask &= s.adv_pred[:, self._k(s)] == self.predicted_class
        positions = np.flatnonzero(mask)
        if self._in_source_order():
            return positions
        keys = self.sort_keys(self.sort_column)[positions]
        if self.sort_order == Qt.SortOrder.DescendingOrder:
            keys = -keys.astype(np.float64)
        return positions[np.argsort(keys, kind="stable")]

    def _in_source_order(self) -> bool:
        """Whether the order asked for is the sweep's: unsorted, or by dataset index upwards."""
        if self.sort_column < 0:
            return True
        if self.sort_column != INDEX or self.sort_order != Qt.SortOrder.AscendingOrder:
            return False
        s = self._sweep()
        return s is None or bool(np.all(np.diff(s.indices) >= 0))

    def sort_keys(self, col: int) -> np.ndarray:
        """Every example's sort key in one column (numeric), by position."""
        s = self._sweep()
        n = len(s.indices)
        k = self._k(s)
        if col == INDEX:
            return s.indices
        if col == TRUE:
            return s.labels
        if col == CLEAN:
            return s.clean_conf
        if col == ADV and s.eps_done:
            return s.adv_conf[:, k]
        if col == STATUS:
            order = np.full(n, 3)
            if self._status is not None:
                for status, rank in STATUS_ORDER.items():
                    order[self._status == status] = rank
            return order
        if col == BREAKING:
            return np.nan_to_num(s.breaking_eps, nan=math.inf)
        if col == DISAGREE and self._disagree is not None:
            return self._disagree.astype(int)
        return np.arange(n)

    # --- what Qt asks -------------------------------------------------------------------

    def position(self, row: int) -> int:
        return int(self.order[row])

    def row_of(self, position: int) -> int | None:
        """The row showing sweep position `position`, or None when it is filtered out."""
        found = np.flatnonzero(self.order == position)
        return int(found[0]) if len(found) else None

    def status_at(self, position: int) -> str | None:
        return None if self._status is None else str(self._status[position])

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.order)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        note = None if self.view is None else self.view.warning(self.model_index)
        if role == Qt.ItemDataRole.DisplayRole:
            if section == ADV and self.view is not None:
                header = adversarial_header(self.view.eps[self.k])
                return header if note is None else f"{header} {WARNING_MARK}"
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = HEADER_TIPS.get(section)
            return f"{note}\n\n{tip or ''}".strip() if note and section == ADV else tip
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if role not in DATA_ROLES:  # most of the roles a view asks for, cell by cell
            return None
        s = self._sweep()
        if s is None or not index.isValid() or index.row() >= len(self.order):
            return None
        return self._value(s, int(self.order[index.row()]), index.column(), role)

    def multiData(self, index: QModelIndex, roles) -> None:
        """Every role the view's delegate asks of one cell, in one call (Qt 6's multiData):
        painting a cell costs one Python call instead of seven `data` calls."""
        s = self._sweep()
        valid = s is not None and index.isValid() and index.row() < len(self.order)
        position, col = (int(self.order[index.row()]), index.column()) if valid else (0, 0)
        for item in roles:  # the view reuses these between cells: every role is (re)set
            role = item.role()
            value = self._value(s, position, col, role) if valid and role in DATA_ROLES else None
            if value is None:
                item.clearData()
            else:
                item.setData(value)

    def _value(self, s, position: int, col: int, role):
        if role == Qt.ItemDataRole.DecorationRole and col == THUMB:
            return self._thumb(position)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(s, position, col)
        if role == Qt.ItemDataRole.BackgroundRole and col == STATUS:
            status = self.status_at(position)
            return QBrush(QColor(STATUS_COLORS[status]).lighter(150)) if status else None
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS and self.status_at(position):
            return QBrush(QColor("black"))
        return None

    def _class(self, i: int) -> str:
        names = self.view.models[self.model_index].info.class_names
        return names[i] if 0 <= i < len(names) else str(i)

    def _text(self, s, position: int, col: int):
        k = self._k(s)
        if col == INDEX:
            return str(int(s.indices[position]))
        if col == TRUE:
            return self._class(int(s.labels[position]))
        if col == CLEAN:
            return f"{self._class(int(s.clean_pred[position]))}  ({s.clean_conf[position]:.2f})"
        if col == ADV and s.eps_done:
            adv = int(s.adv_pred[position, k])
            return f"{self._class(adv)}  ({s.adv_conf[position, k]:.2f})"
        if col == STATUS:
            status = self.status_at(position)
            return STATUS_LABELS[status] if status else "…"
        if col == BREAKING:
            b = s.breaking_eps[position]
            return "–" if math.isnan(b) else format_eps(float(b))
        if col == DISAGREE and self._disagree is not None:
            return "yes" if self._disagree[position] else ""
        return None

    def _thumb(self, position: int):
        if position not in self._thumbs:
            image = self.view.clean_image(self.model_index, position) if self.view else None
            self._thumbs[position] = None if image is None else to_pixmap(image, THUMB_SIZE)
        return self._thumbs[position]


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

    def _fit_columns(self) -> None:
        """Fit the columns to what they can ever show, worked out from the formats.

        Measuring cells (resizeColumnsToContents) asked data() for 50 rows of every column and
        rendered their thumbnails: 25–75 ms of the GUI thread when the first results arrive,
        while the attack runs. The widths depend only on the class names, the ε grid and the
        largest dataset index, so they are computed from those, in microseconds, and do not
        change with the rows that happen to come first."""
        view = self.model.view
        if view is None:
            return
        header = self.table.horizontalHeader()
        cell, head = self.table.fontMetrics(), header.fontMetrics()
        style = self.table.style()
        cell_pad = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1) + 6
        head_pad = 2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 2 * head.height()
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
