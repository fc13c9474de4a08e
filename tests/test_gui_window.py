"""The whole window on the real demo: its numbers are the core's, and it survives misuse.

Every number the window shows is compared with `run_to_end` on the same request (same
models, data and threat model): the attacks are seeded per (seed, ε, batch), so the two
runs agree exactly. Most tests use a small threat model (5 ε values, PGD-5: well under a
second per run); the cancel and close tests use PGD-200 so that a run is still going when
they act. The subprocess test runs the real demo as a user would.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_support import (  # noqa: F401  (fixtures are used by name)
    RUN_TIMEOUT_MS,
    SLOW,
    SMALL,
    _no_leaked_widgets,
    _private_settings,
    demo_window,
    run_to_finish,
    wait_loaded,
)
from helpers import export_pt2
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QTableView,
    QWidget,
)

from inspector.core.checks import CHECKS
from inspector.core.demo import DEMO_DATA, DEMO_THREAT, demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.metrics import BOUNDARY_ERROR, statuses
from inspector.core.results import EvaluationResults
from inspector.core.threat import ThreatModel
from inspector.gui.examples import INDEX, STATUS
from inspector.gui.main_window import MainWindow


@functools.cache
def core_results(threat: ThreatModel) -> EvaluationResults:
    """The core alone on the demo: what every number in the window must equal."""
    models = tuple(ModelRequest(str(p)) for p in demo_model_paths())
    return run_to_end(
        EvaluationRequest(models=models, data=DEMO_DATA, threat=threat, checks=False)
    )


HEADLINE = re.compile(
    r"^(?P<name>.+?): clean (?P<clean>[\d.]+)% · robust ≤ (?P<robust>[\d.]+)% · "
    r"boundary errors (?P<boundary>[\d.]+)%$"
)


def headline_numbers(window: MainWindow) -> dict[str, tuple[float, float, float]]:
    """The headline label parsed back: name → (clean, robust, boundary) in percent."""
    found = {}
    for line in window.eps_bar.headline.text().split("<br>"):
        match = HEADLINE.match(re.sub(r"<[^>]+>", "", line))
        assert match, f"unexpected headline line {line!r}"
        found[match["name"]] = tuple(float(match[key]) for key in ("clean", "robust", "boundary"))
    return found


def assert_headline_is_core(window: MainWindow, core: EvaluationResults, k: int) -> None:
    numbers = headline_numbers(window)
    assert list(numbers) == [m.info.name for m in core.models]
    text = window.eps_bar.headline.text()
    for m in core.models:
        r = m.sweep.curve()[k]
        expected = (r.clean_accuracy, r.robust_accuracy, r.boundary_error_rate)
        assert numbers[m.info.name] == pytest.approx([100 * v for v in expected], abs=0.051)
        assert (
            f"clean {r.clean_accuracy:.1%} · robust ≤ {r.robust_accuracy:.1%} · "
            f"boundary errors {r.boundary_error_rate:.1%}"
        ) in text


def test_demo_run_matches_the_core(qtbot):
    window = demo_window(qtbot)
    threat = window.setup.threat()
    assert threat.eps == SMALL.eps and threat.steps == SMALL.steps
    results = run_to_finish(qtbot, window)
    core = core_results(threat)
    assert not results.partial
    assert [m.info.name for m in results.models] == [m.info.name for m in core.models]
    for i, (mine, ref) in enumerate(zip(results.models, core.models, strict=True)):
        assert mine.sweep.eps_done == len(threat.eps)
        assert mine.sweep.curve() == ref.sweep.curve()  # exact: same seeds, same arithmetic
        np.testing.assert_array_equal(mine.sweep.breaking_eps, ref.sweep.breaking_eps)
        np.testing.assert_array_equal(mine.sweep.clean_pred, ref.sweep.clean_pred)
        for k in range(len(threat.eps)):
            assert window.view.rates(i, k) == ref.sweep.curve()[k]
    k = window.eps_bar.eps_index
    assert k == len(threat.eps) // 2
    assert_headline_is_core(window, core, k)
    # the numbers are not trivially equal: the models differ and attacks do break examples
    robust = [m.sweep.curve()[k].robust_accuracy for m in core.models]
    assert len(set(robust)) == 3 and min(robust) < max(m.sweep.clean_accuracy for m in core.models)
    assert "complete" in window.statusBar().currentMessage()


def test_cancel_stops_within_a_second_and_keeps_finished_eps(qtbot):
    window = demo_window(qtbot)
    window.setup.set_threat(SLOW)
    arrived: list[float] = []
    window.runner.finished.connect(lambda _r: arrived.append(time.perf_counter()))
    with qtbot.waitSignal(window.runner.epsFinished, timeout=RUN_TIMEOUT_MS):
        window.run()
    assert window.runner.running and window.setup.cancel_button.isEnabled()
    with qtbot.waitSignal(window.runner.runningChanged, timeout=5000) as stopped:
        cancelled_at = time.perf_counter()
        window.setup.cancel_button.click()
    assert stopped.args == [False]
    assert len(arrived) == 1
    latency = arrived[0] - cancelled_at
    assert latency < 1.0, f"finished arrived {latency:.2f} s after cancel"
    results = window.results
    assert results is not None
    assert results.partial or len(results.models) < len(window.models)
    assert len(results.models) >= 1
    kept = results.models[0].sweep
    assert 1 <= kept.eps_done < len(SLOW.eps)
    assert window.view.eps_done(0) == kept.eps_done
    assert window.view.rates(0, 0) == kept.curve()[0]
    assert window.view.rates(0, kept.eps_done) is None  # the unfinished ε is not shown
    assert "partial" in window.statusBar().currentMessage()
    # still usable: Run is enabled again, Cancel is not, and a new run completes
    assert window.setup.run_button.isEnabled() and not window.setup.cancel_button.isEnabled()
    assert window.run_action.isEnabled() and not window.cancel_action.isEnabled()
    window.setup.set_threat(SMALL)
    again = run_to_finish(qtbot, window)
    assert not again.partial and len(again.models) == 3


def test_boundary_error_filter_is_the_core_set(qtbot):
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    slider, examples = window.eps_bar.slider, window.examples
    examples.select_status(BOUNDARY_ERROR)
    assert examples.status_combo.currentData() == BOUNDARY_ERROR
    sizes = []
    for model_index in (0, 2):
        examples.model_combo.setCurrentIndex(model_index)
        sweep = results.models[model_index].sweep
        for k in (1, 3, 4):
            slider.setValue(k)
            expected = np.flatnonzero(
                statuses(sweep.clean_correct, sweep.breaking_eps, SMALL.eps[k]) == BOUNDARY_ERROR
            )
            shown = examples.visible_positions()
            assert len(shown) == len(set(shown))
            assert set(shown) == set(expected.tolist()), (model_index, k)
            assert examples.count_label.text() == f"{len(expected)} of {len(sweep.labels)}"
            sizes.append(len(expected))
    assert min(sizes) > 0 and len(set(sizes)) > 1  # non-empty sets that do change
    examples.select_status(None)
    assert len(examples.visible_positions()) == len(results.models[0].sweep.labels)


def test_table_order_and_filter_follow_the_slider(qtbot):
    """The table filters and sorts itself (for speed): both must follow ε."""
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    examples, slider = window.examples, window.eps_bar.slider
    sweep = results.models[0].sweep
    examples.select_status(BOUNDARY_ERROR)
    for k in (4, 1, 3):  # rows enter and leave the filter: they stay in dataset-index order
        slider.setValue(k)
        shown = [int(sweep.indices[p]) for p in examples.visible_positions()]
        assert shown == sorted(shown) and len(shown) > 0
    # the chosen example stays in the detail panel while the filter hides it at a smaller ε
    chosen = next(p for p in examples.visible_positions() if sweep.breaking_eps[p] == 0.15)
    examples.select_position(chosen)
    slider.setValue(1)
    assert chosen not in examples.visible_positions()
    assert window.detail.position == chosen
    assert "filtered out of the table here" in window.detail.header.text()
    slider.setValue(3)
    assert examples.model.position(examples.table.currentIndex().row()) == chosen
    assert "filtered out" not in window.detail.header.text()
    examples.select_status(None)
    examples.table.sortByColumn(STATUS, Qt.SortOrder.AscendingOrder)  # a column that follows ε
    rank = {"natural_error": 0, "boundary_error": 1, "robust": 2}
    for k in (0, 4, 2):
        slider.setValue(k)
        status = statuses(sweep.clean_correct, sweep.breaking_eps, SMALL.eps[k])
        order = [rank[status[p]] for p in examples.visible_positions()]
        assert order == sorted(order) and len(order) == len(sweep.labels)
        assert len(set(order)) > 1 or k == 0
    examples.table.sortByColumn(INDEX, Qt.SortOrder.DescendingOrder)
    shown = examples.visible_positions()
    assert [int(sweep.indices[p]) for p in shown] == sorted(sweep.indices.tolist(), reverse=True)


def test_many_qt_calls_do_not_abort(qtbot):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None per call returning None and
    CPython aborts after ~60,000 calls; pyproject.toml excludes that release there."""
    label = QLabel()
    qtbot.addWidget(label)
    for _ in range(200_000):
        label.setText("x")
    assert sys.getrefcount(None) > 1000


