"""The shard tests' window helpers: open a saved file, read its headline numbers."""

from __future__ import annotations

from gui_support import wait_loaded

from inspector.gui.main_window import MainWindow

TIMEOUT = 30_000


def open_window(qtbot, path) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.documents.sourcesChecked, timeout=TIMEOUT):
        window.documents.open_path(str(path))
    wait_loaded(qtbot, window)
    return window


def headlines(window: MainWindow) -> list[str]:
    """The headline at every ε of the grid, as the slider shows it."""
    texts = []
    for k in range(len(window.view.eps)):
        window.eps_bar.set_eps_index(k)
        texts.append(window.eps_bar.headline.text())
    return texts


def assert_same_numbers(a: MainWindow, b: MainWindow) -> None:
    assert headlines(a) == headlines(b)
    for i in range(len(a.view.models)):
        for k in range(len(a.view.eps)):
            assert a.view.rates(i, k) == b.view.rates(i, k)
