"""The examples table: one row per evaluated example, for one chosen model, at the current ε.

A QAbstractTableModel over the ResultsView (data is read on demand, so 10,000 rows cost
nothing until painted) and a sort/filter proxy for status and class filters.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
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
STATUS_ORDER = {NATURAL_ERROR: 0, BOUNDARY_ERROR: 1, ROBUST: 2}
THUMB_SIZE = 32

HEADER_TIPS = {
    STATUS: "robust: correct, and the attack found no flip inside the ε-ball (not a proof).\n"
    "boundary error: correct on the clean input, flipped inside the ε-ball.\n"
    "natural error: wrong on the clean input.",
    BREAKING: "The smallest ε on the grid at which the attack flipped this example.",
    DISAGREE: "Whether the loaded models predict different classes for this example at ε.",
}


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

    def set_view(self, view: ResultsView | None) -> None:
        self.beginResetModel()
        self.view, self._thumbs = view, {}
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
                return f"adversarial @ ε={format_eps(self.view.eps[self.k])}"
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(section)
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
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
        k = min(self.k, max(s.eps_done - 1, 0))
        keys = {
            INDEX: int(s.indices[row]),
            TRUE: int(s.labels[row]),
            CLEAN: float(s.clean_conf[row]),
            ADV: float(s.adv_conf[row, k]),
            STATUS: STATUS_ORDER.get(self.status_at(row) or "", 3),
            BREAKING: math.inf if math.isnan(s.breaking_eps[row]) else float(s.breaking_eps[row]),
            DISAGREE: int(self._disagree[row]) if self._disagree is not None else 0,
        }
        return keys.get(col, row)

    def _thumb(self, row: int):
        if row not in self._thumbs:
            image = self.view.clean_image(self.model_index, row) if self.view else None
            self._thumbs[row] = None if image is None else to_pixmap(image, THUMB_SIZE)
        return self._thumbs[row]


class ExamplesFilter(QSortFilterProxyModel):
    """Status filter (all / boundary errors / natural errors / robust) and class filters."""

    def __init__(self, source: ExamplesModel) -> None:
        super().__init__()
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.status: str | None = None
        self.true_class: int | None = None
        self.predicted_class: int | None = None

    def set_filters(self, status=None, true_class=None, predicted_class=None) -> None:
        self.status, self.true_class, self.predicted_class = status, true_class, predicted_class
        self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        source: ExamplesModel = self.sourceModel()
        s = source._sweep()
        if s is None:
            return False
        if self.status is not None and source.status_at(row) != self.status:
            return False
        if self.true_class is not None and int(s.labels[row]) != self.true_class:
            return False
        if self.predicted_class is not None and s.eps_done:
            k = min(source.k, s.eps_done - 1)
            if int(s.adv_pred[row, k]) != self.predicted_class:
                return False
        return True


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
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
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
        self._apply_filters()

    def refresh(self) -> None:
        self.source.refresh()
        self.proxy.invalidateFilter()
        self._update_count()

    def set_eps_index(self, k: int) -> None:
        self.source.set_eps_index(k)
        self.proxy.invalidateFilter()
        self.source.headerDataChanged.emit(Qt.Orientation.Horizontal, ADV, ADV)
        self._update_count()

    def current_position(self) -> int | None:
        index = self.table.currentIndex()
        return self.proxy.mapToSource(index).row() if index.isValid() else None

    def visible_positions(self) -> list[int]:
        return [
            self.proxy.mapToSource(self.proxy.index(r, 0)).row()
            for r in range(self.proxy.rowCount())
        ]

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

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.source.rowCount()}")

    def _on_model(self, i: int) -> None:
        if i >= 0:
            self.source.set_model_index(i)
            self.proxy.invalidateFilter()
            self._update_count()
            self.modelChanged.emit(i)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.selectionChanged.emit(
            self.proxy.mapToSource(current).row() if current.isValid() else None
        )
