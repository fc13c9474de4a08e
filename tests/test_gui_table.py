"""The examples table filters and sorts itself with numpy: check it against the core's arrays.

Random sweeps with a known story per example (breaking ε, clean correctness), a QTableView
on the model, and the invariants a user relies on: the rows are exactly the filtered set,
in the order asked, and the selected example stays selected while the rows move under it.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QRegion
from PySide6.QtWidgets import QLabel, QStyleOptionViewItem, QTableView, QVBoxLayout, QWidget

from inspector.core.data.base import DatasetInfo
from inspector.core.metrics import BOUNDARY_ERROR, NATURAL_ERROR, ROBUST, statuses
from inspector.core.models.base import ModelInfo
from inspector.core.sweep import ModelSweep
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.caption import StableCaption
from inspector.gui.examples import ADV, BREAKING, INDEX, STATUS, ExamplesModel, ExamplesPanel

EPS = (0.0, 0.05, 0.1, 0.15, 0.2)
N, C = 400, 4


def random_sweep(seed: int) -> ModelSweep:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, C, N)
    wrong = rng.random(N) < 0.15
    clean_pred = np.where(wrong, (labels + 1) % C, labels)
    k_break = rng.integers(1, len(EPS) + 3, N)  # past the grid: never broken
    breaking = np.where(k_break < len(EPS), np.asarray(EPS)[np.minimum(k_break, 4)], np.nan)
    breaking[wrong] = np.nan
    broken = np.nan_to_num(breaking, nan=np.inf)[:, None] <= np.asarray(EPS)[None, :]
    adv_pred = np.where(broken, (labels[:, None] + 2) % C, clean_pred[:, None])
    return ModelSweep(
        eps=EPS,
        indices=np.arange(N) * 3 + 7,  # dataset indices are not positions
        labels=labels,
        clean_pred=clean_pred,
        clean_conf=rng.uniform(0.3, 1.0, N),
        adv_pred=adv_pred,
        adv_conf=rng.uniform(0.3, 1.0, (N, len(EPS))),
        breaking_eps=breaking,
        eps_done=len(EPS),
    )


@pytest.fixture
def view() -> ResultsView:
    shape, classes = (1, 4, 4), tuple("abcd")
    info = DatasetInfo("synthetic", "npz", shape, classes, N * 3 + 7, "0" * 64)
    threat = ThreatModel(norm="linf", eps=EPS, attack="pgd", steps=10).with_examples(N)
    models = [
        ModelInfo(name, f"{name}.pt", "0" * 64, "state_dict", "cpu", shape, classes, None, None)
        for name in ("first", "second")
    ]
    view = ResultsView(threat, info, models)
    view.update(0, random_sweep(0))
    view.update(1, random_sweep(1))
    return view


@pytest.fixture
def table(qtbot, view) -> tuple[ExamplesModel, QTableView]:
    model = ExamplesModel()
    widget = QTableView()
    widget.setModel(model)
    qtbot.addWidget(widget)
    model.set_view(view)
    return model, widget


def core_statuses(view: ResultsView, model_index: int, k: int) -> np.ndarray:
    s = view.sweep(model_index)
    return statuses(s.clean_correct, s.breaking_eps, EPS[k])


@pytest.mark.parametrize("status", [BOUNDARY_ERROR, NATURAL_ERROR, ROBUST])
def test_rows_are_the_core_set_at_every_eps(table, view, status):
    model, _ = table
    model.set_filters(status)
    sizes = set()
    for k in (4, 0, 2, 3, 1):
        model.set_eps_index(k)
        expected = np.flatnonzero(core_statuses(view, 0, k) == status)
        assert model.rowCount() == len(expected)
        np.testing.assert_array_equal(model.order, expected)  # in dataset-index order
        shown = {model.data(model.index(r, STATUS)) for r in range(model.rowCount())}
        assert shown <= {status.replace("_", " ")}
        sizes.add(len(expected))
    assert len(sizes) > 1 or status == NATURAL_ERROR  # the set does follow ε


def test_class_filters_combine_with_the_status_filter(table, view):
    model, _ = table
    s = view.sweep(0)
    model.set_eps_index(3)
    model.set_filters(BOUNDARY_ERROR, true_class=2, predicted_class=0)
    expected = np.flatnonzero(
        (core_statuses(view, 0, 3) == BOUNDARY_ERROR) & (s.labels == 2) & (s.adv_pred[:, 3] == 0)
    )
    assert len(expected) > 0
    np.testing.assert_array_equal(model.order, expected)


def test_sorting_by_an_eps_column_is_stable_and_follows_eps(table, view):
    model, widget = table
    s = view.sweep(0)
    widget.sortByColumn(ADV, Qt.SortOrder.DescendingOrder)
    for k in (1, 4):
        model.set_eps_index(k)
        confidences = s.adv_conf[model.order, k]
        assert np.all(np.diff(confidences) <= 0) and len(model.order) == N
    widget.sortByColumn(STATUS, Qt.SortOrder.AscendingOrder)
    rank = {NATURAL_ERROR: 0, BOUNDARY_ERROR: 1, ROBUST: 2}
    ranks = [rank[v] for v in core_statuses(view, 0, 4)[model.order]]
    assert ranks == sorted(ranks)
    for r in set(ranks):  # ties keep the dataset-index order
        same = model.order[np.asarray(ranks) == r]
        assert np.all(np.diff(same) > 0)
    widget.sortByColumn(BREAKING, Qt.SortOrder.AscendingOrder)
    keys = np.nan_to_num(s.breaking_eps[model.order], nan=np.inf)
    assert np.all(keys[1:] >= keys[:-1]) and np.isinf(keys[-1])  # never broken: last
    widget.sortByColumn(INDEX, Qt.SortOrder.DescendingOrder)
    assert s.indices[model.order].tolist() == sorted(s.indices.tolist(), reverse=True)


def test_the_selection_follows_its_example_through_filtering_and_sorting(table, view):
    model, widget = table
    model.set_eps_index(4)
    model.set_filters(BOUNDARY_ERROR)
    breaking = view.sweep(0).breaking_eps
    position = int(next(p for p in model.order[len(model.order) // 2 :] if breaking[p] == 0.1))
    row = model.row_of(position)
    widget.selectRow(row)
    widget.sortByColumn(ADV, Qt.SortOrder.AscendingOrder)  # the rows move
    assert model.row_of(position) != row
    assert model.position(widget.currentIndex().row()) == position
    model.set_eps_index(3)  # still a boundary error, other rows come and go
    assert model.position(widget.currentIndex().row()) == position
    model.set_eps_index(1)  # not broken yet at ε = 0.05: filtered out
    assert model.row_of(position) is None
    assert not widget.currentIndex().isValid()


def test_rows_that_do_not_change_signal_nothing(table):
    """A slider move that keeps the rows must not make Qt repaint the whole table."""
    model, _ = table
    layouts = []
    model.layoutChanged.connect(lambda *_: layouts.append(1))
    assert model.set_eps_index(3) is False  # all rows, source order: nothing moves
    assert layouts == []
    model.set_filters(BOUNDARY_ERROR)
    assert len(layouts) == 1
    assert model.set_eps_index(1) is True and len(layouts) == 2


def test_the_panel_counts_and_switches_model(qtbot, view):
    panel = ExamplesPanel()
    qtbot.addWidget(panel)
    panel.set_view(view)
    panel.set_eps_index(2)
    panel.select_status(BOUNDARY_ERROR)
    for i in (0, 1):
        panel.model_combo.setCurrentIndex(i)
        expected = np.flatnonzero(core_statuses(view, i, 2) == BOUNDARY_ERROR)
        assert panel.visible_positions() == expected.tolist()
        assert panel.count_label.text() == f"{len(expected)} of {N}"


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self, watched: QWidget) -> None:
        super().__init__()
        self.count = 0
        watched.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        self.count += event.type() == QEvent.Type.LayoutRequest
        return False


def test_a_stable_caption_changes_text_without_a_relayout(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    layout = QVBoxLayout(parent)
    caption, label = StableCaption(3), QLabel("a")
    label.setWordWrap(True)
    layout.addWidget(caption)
    layout.addWidget(label)
    parent.show()
    qtbot.waitExposed(parent)
    qtbot.wait(20)  # the first layout
    requests = LayoutRequests(parent)
    for i in range(5):
        caption.setText(f"adversarial, ε = 0.{i}<br><b>cat</b> ✗ 8{i}%")
    qtbot.wait(20)
    assert requests.count == 0
    assert caption.text().endswith("✗ 84%")
    height = caption.height()
    assert height == 3 * caption.fontMetrics().lineSpacing() + 2
    label.setText("a longer<br>text")  # a QLabel does ask for one: the test can fail
    qtbot.wait(20)
    assert requests.count >= 1
    caption.set_lines(1)
    assert caption.height() < height


def test_the_chosen_example_outlives_the_filter_hiding_it(qtbot, view):
    """The boundary-error filter follows ε: the picked example stays picked while hidden."""
    panel = ExamplesPanel()
    qtbot.addWidget(panel)
    panel.set_view(view)
    panel.select_status(BOUNDARY_ERROR)
    panel.set_eps_index(3)
    breaking = view.sweep(0).breaking_eps
    position = int(next(p for p in panel.visible_positions() if breaking[p] == 0.1))
    chosen = []
    panel.selectionChanged.connect(chosen.append)
    panel.select_position(position)
    assert chosen == [position] and panel.current_position() == position
    panel.set_eps_index(1)  # not broken yet at ε = 0.05: its row is gone
    assert position not in panel.visible_positions()
    assert panel.current_position() == position
    assert panel.chosen_hidden()
    panel.set_eps_index(4)  # back: its row is selected again, with no new choice signalled
    row = panel.table.currentIndex().row()
    assert panel.model.position(row) == position and chosen == [position]
    assert not panel.chosen_hidden()
    panel.model_combo.setCurrentIndex(1)  # another model's view keeps the example too
    assert panel.current_position() == position
    shown = panel.model.row_of(position)
    assert (panel.table.currentIndex().row() == shown) if shown is not None else True


class PaintRegions(QObject):
    """The regions a widget is asked to paint."""

    def __init__(self, watched: QWidget) -> None:
        super().__init__()
        self.regions = []
        watched.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.regions.append(QRegion(event.region()))
        return False

    def touched(self, rect) -> bool:
        return any(region.intersects(rect) for region in self.regions)


def test_an_eps_move_repaints_the_eps_columns_and_their_title_only(qtbot, view):
    panel = ExamplesPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.set_view(view)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)
    table, header = panel.table, panel.table.horizontalHeader()
    cells, titles = PaintRegions(table.viewport()), PaintRegions(header.viewport())
    panel.set_eps_index(3)
    qtbot.wait(50)

    def column_rect(widget, column):
        return QRect(header.sectionViewportPosition(column), 0, header.sectionSize(column),
                     widget.height())  # fmt: skip

    assert titles.touched(column_rect(header.viewport(), ADV))
    assert header.model().headerData(ADV, Qt.Orientation.Horizontal) == "adversarial @ ε=0.15"
    assert cells.touched(column_rect(table.viewport(), ADV))
    assert cells.touched(column_rect(table.viewport(), STATUS))
    assert not cells.touched(column_rect(table.viewport(), INDEX))  # not the whole table


def test_cells_painted_through_multidata_show_what_data_returns(table):
    """The delegate reads a cell's roles in one multiData call, into a span it reuses from
    cell to cell: every role must be set or cleared, or one cell's data leaks into the next."""
    model, widget = table
    model.set_eps_index(3)
    delegate = widget.itemDelegate()
    statuses_seen = set()
    for row in range(12):
        for col in range(model.columnCount()):
            index = model.index(row, col)
            option = QStyleOptionViewItem()
            delegate.initStyleOption(option, index)
            assert option.text == (model.data(index, Qt.ItemDataRole.DisplayRole) or "")
            background = model.data(index, Qt.ItemDataRole.BackgroundRole)
            if background is None:
                assert option.backgroundBrush.style() == Qt.BrushStyle.NoBrush
            else:
                assert option.backgroundBrush.color() == background.color()
                statuses_seen.add(option.text)
            has_icon = model.data(index, Qt.ItemDataRole.DecorationRole) is not None
            assert (not option.icon.isNull()) == has_icon
    assert len(statuses_seen) > 1  # cells of different colours followed each other
