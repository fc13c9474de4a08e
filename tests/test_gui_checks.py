"""Issue 12 in the window: a refined grid keeps every check; warnings are marked where the
robust accuracy is read; the panel, progress bar, selection and slider behave as after a
full run; a saved and reopened audit shows the same checks."""

from __future__ import annotations

from dataclasses import replace

from gui_support import (  # noqa: F401  (fixtures are used by name)
    SMALL,
    _no_leaked_widgets,
    _private_settings,
    demo_window,
    run_to_finish,
)
from PySide6.QtCore import Qt

from inspector.core.audit import Audit, load_audit, save_audit
from inspector.core.checks import CHECKS, NOT_INFORMATIVE
from inspector.core.checks.result import WARNING_MARK, CheckResult, warning_note
from inspector.gui.examples import ADV

FINE = replace(SMALL, eps=tuple(sorted({*SMALL.eps, 0.025, 0.075, 0.125, 0.175})))


def _kept(old: list[CheckResult], new: list[CheckResult]) -> None:
    """Same checks in the same order; only the ones that had nothing to test may change,
    and the inside check, which judged the new points too."""
    assert [c.name for c in new] == [c.name for c in old]
    for o, n in zip(old, new, strict=True):
        if o.status != NOT_INFORMATIVE and not o.name.startswith("inside"):
            assert n == o


def test_refining_in_the_window_keeps_checks_selection_and_slider(qtbot, tmp_path):
    window = demo_window(qtbot)
    window.setup.checks.setChecked(True)
    first = run_to_finish(qtbot, window)
    assert all(len(m.checks) == len(CHECKS) for m in first.models)
    window.examples.select_position(17)
    window.eps_bar.set_eps_index(3)  # ε = 0.15
    panel_before = window.setup.checks_panel.summary()
    window.setup.set_threat(FINE)
    refined = run_to_finish(qtbot, window)  # the refine path: only the new ε values
    assert refined.threat.eps == FINE.eps and "complete" in window.statusBar().currentMessage()
    for old, new in zip(first.models, refined.models, strict=True):
        _kept(old.checks, new.checks)
    panel = window.setup.checks_panel
    assert not panel.empty.isVisibleTo(panel) and panel.tree.isVisibleTo(panel)
    after = panel.summary()
    assert len(after) == len(panel_before)  # every model, every check, still listed
    if not any(c.status == NOT_INFORMATIVE for m in first.models for c in m.checks):
        assert after == panel_before
    assert window.setup.progress.value() == window.setup.progress.maximum()
    assert window.setup.progress_text.text() == "Run complete."
    assert window.examples.current_position() == 17
    assert window.eps_bar.eps_value == 0.15
    # what autosave writes and what a saved audit reopens: the same checks
    current = window.current_results()
    assert [m.checks for m in current.models] == [m.checks for m in refined.models]
    save_audit(tmp_path / "refined.riaudit", Audit(results=current, view=window.view_state()))
    reopened = load_audit(tmp_path / "refined.riaudit")
    assert [m.checks for m in reopened.results.models] == [m.checks for m in refined.models]
    assert reopened.view["eps_index"] == FINE.eps.index(0.15)


def test_a_warning_is_marked_wherever_the_robust_accuracy_is_read(qtbot):
    window = demo_window(qtbot)
    window.setup.checks.setChecked(True)
    results = run_to_finish(qtbot, window)
    warned = [i for i, m in enumerate(results.models) if warning_note(m.checks)]
    clean = [i for i, m in enumerate(results.models) if not warning_note(m.checks)]
    assert warned, "PGD-5 on the demo should leave a model with a warning"
    headline = window.eps_bar.headline.text().split("<br>")
    legend = [label.text for _, label in window.tradeoff.model_legend.items]
    for i in range(len(results.models)):
        marked = i in warned
        assert (WARNING_MARK in headline[i]) == marked
        assert (WARNING_MARK in legend[i]) == marked
        window.examples.model_combo.setCurrentIndex(i)
        header = window.examples.model.headerData(ADV, Qt.Orientation.Horizontal)
        tip = window.examples.model.headerData(
            ADV, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
        )
        assert (WARNING_MARK in header) == marked
        note = warning_note(results.models[i].checks)
        if marked:  # the explanation is one hover away, wherever the mark is
            assert note in tip and note in window.eps_bar.headline.toolTip()
            assert note in window.tradeoff.toolTip()
    assert clean or len(warned) == len(results.models)


def test_the_panel_says_when_checks_were_off_and_shows_them_as_they_come(qtbot):
    window = demo_window(qtbot)  # checks off
    run_to_finish(qtbot, window)
    assert "were off" in window.setup.checks_panel.empty.text()
    window.setup.checks.setChecked(True)
    arrived: list[int] = []
    saved: list[list[int]] = []  # what autosave would write at that moment, per model

    def on_assessed(event) -> None:
        arrived.append(len(event.checks))
        current = window.current_results()  # the window's own slot ran first
        saved.append([len(m.checks) for m in current.models])

    window.runner.assessed.connect(on_assessed)
    run_to_finish(qtbot, window)
    k = len(CHECKS)
    assert arrived[:k] == list(range(1, k + 1))  # one event per check, as each finishes
    assert saved[k - 1][0] == k and saved[k][:2] == [k, 1]  # mid-run: finished checks kept
