"""Audits in the window: save, reopen to the same view, moved files, autosave and recovery."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from gui_support import (  # noqa: F401  (fixtures are used by name)
    _no_leaked_widgets,
    _private_settings,
    demo_window,
    open_in_new_window,
    run_to_finish,
    wait_loaded,
)

from inspector.core import autosave as autosave_module
from inspector.core.audit import Audit, save_audit
from inspector.core.autosave import Autosaver, default_autosave_folder, find_recoverable
from inspector.core.metrics import BOUNDARY_ERROR
from inspector.core.results import EvaluationResults, ModelResult
from inspector.gui.examples import STATUS
from inspector.gui.main_window import MainWindow

TIMEOUT = 30_000


def test_saved_audit_reopens_to_the_same_view_and_numbers(qtbot, tmp_path):
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    window.eps_bar.slider.setValue(2)
    window.examples.select_status(BOUNDARY_ERROR)
    window.examples.step(1)
    chosen = window.examples.current_position()
    assert chosen is not None
    path = tmp_path / "demo.riaudit"
    with qtbot.waitSignal(window.documents.saved, timeout=TIMEOUT):
        window.documents.save_to(str(path))
    assert path.is_file() and "demo.riaudit" in window.windowTitle()

    reopened = open_in_new_window(qtbot, path)
    assert reopened.results is not None
    assert reopened.eps_bar.eps_index == 2
    assert reopened.examples.status_combo.currentData() == BOUNDARY_ERROR
    assert reopened.examples.current_position() == chosen
    view = reopened.view
    for i, m in enumerate(results.models):
        for k in range(len(results.threat.eps)):
            assert view.rates(i, k) == window.view.rates(i, k)
        again = view.sweep(i)
        np.testing.assert_array_equal(again.adv_pred, m.sweep.adv_pred)
        np.testing.assert_array_equal(again.breaking_eps, m.sweep.breaking_eps)
        np.testing.assert_array_equal(again.adv_images, m.sweep.adv_images)
    # the table shows the same boundary errors; the files matched, so the models are back
    shown = sorted(reopened.examples.visible_positions())
    assert shown == sorted(window.examples.visible_positions())
    assert all(
        reopened.examples.model.data(
            reopened.examples.model.index(reopened.examples.model.row_of(p), STATUS)
        )
        == "boundary error"
        for p in shown[:5]
    )
    # the demo models lie outside the audit's folder, but they are the program's own
    # (resources/demo): found, hash-checked and reopened without asking
    wait_loaded(qtbot, reopened)
    assert [m.info.name for m in reopened.models] == [m.info.name for m in results.models]
    assert reopened.dataset is not None and reopened.view.dataset is not None


def test_a_changed_model_file_is_reported_and_results_stay_viewable(qtbot, tmp_path):
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    audit = Audit(results=results)
    folder, elsewhere = tmp_path / "audit", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    from dataclasses import replace

    for i, m in enumerate(results.models):  # copies: a stranger's files, not the shipped ones
        copy = (folder if i == 0 else elsewhere) / Path(m.info.path).name
        shutil.copy(m.info.path, copy)
        audit.results.models[i] = ModelResult(replace(m.info, path=str(copy)), m.sweep)
    first = audit.results.models[0]
    moved_model = Path(first.info.path)
    path = folder / "a.riaudit"
    save_audit(path, audit)
    moved_model.write_bytes(moved_model.read_bytes() + b"changed")

    reopened = open_in_new_window(qtbot, path)
    dialog = reopened.documents.sources_dialog
    assert dialog is not None and dialog.isVisible()
    assert ("model", first.info.name) in dialog.buttons  # "Locate…" for the changed file
    assert reopened.view.rates(0, 1) == window.view.rates(0, 1)  # still viewable
    # the others lie outside the audit's folder: not checked, nothing reopened unasked
    assert reopened.models == []
    assert set(dialog.confirm_buttons) == {("model", m.info.name) for m in results.models[1:]}
    assert "outside the audit's folder" in dialog.messages["model", results.models[1].info.name]
    dialog.close()


def test_a_run_is_autosaved_and_a_crashed_session_offers_recovery(qtbot, tmp_path, monkeypatch):
    shutil.rmtree(default_autosave_folder(), ignore_errors=True)  # earlier tests' leftovers
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    qtbot.waitUntil(lambda: not window.documents.busy, timeout=TIMEOUT)
    saver = window.documents.autosaver
    assert saver is not None and saver.path.is_file()  # the final results, kept until saved
    monkeypatch.setattr(autosave_module, "_alive_here", lambda marker: False)  # "crashed"
    assert [c.path for c in find_recoverable()] == [saver.path]

    fresh = MainWindow()
    qtbot.addWidget(fresh)
    fresh.documents.offer_recovery()
    box = fresh.documents.recovery_box
    assert box is not None and box.isVisible()
    recover = next(b for b in box.buttons() if b.text() == "Recover")
    with qtbot.waitSignal(fresh.documents.sourcesChecked, timeout=TIMEOUT):
        recover.click()
    assert "recovered" in fresh.windowTitle()
    for i in range(len(results.models)):
        assert fresh.view.rates(i, 3) == window.view.rates(i, 3)
    # saving the recovered results removes the recovery point
    with qtbot.waitSignal(fresh.documents.saved, timeout=TIMEOUT):
        fresh.documents.save_to(str(tmp_path / "recovered.riaudit"))
    assert not saver.path.exists()
    wait_loaded(qtbot, fresh)


def test_autosave_is_throttled_and_removed_on_a_clean_close(qtbot, tmp_path):
    saver = Autosaver(tmp_path, interval=3600)
    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    assert isinstance(results, EvaluationResults)
    assert saver.save(Audit(results=results)) is True
    assert saver.save(Audit(results=results)) is False and saver.pending  # throttled
    qtbot.waitUntil(lambda: not window.documents.busy, timeout=TIMEOUT)
    own = window.documents.autosaver.path
    assert own.is_file() and own.parent == default_autosave_folder()
    window.close()
    assert not own.exists()


def test_exports_from_the_window(qtbot, tmp_path):
    """Report, per-example CSV and summary JSON, written in the background from the window."""
    from pypdf import PdfReader

    window = demo_window(qtbot)
    results = run_to_finish(qtbot, window)
    window.eps_bar.slider.setValue(2)
    for export, name in (
        (window.documents.export_report, "report.pdf"),
        (window.documents.export_csv, "table.csv"),
        (window.documents.export_summary, "summary.json"),
    ):
        with qtbot.waitSignal(window.documents.exported, timeout=TIMEOUT):
            export(str(tmp_path / name))
    pages = PdfReader(tmp_path / "report.pdf").pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert f"{results.models[0].sweep.clean_accuracy:.3f}" in text
    assert "Boundary errors at ε = 0.1 " in text  # the gallery follows the slider's ε
    rows = (tmp_path / "table.csv").read_text().splitlines()
    assert rows[0].startswith("#") and len(rows) > 3 * 360
    import json

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["models"]) == 3


def test_saliency_views_fill_for_every_model(qtbot):
    """Selecting an example fills the clean and adversarial saliency maps of each model."""
    window = demo_window(qtbot)
    run_to_finish(qtbot, window)
    window.eps_bar.slider.setValue(2)
    window.examples.step(1)
    columns = window.detail.columns

    def filled() -> bool:
        return all(
            c.saliency_clean.view.image is not None and c.saliency_adv.view.image is not None
            for c in columns
        )

    qtbot.waitUntil(filled, timeout=TIMEOUT)
    assert all(c.saliency_bar.scale > 0 for c in columns)
    # the number beside the picture: robust models put more attribution on the digit
    qtbot.waitUntil(
        lambda: all("on the digit" in c.concentration_label.text() for c in columns),
        timeout=TIMEOUT,
    )
    shares = [window.detail.saliency.concentration[(i, "gradient")].mean for i in range(3)]
    assert shares[1] > shares[0] and shares[2] > shares[0]
    # a display change re-colours the cached maps without recomputing
    cached = len(window.detail.saliency.cache)
    before = columns[0].saliency_clean.view.image.copy()
    window.detail.saliency_controls.signed_box.setChecked(False)
    assert len(window.detail.saliency.cache) == cached
    assert not np.array_equal(before, columns[0].saliency_clean.view.image)


def test_closing_during_a_run_leaves_no_recovery_file(qtbot):
    from gui_support import SLOW

    shutil.rmtree(default_autosave_folder(), ignore_errors=True)
    window = demo_window(qtbot)
    window.setup.set_threat(SLOW)
    window.documents.autosaver = Autosaver(interval=0)  # every snapshot is written
    with qtbot.waitSignal(window.runner.epsFinished, timeout=TIMEOUT):
        window.run()
    qtbot.waitUntil(lambda: window.documents.autosaver.path.is_file(), timeout=TIMEOUT)
    path = window.documents.autosaver.path
    window.close()
    assert not path.exists() and not find_recoverable()
    qtbot.wait(200)  # the stopped workers' last queued signals arrive


def test_a_located_dataset_is_opened_once(monkeypatch):
    """Relocating hashes the dataset; the sources check after it reuses that opened dataset."""
    from inspector.gui import documents

    calls = []

    class Opened:
        def __init__(self, spec):
            self.info = type("Info", (), {"sha256": f"hash-of-{spec}"})()

    monkeypatch.setattr(documents, "open_dataset", lambda spec: calls.append(spec) or Opened(spec))
    opened: dict = {}
    resolve = documents._opening_resolver(opened)
    assert resolve("npz:/moved/data.npz") == "hash-of-npz:/moved/data.npz"  # the relocation
    assert resolve("npz:/moved/data.npz") == "hash-of-npz:/moved/data.npz"  # the check after
    assert calls == ["npz:/moved/data.npz"] and list(opened) == ["npz:/moved/data.npz"]