def test_slider_moves_headline_and_frontier_to_the_core_values(qtbot):
    window = demo_window(qtbot)
    run_to_finish(qtbot, window)
    core = core_results(window.setup.threat())
    slider = window.eps_bar.slider
    for k in (0, 4, 1, 3):
        slider.setValue(k)
        assert window.eps_bar.eps_index == k
        assert_headline_is_core(window, core, k)
        assert window.tradeoff.marker.value() == SMALL.eps[k]
        assert window.frontier.eps_index == k
        for i, m in enumerate(core.models):
            r = m.sweep.curve()[k]
            xs, ys = window.frontier.points[i].getData()
            assert (float(xs[0]), float(ys[0])) == (r.robust_accuracy, r.clean_accuracy)
            assert window.frontier.points[i].isVisible()
    # at ε = 0 nothing is attacked: robust accuracy equals clean accuracy for every model
    slider.setValue(0)
    for i in range(3):
        xs, ys = window.frontier.points[i].getData()
        assert xs[0] == ys[0]


def test_corrupt_model_file_gives_a_dialog(qtbot, tmp_path):
    window = demo_window(qtbot)
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    before = [m.info.path for m in window.models]
    rows = window.setup.model_list.count()
    window.last_error = None
    window.add_model(str(bad))
    wait_loaded(qtbot, window)
    box = window.last_error
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=2000)
    assert "bad.pt2" in box.text()
    assert box.icon() == QMessageBox.Icon.Critical
    assert [m.info.path for m in window.models] == before
    assert window.setup.model_list.count() == rows
    box.accept()
    assert window.setup.run_button.isEnabled()


