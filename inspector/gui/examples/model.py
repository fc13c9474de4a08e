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
)

from inspector.core.checks.result import WARNING_MARK
from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST
from inspector.core.threat import format_eps
from inspector.core.view import ResultsView
from inspector.gui.colors import status_cell_brush, status_glyph
from inspector.render.images import to_pixmap
from inspector.render.palette import STATUS_LABELS

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
    STATUS: "✓ robust: correct, and the attack found no flip inside the ε-ball (not a proof).\n"
    "✗ boundary error: correct on the clean input, flipped inside the ε-ball.\n"
    "• natural error: wrong on the clean input.\n"
    "The glyph and the word say the status; the grey tint only its severity.",
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
        if role == Qt.ItemDataRole.DecorationRole and col == STATUS:
            status = self.status_at(position)  # the glyph beside the word
            return status_glyph(status) if status else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(s, position, col)
        if role == Qt.ItemDataRole.BackgroundRole and col == STATUS:
            status = self.status_at(position)
            return status_cell_brush(status) if status else None  # faint: the text says it
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
