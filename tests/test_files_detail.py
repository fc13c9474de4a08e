"""The detail panel's small fixes: Ctrl+B marks a hidden example at once; IG's caveat."""

from __future__ import annotations

import numpy as np
import pytest
from gui_support import (  # noqa: F401  (fixtures are used by name)
    _no_leaked_widgets,
    _private_settings,
    demo_window,
    run_to_finish,
)
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

from inspector.core.data import open_dataset
from inspector.core.demo import DEMO_DATA, demo_model_paths
from inspector.core.metrics import BOUNDARY_ERROR, ROBUST, statuses
from inspector.core.models import load_model
from inspector.core.saliency.concentration import BASELINE_NOTE, model_concentration
from inspector.gui.detail.column import ModelColumn
from inspector.gui.detail.text import BASELINE_CAVEAT

NOTE = "filtered out of the table here"


def _action(window, shortcut: str):
    wanted = QKeySequence(shortcut)
    return next(a for a in window.actions() if a.shortcut() == wanted)


def test_ctrl_b_marks_the_shown_example_at_once(qtbot):
    """Ctrl+B hides a robust example: the note is there before any slider move."""
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    window.eps_bar.slider.setValue(1)
    sweep = results.models[0].sweep
    status = statuses(sweep.clean_correct, sweep.breaking_eps, window.session.eps.value)
    robust = int(next(p for p in range(len(status)) if status[p] == ROBUST))
    window.examples.select_position(robust)
    assert window.detail.position == robust and NOTE not in window.detail.header.text()
    _action(window, "Ctrl+B").trigger()
    assert window.examples.status_combo.currentData() == BOUNDARY_ERROR
    assert robust not in window.examples.visible_positions()
    assert window.session.example.position == robust and window.session.example.hidden
    assert window.detail.position == robust
    assert NOTE in window.detail.header.text()
    window.examples.select_status(None)  # shown again: the note goes at once too
    assert not window.session.example.hidden
    assert NOTE not in window.detail.header.text()
    assert window.examples.model.position(window.examples.table.currentIndex().row()) == robust


# --- Integrated Gradients' caveat beside the on-object share ------------------------------
#
# The rule: the caveat is shown exactly when the core marks the summary with a method note,
# i.e. Integrated Gradients from a zero (black) baseline scored by the on-object share
# (digits, MNIST). IG gives every exactly-black pixel zero attribution by construction, so
# the share is near 1 for every model and cannot tell them apart.


@pytest.fixture(scope="module")
def demo_shares():
    """Per demo model and method, its concentration summary on every 12th test digit."""
    dataset = open_dataset(DEMO_DATA)
    indices = np.arange(0, len(dataset), 12)
    models = [load_model(str(p)) for p in demo_model_paths()]
    return {
        (m.info.name, method): model_concentration(m, dataset, indices, method)
        for m in models
        for method in ("gradient", "integrated_gradients")
    }


def test_ig_share_is_high_for_every_model_and_carries_the_note(demo_shares):
    ig = [s for (_, method), s in demo_shares.items() if method == "integrated_gradients"]
    grad = [s for (_, method), s in demo_shares.items() if method == "gradient"]
    assert len(ig) == len(grad) == 3
    assert all(s.note == BASELINE_NOTE for s in ig) and all(s.note == "" for s in grad)
    means = [s.mean for s in ig]
    assert min(means) > 0.9 and max(means) - min(means) < 0.05  # about the same, near 1
    assert max(s.mean for s in grad) < 0.75  # the gradient's share does tell models apart


def test_the_column_puts_the_caveat_beside_the_share(qtbot, demo_shares):
    parent = QWidget()
    qtbot.addWidget(parent)
    column = ModelColumn(parent)
    for (_name, method), summary in demo_shares.items():
        column.show_concentration(summary)
        text, tip = column.concentration_label.text(), column.concentration_label.toolTip()
        assert f"on the digit: <b>{summary.mean:.0%}</b>" in text
        if method == "integrated_gradients":
            assert text.endswith(f"<br>{BASELINE_CAVEAT}") and BASELINE_NOTE in tip
        else:
            assert BASELINE_CAVEAT not in text and BASELINE_NOTE not in tip
    column.deleteLater()