def test_closing_during_a_run_exits_cleanly(qtbot):
    window = demo_window(qtbot)
    window.setup.set_threat(SLOW)
    with qtbot.waitSignal(window.runner.epsFinished, timeout=RUN_TIMEOUT_MS):
        window.run()
    assert window.runner.running
    started = time.perf_counter()
    assert window.close()
    took = time.perf_counter() - started
    assert took < 3.0, f"close took {took:.2f} s"
    assert not window.isVisible()
    assert not window.runner.running
    qtbot.wait(200)  # late queued signals of the stopped worker must not raise
    assert not window.runner.running


class NaNNet(torch.nn.Module):
    """Loads fine (the load-time probe's blank and grey images give finite logits of the
    right shape) but every logit is NaN on an image with a bright pixel, as digits have."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        bright = flat.amax(dim=1, keepdim=True) > 0.75
        return self.fc(flat) * torch.where(bright, float("nan"), 1.0)


def test_worker_exception_becomes_a_dialog(qtbot, tmp_path):
    path = export_pt2(
        NaNNet(),
        tmp_path / "nan_model.pt2",
        (1, 8, 8),
        class_names=[str(i) for i in range(10)],
        input_shape=[1, 8, 8],
    )
    window = MainWindow()
    qtbot.addWidget(window)
    window.setup.set_threat(SMALL)
    window.setup.checks.setChecked(False)
    window.open_data(DEMO_DATA)
    window.add_model(str(path))
    wait_loaded(qtbot, window)
    assert len(window.models) == 1, window.last_error and window.last_error.text()
    with qtbot.waitSignal(window.runner.failed, timeout=RUN_TIMEOUT_MS) as failed:
        window.run()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=5000)
    message = failed.args[0]
    assert "NaN" in message and "nan_model" in message
    box = window.last_error
    assert box is not None and box.isVisible() and box.text() == message
    assert "InspectorError" in box.detailedText()  # the traceback is one click away
    assert window.results is None
    # still usable: swap the model for a demo one and run to the end
    box.accept()
    assert window.setup.run_button.isEnabled()
    window.remove_model(0)
    window.add_model(str(demo_model_paths()[0]))
    wait_loaded(qtbot, window)
    results = run_to_finish(qtbot, window)
    assert not results.partial and results.models[0].info.name == "digits_standard"
    assert results.models[0].sweep.curve() == core_results(SMALL).models[0].sweep.curve()


def test_key_widgets_have_object_names(qtbot):
    window = demo_window(qtbot)
    for name, kind in (
        ("runButton", QPushButton),
        ("cancelButton", QPushButton),
        ("epsSlider", QSlider),
        ("exampleTable", QTableView),
        ("tradeoffPlot", QWidget),
        ("frontierPlot", QWidget),
        ("detailPanel", QWidget),
    ):
        found = window.findChild(kind, name)
        assert found is not None, name
        assert found.isVisible(), name
    assert window.findChild(QSlider, "epsSlider") is window.eps_bar.slider
    assert window.findChild(QTableView, "exampleTable") is window.examples.table
    assert window.findChild(QWidget, "detailPanel") is window.detail


@pytest.mark.slow
def test_cli_demo_screenshot(tmp_path):
    shot = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "gui", "--demo", "--run", "--screenshot", str(shot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert f"screenshot written to {shot}" in done.stdout
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a full window, not an empty frame


def test_threat_settings_persist_between_sessions(qtbot):
    """The set-up panel's threat model is saved on close and offered to the next session."""
    first = demo_window(qtbot)
    chosen = replace(DEMO_THREAT, norm="l2", eps=(0.0, 0.25, 0.5), steps=7, restarts=2, seed=3)
    first.setup.set_threat(chosen)
    first.close()
    second = demo_window(qtbot)
    restored = second.saved_threat()
    assert restored is not None
    assert (restored.norm, restored.eps, restored.steps, restored.restarts, restored.seed) == (
        "l2",
        (0.0, 0.25, 0.5),
        7,
        2,
        3,
    )
    second.close()


