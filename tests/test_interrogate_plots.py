"""Plots you can interrogate (issue 15): a hover read-out is the model's rate at that point, a
click on the accuracy plot moves the session's ε, the frontier is zoomed to its points."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from test_gui_plots import EPS, make_view

from inspector.core.session import Session
from inspector.gui.plots import FrontierPlot, TradeoffPlot
from inspector.gui.plots.readout import nearest_grid_index
from inspector.render.palette import METRIC_LABELS


@pytest.fixture
def bound(qtbot):
    """A tradeoff plot bound to a session holding the hand-made view (2 models, ε 0–0.2)."""
    session = Session()
    plot = TradeoffPlot()
    qtbot.addWidget(plot)
    plot.resize(640, 420)
    plot.bind(session)
    view = make_view()
    session.set_view(view, eps_index=0)
    plot.show()
    qtbot.waitExposed(plot)
    return plot, session, view


def widget_point(plot: TradeoffPlot, x: float, y: float) -> QPoint:
    """Where the data point (x, y) is on the plot's graphics widget, in its pixels."""
    scene = plot.plot_item.getViewBox().mapViewToScene(QPointF(x, y))
    return plot.graphics.mapFromScene(scene)


def test_hover_reads_out_the_models_rate_there(bound) -> None:
    plot, _session, view = bound
    rates = view.rates(0, 1)  # model A at ε = 0.1: 14 of 20 robust
    text = plot.hover_at(0.1, rates.robust_accuracy)
    assert text == f"model-A\n{METRIC_LABELS['robust']}\nε = 0.1: {rates.robust_accuracy:.1%}"
    assert rates.robust_accuracy == pytest.approx(0.7)
    assert plot.readout.isVisible()
    boundary = view.rates(1, 1).boundary_error_rate  # model B's boundary errors: 3 of 20
    assert plot.hover_at(0.1, boundary).endswith(f"ε = 0.1: {boundary:.1%}")
    assert "model-B" in plot.hover_at(0.1, boundary)
    assert plot.hover_at(0.05, 0.5) is None and not plot.readout.isVisible()  # far from all


def test_hover_skips_hidden_curves(bound) -> None:
    plot, _session, view = bound
    y = view.rates(0, 1).robust_accuracy
    plot.curves[(0, "robust")].setVisible(False)
    text = plot.hover_at(0.1, y)
    assert text is None or "robust accuracy" not in text


def test_a_click_at_an_eps_moves_the_cursor_to_that_grid_point(bound, qtbot) -> None:
    plot, session, _view = bound
    assert session.eps.index == 0
    qtbot.mouseClick(
        plot.graphics.viewport(), Qt.MouseButton.LeftButton, pos=widget_point(plot, 0.1, 0.5)
    )
    assert session.eps.index == EPS.index(0.1) == 1
    plot.pick_eps(0.17)  # nearer 0.2 than 0.1
    assert session.eps.index == 2 and session.eps.value == 0.2
    assert plot.marker.value() == pytest.approx(0.2)  # the marker followed the session


def test_nearest_grid_index() -> None:
    assert nearest_grid_index((0.0, 0.1, 0.2), 0.04) == 0
    assert nearest_grid_index((0.0, 0.1, 0.2), 0.06) == 1
    assert nearest_grid_index((0.0, 0.1, 0.2), 5.0) == 2
    assert nearest_grid_index((), 0.1) == 0


@pytest.mark.parametrize("k", range(len(EPS)))
def test_frontier_is_zoomed_to_its_points(qtbot, k) -> None:
    view = make_view(partial_done=3)
    plot = FrontierPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_view(view)
    plot.set_eps_index(k)
    xs = [view.rates(i, k).robust_accuracy for i in range(2)]
    ys = [view.rates(i, k).clean_accuracy for i in range(2)]
    (x0, x1), (y0, y1) = plot.plot_item.viewRange()
    assert x0 < min(xs) and max(xs) < x1 and y0 < min(ys) and max(ys) < y1
    # less than 3× the points' spread (or 3× the least span, 0.04, for points close together)
    assert x1 - x0 < 3 * max(max(xs) - min(xs), 0.04)
    assert y1 - y0 < 3 * max(max(ys) - min(ys), 0.04)
    for i in range(2):  # every name inside the view and off every marker
        label = plot.labels[i].mapRectToScene(plot.labels[i].boundingRect())
        assert plot.plot_item.getViewBox().sceneBoundingRect().contains(label)
        for j in range(2):
            at = plot.plot_item.getViewBox().mapViewToScene(QPointF(xs[j], ys[j]))
            assert not label.contains(at)


def test_frontier_diagonal_note_only_where_the_diagonal_shows(qtbot) -> None:
    view = make_view(partial_done=3)
    plot = FrontierPlot()
    qtbot.addWidget(plot)
    plot.set_view(view)
    plot.set_eps_index(0)  # robust = clean: the points are on the diagonal
    assert plot.diagonal_note.isVisible()
    plot.set_eps_index(2)  # robust 0.4 and 0.5 vs clean 0.9 and 0.75: diagonal out of range
    (_x0, x1), (y0, _y1) = plot.plot_item.viewRange()
    assert x1 < y0 and not plot.diagonal_note.isVisible()


def test_a_drag_on_the_plot_moves_the_cursor_along(bound, qtbot) -> None:
    plot, session, _view = bound
    viewport = plot.graphics.viewport()
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(viewport, left, pos=widget_point(plot, 0.0, 0.5))
    qtbot.mouseMove(viewport, widget_point(plot, 0.1, 0.5))
    assert session.eps.index == 1  # moved while the button is down
    qtbot.mouseMove(viewport, widget_point(plot, 0.2, 0.5))
    assert session.eps.index == 2
    qtbot.mouseRelease(viewport, left, pos=widget_point(plot, 0.2, 0.5))
    assert session.eps.index == 2
