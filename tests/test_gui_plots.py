"""The tradeoff and frontier plots show exactly the view's numbers, and move with the ε index.

Results are built by hand (no model, no attack) so that every expected rate is a count:
model A, 20 examples, 2 wrong clean, 4 flipped at ε = 0.1 and 6 more at 0.2; model B,
partial (2 of 3 ε done), 5 wrong clean and 3 flipped at 0.1.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPalette

from inspector.core.data.base import DatasetInfo
from inspector.core.models.base import ModelInfo
from inspector.core.sweep import ModelSweep
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.plots import FrontierPlot, TradeoffPlot
from inspector.render.palette import METRIC_LABELS, model_color

EPS = (0.0, 0.1, 0.2)
N = 20


def make_sweep(wrong: int, flips: dict[float, int], done: int) -> ModelSweep:
    """`wrong` clean errors first, then `flips[ε]` clean-correct examples broken at each ε."""
    labels = np.arange(N) % 3
    clean_pred = labels.copy()
    clean_pred[:wrong] = (labels[:wrong] + 1) % 3
    breaking = np.full(N, np.nan)
    start = wrong
    for eps, count in flips.items():
        breaking[start : start + count] = eps
        start += count
    m = len(EPS)
    return ModelSweep(
        eps=EPS,
        indices=np.arange(N),
        labels=labels,
        clean_pred=clean_pred,
        clean_conf=np.ones(N),
        adv_pred=np.zeros((N, m), dtype=np.int64),
        adv_conf=np.ones((N, m)),
        breaking_eps=breaking,
        eps_done=done,
    )


def model_info(name: str) -> ModelInfo:
    shape, classes = (1, 4, 4), ("a", "b", "c")
    return ModelInfo(
        name, f"/m/{name}.pt2", "0" * 64, "torch.export", "cpu", shape, classes, None, None
    )


def make_view(partial_done: int = 2) -> ResultsView:
    threat = ThreatModel(norm="linf", eps=EPS, attack="pgd", steps=10, num_examples=N)
    dataset = DatasetInfo("synthetic", "npz", (1, 4, 4), ("a", "b", "c"), N, "0" * 64)
    view = ResultsView(threat, dataset, [model_info("model-A"), model_info("model-B")])
    view.update(0, make_sweep(2, {0.1: 4, 0.2: 6}, done=3))
    flips_b = {0.1: 3, 0.2: 2} if partial_done == 3 else {0.1: 3}
    view.update(1, make_sweep(5, flips_b, done=partial_done))
    return view


@pytest.fixture
def view() -> ResultsView:
    return make_view()


@pytest.fixture
def tradeoff(qtbot, view) -> TradeoffPlot:
    plot = TradeoffPlot()
    qtbot.addWidget(plot)
    plot.resize(640, 420)
    plot.set_view(view)
    return plot


@pytest.fixture
def frontier(qtbot, view) -> FrontierPlot:
    plot = FrontierPlot()
    qtbot.addWidget(plot)
    plot.resize(640, 420)
    plot.set_view(view)
    return plot


def curve_data(plot: TradeoffPlot, i: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = plot.curves[(i, metric)].getData()
    return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))


def test_object_names(tradeoff, frontier):
    assert tradeoff.objectName() == "tradeoffPlot"
    assert frontier.objectName() == "frontierPlot"


def test_tradeoff_curves_equal_the_views_rates(tradeoff, view):
    for i in range(2):
        done = view.eps_done(i)
        rates = [view.rates(i, k) for k in range(done)]
        x, robust = curve_data(tradeoff, i, "robust")
        np.testing.assert_allclose(x, EPS[:done])
        np.testing.assert_allclose(robust, [r.robust_accuracy for r in rates])
        x, boundary = curve_data(tradeoff, i, "boundary")
        np.testing.assert_allclose(x, EPS[:done])
        np.testing.assert_allclose(boundary, [r.boundary_error_rate for r in rates])
        _, clean = curve_data(tradeoff, i, "clean")
        np.testing.assert_allclose(clean, rates[0].clean_accuracy)


def test_tradeoff_values_are_the_hand_counts(tradeoff):
    """Robust = clean − boundary (primer): 18/20 clean, then 4 and 10 boundary errors."""
    np.testing.assert_allclose(curve_data(tradeoff, 0, "robust")[1], [0.9, 0.7, 0.4])
    np.testing.assert_allclose(curve_data(tradeoff, 0, "boundary")[1], [0.0, 0.2, 0.5])
    np.testing.assert_allclose(curve_data(tradeoff, 0, "clean")[1], [0.9, 0.9])
    np.testing.assert_allclose(curve_data(tradeoff, 1, "robust")[1], [0.75, 0.6])


def test_partial_model_has_only_its_finished_points(tradeoff):
    assert len(curve_data(tradeoff, 1, "robust")[0]) == 2
    assert len(curve_data(tradeoff, 1, "boundary")[0]) == 2
    x, _ = curve_data(tradeoff, 1, "clean")  # flat: clean accuracy does not depend on ε
    np.testing.assert_allclose(x, [0.0, 0.2])


def test_refresh_grows_the_curve_and_reuses_its_items(tradeoff, view):
    items = dict(tradeoff.curves)
    view.update(1, make_view(partial_done=3).sweep(1))
    tradeoff.refresh()
    assert all(tradeoff.curves[key] is item for key, item in items.items())
    np.testing.assert_allclose(curve_data(tradeoff, 1, "robust")[1], [0.75, 0.6, 0.5])


def test_models_without_results_have_empty_curves(qtbot):
    view = make_view()
    view.models[1].sweep = None
    plot = TradeoffPlot()
    qtbot.addWidget(plot)
    plot.set_view(view)
    for metric in ("robust", "clean", "boundary"):
        assert len(curve_data(plot, 1, metric)[0]) == 0
    assert len(curve_data(plot, 0, "robust")[0]) == 3


def test_marker_follows_the_eps_index(tradeoff):
    for k, eps in enumerate(EPS):
        tradeoff.set_eps_index(k)
        assert tradeoff.marker.value() == pytest.approx(eps)
    assert "0.2" in tradeoff.marker.label.toPlainText()
    tradeoff.set_eps_index(99)  # clamped to the grid
    assert tradeoff.marker.value() == pytest.approx(EPS[-1])


def test_moving_the_marker_leaves_the_curves_alone(tradeoff):
    def ys(curve):  # an empty curve (no certificate for these models) has no data at all
        data = curve.getData()[1]
        return None if data is None else data.copy()

    before = {key: ys(curve) for key, curve in tradeoff.curves.items()}
    assert sum(v is not None for v in before.values()) == 6  # 2 models × 3 metrics
    tradeoff.set_eps_index(1)
    for key, curve in tradeoff.curves.items():
        if before[key] is None:
            assert ys(curve) is None
        else:
            np.testing.assert_array_equal(ys(curve), before[key])


def test_ranges_are_fixed(tradeoff, frontier):
    (x0, x1), (y0, y1) = tradeoff.plot_item.viewRange()
    assert x0 <= 0 < 0.2 < x1 < 0.25
    assert y0 <= 0 and 1.02 <= y1 < 1.1
    # The frontier is zoomed to its points since issue 15 (tests/test_interrogate_plots.py).


def test_legend_names_models_and_metrics(tradeoff):
    metric_texts = [label.text for _, label in tradeoff.metric_legend.items]
    model_texts = [label.text for _, label in tradeoff.model_legend.items]
    assert metric_texts == [METRIC_LABELS[m] for m in ("robust", "clean", "boundary")]
    assert model_texts[0] == "model-A"
    assert model_texts[1].startswith("model-B") and "2 of 3" in model_texts[1]


def test_legend_click_hides_a_metric(tradeoff):
    sample = next(s for s, label in tradeoff.metric_legend.items if "boundary" in label.text)
    sample.item.setVisible(False)
    tradeoff.metric_legend.sigSampleClicked.emit(sample.item)
    assert not tradeoff.curves[(0, "boundary")].isVisible()
    assert tradeoff.curves[(0, "robust")].isVisible()


def test_threat_model_is_written_on_both(tradeoff, frontier, view):
    for plot in (tradeoff, frontier):
        text = plot.threat_label.text.replace("<br>", " · ")
        assert "PGD-10" in text and "20 examples" in text and "upper bound" in text


def test_frontier_points_are_robust_and_clean_accuracy(frontier, view):
    frontier.set_eps_index(1)
    for i in range(2):
        rates = view.rates(i, 1)
        x, y = frontier.points[i].getData()
        assert (x[0], y[0]) == pytest.approx((rates.robust_accuracy, rates.clean_accuracy))
        assert frontier.points[i].isVisible() and frontier.labels[i].isVisible()
    assert "ε = 0.1" in frontier.title_label.text


def test_frontier_points_move_and_hide_with_the_eps_index(frontier):
    frontier.set_eps_index(0)
    assert frontier.points[0].getData()[0][0] == pytest.approx(0.9)
    frontier.set_eps_index(2)
    x, y = frontier.points[0].getData()
    assert (x[0], y[0]) == pytest.approx((0.4, 0.9))
    assert not frontier.points[1].isVisible()  # model B has no result at ε = 0.2
    assert not frontier.labels[1].isVisible()
    assert "ε = 0.2" in frontier.title_label.text


def test_frontier_labels_do_not_overlap(qtbot):
    view = make_view()
    view.update(1, make_sweep(2, {0.1: 4, 0.2: 6}, done=3))  # the very same point as A
    plot = FrontierPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_view(view)
    plot.set_eps_index(1)
    a, b = (plot.labels[i].mapRectToScene(plot.labels[i].boundingRect()) for i in (0, 1))
    assert not a.intersects(b)


def test_no_view_and_empty_view(qtbot):
    for cls in (TradeoffPlot, FrontierPlot):
        plot = cls()
        qtbot.addWidget(plot)
        plot.set_view(None)
        plot.refresh()
        plot.set_eps_index(3)
        empty = make_view()
        for entry in empty.models:
            entry.sweep = None
        plot.set_view(empty)
        plot.refresh()
        plot.set_eps_index(1)
    assert all(not p.isVisible() for p in plot.points.values())


def test_palette_change_recolours(tradeoff, frontier):
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    for plot in (tradeoff, frontier):
        plot.setPalette(dark)  # sends QEvent.PaletteChange
        assert plot.graphics.backgroundBrush().color() == QColor("#202124")
        assert plot.plot_item.getAxis("left").textPen().color() == QColor("#e8eaed")


def test_tooltips_define_the_terms(tradeoff, frontier):
    for plot in (tradeoff, frontier):
        tip = plot.graphics.toolTip()
        assert "upper bound" in tip and "stronger attack can only lower it" in tip
        assert "correct on the clean input but flipped inside the" in tip


def has_color(image: QImage, color: str) -> bool:
    target = QColor(color).rgb()
    step = 2
    return any(
        image.pixel(x, y) == target
        for y in range(0, image.height(), step)
        for x in range(0, image.width(), step)
    )


def test_screenshots_show_the_models(qtbot, tradeoff, frontier, tmp_path):
    """Grabs both widgets (INSPECTOR_SCREENSHOT_DIR keeps them) and finds the model colours."""
    out = Path(os.environ.get("INSPECTOR_SCREENSHOT_DIR", tmp_path))
    for name, plot in (("tradeoff", tradeoff), ("frontier", frontier)):
        plot.set_eps_index(1)
        plot.show()
        qtbot.waitExposed(plot)
        image = plot.grab().toImage()
        assert image.save(str(out / f"plots_{name}.png"))
        assert has_color(image, model_color(0)) and has_color(image, model_color(1))