def test_files_open_off_the_gui_thread_and_in_order(qtbot, monkeypatch):
    """A slow model load leaves the event loop free; Run waits for the files."""
    import threading

    from inspector.gui import main_window as mw

    real_load, threads = mw.load_model, []

    def slow_load(*args, **kwargs):
        threads.append(threading.current_thread())
        time.sleep(0.6)
        return real_load(*args, **kwargs)

    preloaded = []  # captum is imported with the model, before any run (see preload)
    monkeypatch.setattr(mw, "load_model", slow_load)
    record = lambda: preloaded.append(threading.current_thread())  # noqa: E731
    monkeypatch.setattr(mw, "preload_saliency", record)
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_data(DEMO_DATA)
    window.add_model(str(demo_model_paths()[0]))
    assert window.loader.busy and not window.setup.run_button.isEnabled()
    ticks = []
    timer = QTimer(interval=20, timeout=lambda: ticks.append(time.perf_counter()))
    timer.start()
    wait_loaded(qtbot, window)
    timer.stop()
    assert threads and threads[0] is not threading.main_thread()
    assert preloaded == threads[:1]
    gaps = np.diff(ticks)
    assert len(ticks) > 10 and gaps.max() < 0.3, f"event loop stalled {gaps.max():.2f} s"
    assert [m.info.name for m in window.models] == ["digits_standard"]
    assert window.dataset is not None and window.setup.run_button.isEnabled()


def test_error_dialogs_speak_the_windows_language(qtbot, tmp_path):
    """A state_dict needs --arch/--trust-code on the CLI; the window says what to do instead."""
    path = tmp_path / "weights.pt"
    torch.save({"fc.weight": torch.zeros(10, 64), "fc.bias": torch.zeros(10)}, path)
    window = MainWindow()
    qtbot.addWidget(window)
    window.add_model(str(path))
    wait_loaded(qtbot, window)
    text = window.last_error.text()
    assert "state_dict" in text and ".pt2" in text and "command line" in text
    assert "pass --arch" not in text


def test_error_dialogs_show_hostile_names_as_plain_text(qtbot):
    """A message quoting a file's own text must not be rendered as rich text (links, images)."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_error('cannot load <a href="file:///etc/passwd"><img src="/x.png">model</a>')
    box = window.last_error
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert '<img src="/x.png">' in box.text()
    box.close()


def test_about_box_names_versions_and_device(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.about()
    box = window.about_box
    assert box is not None and box.isVisible()
    text = box.text()
    assert torch.__version__.split("+")[0] in text and "Device in use" in text and "cpu" in text
    assert "upper bound" in text
    assert f"CPU threads</td><td>{torch.get_num_threads()} of" in text
    box.close()


def test_palette_follows_the_system_scheme_live(qtbot):
    """A switch to dark while the window is open recolours the plots' background and text."""
    from PySide6.QtGui import QPalette

    from inspector.gui.theme import palette_for

    app = QApplication.instance()
    window = MainWindow()
    qtbot.addWidget(window)
    before = app.palette()
    try:
        app.setPalette(palette_for(Qt.ColorScheme.Dark, app))
        qtbot.wait(50)
        axis = window.tradeoff.plot_item.getAxis("left")
        assert axis.textPen().color().lightness() > 180  # light text on dark
        assert window.tradeoff.palette().color(QPalette.ColorRole.Window).lightness() < 80
        app.setPalette(palette_for(Qt.ColorScheme.Light, app))
        qtbot.wait(50)
        assert axis.textPen().color().lightness() < 80
    finally:
        app.setPalette(before)


