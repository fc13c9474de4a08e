"""The examples table: one row per evaluated example, for one chosen model, at the current ε.

A QAbstractTableModel over the ResultsView (data is read on demand, so 10,000 rows cost
nothing until painted) and a sort/filter proxy for status and class filters.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QSignalBlocker,
    QSortFilterProxyModel,
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
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.gui.colors import STATUS_COLORS, STATUS_LABELS
from inspector.gui.images import to_pixmap

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
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
EPS_COLUMNS = (ADV, STATUS, DISAGREE)  # their values follow the ε slider
RESULT_COLUMNS = (*EPS_COLUMNS, BREAKING)  # theirs change as a run finishes more ε values
DATA_ROLES = frozenset(
    (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.ForegroundRole,
        SORT_ROLE,
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
    """Rows = positions in the model's sweep arrays (the same order for every model)."""

    def __init__(self) -> None:
        super().__init__()
        self.view: ResultsView | None = None
        self.model_index = 0
        self.k = 0
        self._status: np.ndarray | None = None
        self._disagree: np.ndarray | None = None
        self._thumbs: dict[int, object] = {}
        self._rows = 0  # what Qt was last told: the view may already hold more rows
        self._keys: dict[int, list] = {}  # sort keys per column, for the current data
        self.version = 0  # bumped whenever the data change (the filter caches its mask on it)

    def set_view(self, view: ResultsView | None) -> None:
        self.beginResetModel()
        self.view, self._thumbs = view, {}
        if view is not None:  # the new grid may be shorter than the last one
            self.k = min(self.k, len(view.eps) - 1)
        self._recompute()
        self._rows = self._count()
        self.endResetModel()

    def refresh(self) -> None:
        """New results arrived: rows may appear (first snapshot) or values change."""
        before = self._rows
        if self._count() != before:
            self.beginResetModel()
            self._recompute()
            self._rows = self._count()
            self.endResetModel()
            return
        self._recompute()
        if before:
            self.dataChanged.emit(self.index(0, 0), self.index(before - 1, len(COLUMNS) - 1))

    def set_model_index(self, i: int) -> None:
        self.beginResetModel()
        self.model_index, self._thumbs = i, {}
        self._recompute()
        self._rows = self._count()
        self.endResetModel()

    def set_eps_index(self, k: int) -> None:
        self.k = k
        self._recompute()
        n = self.rowCount()
        if n:
            self.dataChanged.emit(self.index(0, ADV), self.index(n - 1, DISAGREE))

    def _sweep(self):
        return None if self.view is None else self.view.sweep(self.model_index)

    def _recompute(self) -> None:
        self.version += 1
        self._keys = {}
        s = self._sweep()
        if s is None:
            self._status = self._disagree = None
            return
        k = min(self.k, max(s.eps_done - 1, 0))
        self._status = self.view.statuses(self.model_index, k) if s.eps_done else None
        self._disagree = self.view.disagreement(k)

    def status_at(self, row: int) -> str | None:
        return None if self._status is None else str(self._status[row])

    def _count(self) -> int:
        s = self._sweep()
        return 0 if s is None else len(s.indices)

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else self._rows

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == ADV and self.view is not None:
                return adversarial_header(self.view.eps[self.k])
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if role not in DATA_ROLES:  # most of the roles a view asks for, cell by cell
            return None
        s = self._sweep()
        if s is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DecorationRole and col == THUMB:
            return self._thumb(row)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(s, row, col)
        if role == SORT_ROLE:
            return self._sort_key(s, row, col)
        if role == Qt.ItemDataRole.BackgroundRole and col == STATUS:
            status = self.status_at(row)
            return QBrush(QColor(STATUS_COLORS[status]).lighter(150)) if status else None
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS and self.status_at(row):
            return QBrush(QColor("black"))
        return None

    def _class(self, i: int) -> str:
        names = self.view.models[self.model_index].info.class_names
        return names[i] if 0 <= i < len(names) else str(i)

    def _text(self, s, row: int, col: int):
        k = min(self.k, max(s.eps_done - 1, 0))
        if col == INDEX:
            return str(int(s.indices[row]))
        if col == TRUE:
            return self._class(int(s.labels[row]))
        if col == CLEAN:
            return f"{self._class(int(s.clean_pred[row]))}  ({s.clean_conf[row]:.2f})"
        if col == ADV and s.eps_done:
            return f"{self._class(int(s.adv_pred[row, k]))}  ({s.adv_conf[row, k]:.2f})"
        if col == STATUS:
            status = self.status_at(row)
            return STATUS_LABELS[status] if status else "…"
        if col == BREAKING:
            b = s.breaking_eps[row]
            return "–" if math.isnan(b) else format_eps(float(b))
        if col == DISAGREE and self._disagree is not None:
            return "yes" if self._disagree[row] else ""
        return None

    def _sort_key(self, s, row: int, col: int):
        return self.sort_keys(col)[row]

    def sort_keys(self, col: int) -> list:
        """Every row's sort key in one column, computed at once (sorting asks per pair)."""
        keys = self._keys.get(col)
        if keys is None:
            keys = self._keys[col] = self._sort_array(col).tolist()
        return keys

    def _sort_array(self, col: int) -> np.ndarray:
        s = self._sweep()
        if s is None:
            return np.arange(self._rows)
        k = min(self.k, max(s.eps_done - 1, 0))
        if col == INDEX:
            return s.indices
        if col == TRUE:
            return s.labels
        if col == CLEAN:
            return s.clean_conf
        if col == ADV:
            return s.adv_conf[:, k]
        if col == STATUS:
            order = np.full(len(s.indices), 3)
            if self._status is not None:
                for status, rank in STATUS_ORDER.items():
                    order[self._status == status] = rank
            return order
        if col == BREAKING:
            return np.nan_to_num(s.breaking_eps, nan=math.inf)
        if col == DISAGREE and self._disagree is not None:
            return self._disagree.astype(int)
        return np.zeros(len(s.indices), dtype=int) if col == DISAGREE else np.arange(len(s.indices))

    def accepted(self, status, true_class, predicted_class) -> list[bool]:
        """Which rows pass the filters, for every row at once."""
        s = self._sweep()
        if s is None:
            return [False] * self._rows
        mask = np.ones(len(s.indices), dtype=bool)
        if status is not None:
            mask &= False if self._status is None else self._status == status
        if true_class is not None:
            mask &= s.labels == true_class
        if predicted_class is not None and s.eps_done:
            mask &= s.adv_pred[:, min(self.k, s.eps_done - 1)] == predicted_class
        return mask.tolist()

    def _thumb(self, row: int):
        if row not in self._thumbs:
            image = self.view.clean_image(self.model_index, row) if self.view else None
            self._thumbs[row] = None if image is None else to_pixmap(image, THUMB_SIZE)
        return self._thumbs[row]


