"""The shard tests' window helpers: open a saved file, read its headline numbers."""

from __future__ import annotations

from gui_support import open_in_new_window as open_window  # noqa: F401  (the shard tests')

from inspector.gui.main_window import MainWindow


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
