"""Keyboard stepping of ε (issue 15): ] and [ (or Alt+Right / Alt+Left) move the session's
cursor one grid point from anywhere in the window, the slider unfocused."""

from __future__ import annotations

from gui_support import _no_leaked_widgets, _private_settings  # noqa: F401  (fixtures)
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from test_gui_plots import make_view as plots_view

from inspector.gui.main_window import MainWindow
from inspector.gui.shortcuts import shortcut_rows, shortcuts_html


def test_window_shortcut_steps_without_focusing_the_slider(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.session.set_view(plots_view(), eps_index=0)
    window.activateWindow()
    qtbot.waitActive(window)
    window.examples.table.setFocus()
    qtbot.waitUntil(window.examples.table.hasFocus)
    assert not window.eps_bar.slider.hasFocus()
    actions = [a for a in window.actions() if QKeySequence("]") in a.shortcuts()]
    assert len(actions) == 1
    qtbot.keyClick(window.examples.table, Qt.Key.Key_BracketRight)
    assert window.session.eps.index == 1
    assert window.eps_bar.slider.value() == 1  # the slider followed, unfocused
    qtbot.keyClick(window.examples.table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.session.eps.index == 0


def test_help_lists_the_eps_keys(qtbot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    rows = dict(shortcut_rows(window))
    assert rows["] or Alt+Right"] == "Larger ε (next grid point)"
    assert rows["[ or Alt+Left"] == "Smaller ε (previous grid point)"
    assert rows["Ctrl+B"] == "Show boundary errors"
    assert "Larger ε" in shortcuts_html(window)