def test_certified_curve_is_drawn_beside_the_attack_curve(qtbot):
    """An affine model gets its exact certificate as its own, labelled lower-bound curve."""
    from inspector.gui.plots import CERTIFIED_LABEL

    root = Path(__file__).resolve().parents[1] / "resources" / "demo"
    window = MainWindow()
    qtbot.addWidget(window)
    window.setup.set_threat(replace(DEMO_THREAT, eps=(0.0, 0.05, 0.1, 0.15), steps=10))
    window.setup.checks.setChecked(False)
    window.open_data("tsipras:n=200")
    window.add_model(str(root / "tsipras_robust.pt2"))
    wait_loaded(qtbot, window)
    results = run_to_finish(qtbot, window)
    xs, ys = window.tradeoff.curves[(0, "certified")].getData()
    expected = results.models[0].sweep.certified_curve()
    assert expected is not None
    np.testing.assert_allclose(xs, [e for e, _ in expected])
    np.testing.assert_allclose(ys, [a for _, a in expected])
    robust = [r.robust_accuracy for r in results.models[0].sweep.curve()]
    assert all(c <= r + 1e-12 for c, r in zip(ys, robust, strict=True))  # lower ≤ upper
    labels = [label.text for _, label in window.tradeoff.metric_legend.items]
    assert CERTIFIED_LABEL in labels


def test_fmn_radii_let_the_slider_move_between_grid_points(qtbot):
    """With the minimum-norm attack every ε has exact rates: the slider moves freely."""
    from inspector.gui.eps_bar import FINE_STEPS

    window = demo_window(qtbot)
    window.setup.set_threat(replace(DEMO_THREAT, eps=(0.0, 0.1, 0.2), attack="fmn", steps=30))
    results = run_to_finish(qtbot, window)
    bar = window.eps_bar
    assert bar.fine and bar.slider.maximum() == FINE_STEPS
    bar.slider.setValue(round(0.37 * FINE_STEPS))  # ε = 0.074, between 0 and 0.1
    eps = bar.eps_value
    assert 0 < eps < 0.1 and bar.eps_index == 0
    for i, m in enumerate(results.models):
        s = m.sweep
        expected = float((s.clean_correct & (s.min_norm_radius > eps)).mean())
        assert window.view.rates_between(i, eps).robust_accuracy == pytest.approx(expected)
        assert f"robust ≤ {expected:.1%}" in bar.headline.text()
        xs, _ = window.frontier.points[i].getData()
        assert xs[0] == pytest.approx(expected)
    assert window.tradeoff.marker.value() == pytest.approx(eps)
    assert "0.074" in window.frontier.title_label.text


def test_sanity_checks_are_listed_per_model(qtbot):
    """With checks on, the set-up panel lists every check of every model as the core gave it."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.setup.set_threat(SMALL)
    window.open_data(DEMO_DATA)
    window.add_model(str(demo_model_paths()[0]))
    wait_loaded(qtbot, window)
    assert window.setup.checks.isChecked()  # on by default
    results = run_to_finish(qtbot, window)
    checks = results.models[0].checks
    assert len(checks) == len(CHECKS)
    rows = window.setup.checks_panel.summary()
    passed = sum(c.status == "passed" for c in checks)
    assert rows[0].startswith(f"digits_standard: {passed} passed")
    marks = {"passed": "✓", "warning": "!", "skipped": "–"}
    assert rows[1:] == [f"  {marks[c.status]} {c.name}" for c in checks]


def test_startup_and_loads_keep_full_collections_short(qtbot):
    """What exists after start-up or a load is frozen out of the collector's full passes
    (a full pass over the demo's ~530,000 objects took ~400 ms)."""
    import gc

    from inspector.gui.app import keep_collections_short

    window = MainWindow()
    qtbot.addWidget(window)
    try:
        keep_collections_short(window)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        made_after = [[i] for i in range(5_000)]  # noqa: F841  (alive, tracked, not frozen)
        window.loader.idle.emit()  # a load finished
        assert gc.get_freeze_count() >= frozen + 5_000
    finally:
        gc.unfreeze()  # the leak check needs the collector to see this window's cycles
