"""Hostile audits opened in the window (issue 13): results at once, nothing outside opened.

An audit's model entries point at /etc/passwd (with its real hash) and at a FIFO, its
dataset at `/`: the window shows the saved results, never hashes, opens or walks those
paths, and the sources dialog says why. Out-of-range view values do not reach the widgets.
A cancelled run is saved as partial.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from gui_support import (  # noqa: F401  (fixtures are used by name)
    _no_leaked_widgets,
    _private_settings,
)
from hostile_results_support import edit_json, genuine_results, rewrite_audit

from inspector.core import hashing, sources
from inspector.core.audit import Audit, save_audit
from inspector.core.results import EvaluationResults
from inspector.gui import documents as documents_module
from inspector.gui import runner as runner_module
from inspector.gui.main_window import MainWindow

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def genuine():
    return genuine_results()


def _hostile_audit(genuine: EvaluationResults, folder: Path, elsewhere: Path) -> Path:
    passwd = Path("/etc/passwd")
    sha = hashlib.sha256(passwd.read_bytes()).hexdigest() if passwd.is_file() else "0" * 64
    fifo = elsewhere / "model.pt2"
    os.mkfifo(fifo)
    paths = [(str(passwd), sha), (str(fifo), genuine.models[1].info.sha256)]
    models = [
        replace(m, info=replace(m.info, path=p, sha256=h))
        for m, (p, h) in zip(genuine.models, paths, strict=True)
    ]
    results = replace(genuine, models=models, dataset=replace(genuine.dataset, spec="/"))
    path = folder / "hostile.riaudit"
    save_audit(path, Audit(results=results, view={"eps_index": 2}))
    return path


def _spy(monkeypatch) -> list:
    """Record every hash, dataset opening and model loading the window asks for."""
    seen: list = []

    def record(name, original):
        def spy(*args, **kwargs):
            seen.append((name, str(args[0]) if args else ""))
            return original(*args, **kwargs)

        return spy

    monkeypatch.setattr(sources, "sha256_file", record("hash", sources.sha256_file))
    monkeypatch.setattr(hashing, "sha256_file", record("hash", hashing.sha256_file))
    monkeypatch.setattr(sources, "dataset_sha256", record("dataset", sources.dataset_sha256))
    monkeypatch.setattr(documents_module, "open_dataset", record("open", lambda s: None))
    monkeypatch.setattr(MainWindow, "add_model", record("model", lambda self, *a, **k: None))
    monkeypatch.setattr(MainWindow, "open_data", record("data", lambda self, *a, **k: None))
    return seen


def test_a_hostile_audit_shows_its_results_and_opens_nothing(qtbot, tmp_path, monkeypatch, genuine):
    folder, elsewhere = tmp_path / "audit", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    path = _hostile_audit(genuine, folder, elsewhere)
    seen = _spy(monkeypatch)
    window = MainWindow()
    qtbot.addWidget(window)
    start = time.monotonic()
    with qtbot.waitSignal(window.documents.sourcesChecked, timeout=TIMEOUT) as blocker:
        window.documents.open_path(str(path))
    assert time.monotonic() - start < 10
    assert window.view is not None and window.eps_bar.eps_index == 2  # the results, at once
    assert window.view.rates(0, 1) == _rates(genuine, 0, 1)
    assert seen == []  # nothing hashed, opened, walked or loaded
    statuses = {(s.kind, s.name): s for s in blocker.args[0]}
    names = [m.info.name for m in genuine.models]
    assert statuses["model", names[0]].status == "refused"
    assert statuses["model", names[1]].status == "not checked"
    assert statuses["dataset", "/"].status == "not checked"
    dialog = window.documents.sources_dialog
    assert dialog is not None and dialog.isVisible()
    assert "system folder" in dialog.messages["model", names[0]]
    assert "outside the audit's folder" in dialog.messages["dataset", "/"]
    assert ("model", names[0]) not in dialog.confirm_buttons  # a system file: no way to confirm
    # confirming the FIFO lets the check look at it: refused, still never opened
    with qtbot.waitSignal(window.documents.sourcesChecked, timeout=TIMEOUT) as blocker:
        dialog.confirm_buttons["model", names[1]].click()
    fifo = next(s for s in blocker.args[0] if s.name == names[1])
    assert fifo.status == "refused" and "not a regular file" in fifo.message
    assert seen == []
    window.documents.sources_dialog.close()


def _rates(results: EvaluationResults, model: int, k: int):
    from inspector.core.view import ResultsView

    return ResultsView.from_results(results).rates(model, k)


def test_out_of_range_view_values_do_not_reach_the_widgets(qtbot, tmp_path, genuine):
    good = tmp_path / "good.riaudit"
    save_audit(good, Audit(results=genuine))
    view = {
        "eps_index": 10**30,
        "examples": {"example": 10**9, "model_index": -1, "sort_column": 10**20},
        "saliency": {"opacity": 10**30, "method": "x" * 60},
    }
    path = rewrite_audit(
        good, tmp_path / "view.riaudit", edit_json("audit.json", lambda h: h.update(view=view))
    )
    window = MainWindow()
    qtbot.addWidget(window)
    start = time.monotonic()
    with qtbot.waitSignal(window.documents.sourcesChecked, timeout=TIMEOUT):
        window.documents.open_path(str(path))
    assert time.monotonic() - start < 10
    assert window.detail.saliency_controls.opacity.value() == 80  # the default, untouched
    assert 0 <= window.eps_bar.eps_index < len(genuine.threat.eps)
    assert window.examples.model_combo.currentIndex() == 0
    if window.documents.sources_dialog is not None:
        window.documents.sources_dialog.close()


def test_a_run_cancelled_before_every_model_finished_is_partial(qtbot, monkeypatch, genuine):
    one = replace(genuine, models=genuine.models[:1])
    assert not one.partial  # the one model that finished is complete

    def evaluate_models(models, dataset, request, cancel):
        yield one

    monkeypatch.setattr(runner_module, "evaluate_models", evaluate_models)
    runner = runner_module.EvaluationRunner()
    with qtbot.waitSignal(runner.finished, timeout=TIMEOUT) as blocker:
        runner.start([object(), object()], None, None)
    qtbot.waitUntil(lambda: not runner.running, timeout=TIMEOUT)
    assert blocker.args[0].partial


def test_an_audit_beside_a_payload_pt2_never_runs_it(qtbot, tmp_path, genuine):
    """Issue 13: a .riaudit whose model entry is a .pt2 carrying a pickle payload, with its
    true SHA-256 and in the audit's own folder (so it is checked and reloaded): the load goes
    through the same checks as opening the file by hand, the payload never runs, and the
    window says the model was refused."""
    from hostile_support import sample_inputs_payload

    from inspector.core.demo import demo_model_paths

    folder = tmp_path / "audit"
    folder.mkdir()
    marker = tmp_path / "payload-ran"
    source = demo_model_paths()[0]
    hostile = sample_inputs_payload(source, folder / source.name, marker)
    sidecar = Path(str(source) + ".json")
    (folder / sidecar.name).write_bytes(sidecar.read_bytes())
    sha = hashlib.sha256(hostile.read_bytes()).hexdigest()
    first = genuine.models[0]
    models = (replace(first, info=replace(first.info, path=str(hostile), sha256=sha)),)
    path = folder / "hostile.riaudit"
    save_audit(path, Audit(results=replace(genuine, models=models), view={"eps_index": 1}))

    window = MainWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.documents.sourcesChecked, timeout=TIMEOUT) as blocker:
        window.documents.open_path(str(path))
    assert [s.status for s in blocker.args[0] if s.kind == "model"] == ["ok"]
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=TIMEOUT)
    assert not marker.exists()
    message = window.last_error.text()
    assert "refused" in message and "sample_inputs" in message, message
    assert window.view is not None  # the saved results stay on screen
    window.last_error.close()
