"""The documents (save, open, export) need only their narrow host interface, not a window."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gui_support import (  # noqa: F401  (fixtures are used by name)
    SMALL,
    _no_leaked_widgets,
    _private_settings,
)
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from inspector.core.audit import load_any
from inspector.core.demo import DEMO_DATA, demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.results import EvaluationResults
from inspector.gui.documents import Documents


@dataclass
class Host:
    """Everything `DocumentHost` asks for, recorded; no window, no panels."""

    results: EvaluationResults
    settings: QSettings
    run_going_on: bool = False
    said: list[str] = field(default_factory=list)
    named: list[tuple[str, str | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def current_results(self) -> EvaluationResults:
        return self.results

    def finished_results(self) -> EvaluationResults:
        return self.results

    def view_state(self) -> dict:
        return {"eps_index": 2}

    def report_eps(self) -> float:
        return 0.1

    def report_dataset(self) -> None:
        return None

    def show_error(self, message: str, details: str = "") -> None:
        self.errors.append(message)

    def say(self, message: str) -> None:
        self.said.append(message)

    def document_named(self, title: str, remembered: str | None = None) -> None:
        self.named.append((title, remembered))

    def show_audit(self, audit) -> None:
        self.shown = audit

    def sources_checked(self, audit, statuses: list, opened: dict) -> None:
        self.checked = [s.status for s in statuses]

    def relocated(self, audit) -> None:
        self.moved = audit


def test_save_and_open_through_the_host(qtbot, tmp_path):
    model = ModelRequest(str(demo_model_paths()[0]))
    results = run_to_end(
        EvaluationRequest(models=(model,), data=DEMO_DATA, threat=SMALL, limit=40, checks=False)
    )
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    host, parent = Host(results, settings), QWidget()
    qtbot.addWidget(parent)
    documents = Documents(host, parent)
    path = str(tmp_path / "small.riaudit")
    with qtbot.waitSignal(documents.saved, timeout=30_000):
        documents.save_to(path)
    assert host.said == [f"Saving audit to {path}…", f"Audit saved to {path}"]
    assert host.named == [("small.riaudit", path)] and host.errors == []
    assert settings.value("lastAuditFolder") == str(Path(path).parent)
    saved = load_any(path)
    assert saved.view == {"eps_index": 2}
    assert saved.results.models[0].sweep.eps_done == len(SMALL.eps)
    with qtbot.waitSignal(documents.sourcesChecked, timeout=30_000):
        documents.open_path(path)
    assert host.shown.results.threat == results.threat
    assert host.named[-1] == ("small.riaudit", path)
    documents.close()


def test_nothing_opens_while_the_host_runs(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    host, parent = Host(None, settings, run_going_on=True), QWidget()
    qtbot.addWidget(parent)
    documents = Documents(host, parent)
    documents.open_path(str(tmp_path / "any.riaudit"))
    assert host.errors == ["a run is going on: cancel it before opening an audit"]
    assert host.said == [] and not documents.busy
    documents.close()
