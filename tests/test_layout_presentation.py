"""Presentation mode and zoom: what each key does, in numbers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication

from inspector.gui.detail.text import COLUMN_MIN_WIDTH, MAX_IMAGE
from inspector.gui.presentation import HEADLINE_SCALE, ZOOMS, next_zoom


def test_zoom_steps_stop_at_both_ends():
    assert next_zoom(1.0, 1) == 1.15 and next_zoom(1.0, -1) == 0.9
    assert next_zoom(ZOOMS[-1], 1) == ZOOMS[-1] and next_zoom(ZOOMS[0], -1) == ZOOMS[0]
    assert next_zoom(1.2, 1) == 1.3 and next_zoom(1.2, -1) == 1.15  # from between steps


@pytest.fixture
def window(qtbot):
    from gui_support import demo_window

    w = demo_window(qtbot)
    base = QApplication.font().pointSizeF()
    yield w, base
    w.presentation.set_presenting(False)
    w.presentation.reset()  # the application font is global: leave it as it was
    assert QApplication.font().pointSizeF() == pytest.approx(base)


def test_ctrl_plus_minus_and_zero_scale_fonts_and_images(window, qtbot):
    """Zoomed before the run: the detail columns built later follow the zoom, and go back."""
    from gui_support import run_to_finish
    from test_layout_clipping import LIMIT

    w, base = window
    actions = w.view_actions
    actions["zoom_in"].trigger()
    actions["zoom_in"].trigger()
    assert w.presentation.zoom == 1.3
    assert QApplication.font().pointSizeF() == pytest.approx(base * 1.3)
    w.flags = replace(w.flags, limit=LIMIT)
    run_to_finish(qtbot, w)
    column = w.detail.columns[0]
    assert column.max_image == round(MAX_IMAGE * 1.3)
    assert column.clean.view.max_side == column.max_image
    assert w.detail._grid.columnMinimumWidth(0) == round(COLUMN_MIN_WIDTH * 1.3)
    caption = column.clean.caption  # its own, smaller font, made at zoom 1.3
    zoomed = caption.font().pointSizeF()
    actions["zoom_out"].trigger()
    assert w.presentation.zoom == 1.15
    assert caption.font().pointSizeF() == pytest.approx(zoomed / 1.3 * 1.15)
    actions["actual"].trigger()
    assert w.presentation.zoom == 1.0
    assert QApplication.font().pointSizeF() == pytest.approx(base)
    assert caption.font().pointSizeF() == pytest.approx(zoomed / 1.3)
    assert column.max_image == MAX_IMAGE


def test_shortcuts_are_the_ones_promised(window):
    w, _base = window
    keys = {name: [k.toString() for k in a.shortcuts()] for name, a in w.view_actions.items()}
    assert keys["present"] == ["F11"]
    assert keys["zoom_in"][0] == "Ctrl+=" and keys["zoom_out"] == ["Ctrl+-"]
    assert keys["actual"] == ["Ctrl+0"]
    assert keys["setup"] == ["Ctrl+\\"]


def test_presentation_mode_hides_set_up_and_enlarges_the_headline(window, qtbot):
    w, base = window
    headline = w.eps_bar.headline
    small = headline.height()
    w.presentation.set_presenting(True, full_screen=False)
    assert w.view_actions["present"].isChecked()
    assert not w.setup_dock.isVisible()
    assert headline.font().pointSizeF() == pytest.approx(base * HEADLINE_SCALE)
    assert headline.font().bold()
    assert headline.height() > 1.8 * small
    assert not w.statusBar().isVisible()
    w.view_actions["present"].toggle()  # F11 again
    assert not w.presentation.presenting
    assert w.setup_dock.isVisible() and w.statusBar().isVisible()
    assert headline.font().pointSizeF() == pytest.approx(base)


def test_the_set_up_panel_hides_and_comes_back(window, qtbot):
    w, _base = window
    toggle = w.view_actions["setup"]
    toggle.trigger()
    assert not w.setup_dock.isVisible()
    assert w.run_action.isEnabled()  # Ctrl+R still runs with the panel hidden
    toggle.trigger()
    assert w.setup_dock.isVisible()


def test_presenting_on_a_1280x720_projector_cuts_nothing(window, qtbot):
    """The large headline, the table and plots of a readable height all fit 1280×720."""
    from gui_support import run_to_finish
    from test_layout_clipping import LIMIT, clipped

    w, _base = window
    w.flags = replace(w.flags, limit=LIMIT)
    run_to_finish(qtbot, w)
    qtbot.waitUntil(lambda: not w.detail.saliency.busy, timeout=30_000)
    w.presentation.set_presenting(True, full_screen=False)
    w.resize(1280, 720)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == (1280, 720), timeout=5000)
    qtbot.wait(100)
    assert w.minimumSizeHint().height() <= 720
    assert clipped(w) == []
