"""What the window tests share: threat models, private settings, the demo window, waits."""

from __future__ import annotations

import gc
from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication

from inspector.core.demo import DEMO_THREAT
from inspector.core.results import EvaluationResults
from inspector.gui.main_window import MainWindow

# An even grid, as the set-up panel builds them (it only knows a maximum and a count).
SMALL = replace(DEMO_THREAT, eps=(0.0, 0.05, 0.1, 0.15, 0.2), steps=5)
SLOW = replace(DEMO_THREAT, steps=200)  # seconds per ε: still running when a test acts
RUN_TIMEOUT_MS = 120_000  # generous: the suite shares 2 cores


@pytest.fixture(autouse=True, scope="module")
def _private_settings(tmp_path_factory):
    """The window's QSettings (geometry, recent files) go to a temporary folder."""
    folder = str(tmp_path_factory.mktemp("settings"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def _no_leaked_widgets(request, qapp):
    """Fail a test that leaves top-level widgets behind (after pytest-qt closed its own).

    pyqtgraph's context menus are parentless and owned by Python objects in reference
    cycles, hence the garbage collection before counting.
    """
    before = set(QApplication.topLevelWidgets())
    failed_before = request.session.testsfailed
    yield
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if request.session.testsfailed > failed_before:
        return  # a failed test's traceback keeps its widgets alive: nothing more to learn
    left = [w for w in QApplication.topLevelWidgets() if w not in before]
    if left:
        names = ", ".join(f"{type(w).__name__}({w.objectName()!r})" for w in left)
        for w in left:
            w.close()
            w.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        pytest.fail(f"top-level widgets left behind: {names}")


def demo_window(qtbot) -> MainWindow:
    """The demo loaded (3 models, 360 digits), set to the small threat model.

    Not a fixture: pytest would hold the window until after the leak check has run.
    """
    w = MainWindow()
    qtbot.addWidget(w)
    w.load_demo(DEMO_THREAT)
    w.setup.set_threat(SMALL)
    w.setup.checks.setChecked(False)  # seconds per model; tests of the checks turn them on
    w.show()
    qtbot.waitExposed(w)
    wait_loaded(qtbot, w)
    assert len(w.models) == 3 and w.dataset is not None
    return w


def wait_loaded(qtbot, window: MainWindow) -> None:
    """Files open in the background: wait until the queue is empty."""
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=30_000)


def open_in_new_window(qtbot, path) -> MainWindow:
    """A fresh window with a saved audit or results file open, its sources checked."""
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.documents.sourcesChecked, timeout=30_000):
        window.documents.open_path(str(path))
    wait_loaded(qtbot, window)
    return window


def run_to_finish(qtbot, window: MainWindow, timeout: int = RUN_TIMEOUT_MS) -> EvaluationResults:
    with qtbot.waitSignal(window.runner.finished, timeout=timeout) as blocker:
        window.run()
    qtbot.waitUntil(lambda: not window.runner.running, timeout=5000)
    results = blocker.args[0]
    assert window.results is results
    return results