class ExamplesFilter(QSortFilterProxyModel):
    """Status filter (all / boundary errors / natural errors / robust) and class filters.

    Not dynamic: on 10,000 rows, Qt's own re-check of every changed row (a Python call to
    filterAcceptsRow and two to lessThan per row) made each slider move cost ~1 s. The panel
    calls `update_after(...)` instead, which re-filters and re-sorts only when the change
    can affect which rows pass or their order; the filter mask and the sort keys are
    computed with numpy, once per change, and only looked up per row.
    """

    def __init__(self, source: ExamplesModel) -> None:
        super().__init__()
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(False)
        self.status: str | None = None
        self.true_class: int | None = None
        self.predicted_class: int | None = None
        self._source = source
        self._mask: list[bool] = []
        self._mask_version = -1  # the source's data version the mask was computed for
        self.wanted: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)  # as asked

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort as the table asks. By dataset index upwards (the default) is the source's own
        row order: the rows are then left in it, so sorting and re-filtering compare nothing
        (sortColumn() is -1 then; the header still shows the order asked for)."""
        self.wanted = (column, order)
        super().sort(-1 if self._source_order() else column, order)

    def resort(self) -> None:
        """After new data: whether the source's order is still the one asked may change."""
        self.sort(*self.wanted)

    def set_filters(self, status=None, true_class=None, predicted_class=None) -> None:
        self.status, self.true_class, self.predicted_class = status, true_class, predicted_class
        self._mask_version = -1
        self.invalidate()  # not invalidateFilter: undynamic, it would insert rows unsorted

    def update_after(self, columns: tuple[int, ...]) -> bool:
        """The source's values in `columns` changed: re-filter and re-sort if that matters.

        In the source's order (the default) this costs one mask lookup per row and no
        comparison; sorted by another column, a Python lessThan per comparison. Returns
        whether the rows were re-filtered or re-sorted (the whole table then repaints)."""
        eps_filter = self.status is not None or self.predicted_class is not None
        if eps_filter or self.wanted[0] in columns:
            self.invalidate()
            return True
        return False

    def _source_order(self) -> bool:
        """Whether the order asked for is the source's: unsorted, or by dataset index upwards."""
        column, order = self.wanted
        if column < 0:
            return True
        if column != INDEX or order != Qt.SortOrder.AscendingOrder:
            return False
        s = self.sourceModel()._sweep()
        return s is None or bool(np.all(np.diff(s.indices) >= 0))

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        if self._mask_version != self._source.version:  # new data or filters: a new mask
            self._mask = self._source.accepted(self.status, self.true_class, self.predicted_class)
            self._mask_version = self._source.version
        return self._mask[row]

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        keys = self.sourceModel().sort_keys(left.column())
        return keys[left.row()] < keys[right.row()]


STATUS_FILTERS = (
    ("All examples", None),
    ("Boundary errors", BOUNDARY_ERROR),
    ("Natural errors", NATURAL_ERROR),
    ("Robust", ROBUST),
)


class ExamplesPanel(QWidget):
    """Filters on top, the table below; emits the selected example's position."""

    selectionChanged = Signal(object)  # position (int) or None
    modelChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = ExamplesModel()
        self.proxy = ExamplesFilter(self.source)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._filter_row())
        self.table = QTableView(objectName="exampleTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(INDEX, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB_SIZE + 4)
        # Columns are fitted to their contents when new data arrive (_fit_columns), not on
        # every ε move: ResizeToContents re-measured 1,000 rows of every column (~60,000
        # Python data() calls, most of a slider move's time) at each change of data or header.
        # At most 50 rows are measured (more than a screen); 0 would mean every row once the
        # table is hidden.
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setResizeContentsPrecision(50)
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
        self.source.model_index = 0
        self.source.set_view(view)
        self.proxy.resort()
        self._apply_filters()
        self._fit_columns()

    def refresh(self) -> None:
        rows = self.source.rowCount()
        self.source.refresh()
        if self.source.rowCount() != rows:  # the first results: a model reset
            self.proxy.resort()
            self._fit_columns()
        self.proxy.update_after(RESULT_COLUMNS)
        self._update_count()

    def set_eps_index(self, k: int) -> None:
        # Qt repaints the whole table for a multi-cell dataChanged; only the ε columns
        # change here, so the signal is held back and just their strip is repainted.
        with QSignalBlocker(self.source):
            self.source.set_eps_index(k)
        if not self.proxy.update_after(EPS_COLUMNS):
            self._repaint_columns(EPS_COLUMNS)
        self.source.headerDataChanged.emit(Qt.Orientation.Horizontal, ADV, ADV)
        self._update_count()

    def _repaint_columns(self, columns: tuple[int, ...]) -> None:
        viewport = self.table.viewport()
        for column in columns:
            x = self.table.columnViewportPosition(column)
            if x >= 0 or self.table.columnWidth(column) + x > 0:
                viewport.update(x, 0, self.table.columnWidth(column), viewport.height())

    def current_position(self) -> int | None:
        index = self.table.currentIndex()
        return self.proxy.mapToSource(index).row() if index.isValid() else None

    def visible_positions(self) -> list[int]:
        return [
            self.proxy.mapToSource(self.proxy.index(r, 0)).row()
            for r in range(self.proxy.rowCount())
        ]

    def state(self) -> dict:
        """The table's selections, for an audit file (plain JSON)."""
        column, order = self.proxy.wanted
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
            order = Qt.SortOrder.DescendingOrder if state.get("sort_descending") else (
                Qt.SortOrder.AscendingOrder
            )
            self.table.sortByColumn(column, order)
        example = state.get("example")
        if isinstance(example, int):
            self.select_position(example)

    def select_position(self, position: int) -> None:
        """Select the row of source position `position` if it is shown."""
        index = self.proxy.mapFromSource(self.source.index(position, 0))
        if index.isValid():
            self.table.selectRow(index.row())

    def select_status(self, status: str | None) -> None:
        self.status_combo.setCurrentIndex([v for _, v in STATUS_FILTERS].index(status))

    def step(self, delta: int) -> None:
        """Move the selection to the next (+1) or previous (−1) visible example."""
        rows = self.proxy.rowCount()
        if rows == 0:
            return
        current = self.table.currentIndex().row()
        target = 0 if current < 0 else min(max(current + delta, 0), rows - 1)
        self.table.selectRow(target)

    def _apply_filters(self) -> None:
        self.proxy.set_filters(
            self.status_combo.currentData(),
            self.true_combo.currentData(),
            self.pred_combo.currentData(),
        )
        self._update_count()

    def _fit_columns(self) -> None:
        """Fit every column to its contents, the ε column to its header at any grid point."""
        self.table.resizeColumnsToContents()
        view = self.source.view
        if view is not None:
            header = self.table.horizontalHeader()
            metrics = header.fontMetrics()
            text = max((adversarial_header(e) for e in view.eps), key=metrics.horizontalAdvance)
            room = metrics.horizontalAdvance(text) + 3 * metrics.height()  # margins, sort arrow
            header.resizeSection(ADV, max(header.sectionSize(ADV), room))

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.source.rowCount()}")

    def _on_model(self, i: int) -> None:
        if i >= 0:
            self.source.set_model_index(i)  # a model reset: the proxy filters and sorts anew
            self.proxy.resort()
            self._update_count()
            self.modelChanged.emit(i)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.selectionChanged.emit(
            self.proxy.mapToSource(current).row() if current.isValid() else None
        )
