"""The window's files: audits (save, open, sources), exports, autosave and recovery.

Every read and write runs in a superqt worker: an audit of a large run holds every
adversarial image and takes seconds to write. The core does the work (audit.py,
autosave.py, export.py, the report renderer); this class only asks for paths, starts the
workers and reports back in the window.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
    QWidget,
)

from inspector.core.audit import SUFFIX, Audit, check_sources, load_any, relocate, save_audit
from inspector.core.autosave import Autosaver, discard_recoverable, find_recoverable
from inspector.core.data import open_dataset
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.export import save_summary_json, write_csv
from inspector.core.results import EvaluationResults
from inspector.gui.sources_dialog import SourcesDialog
from inspector.gui.wording import for_window
from inspector.gui.workers import release, start_worker

AUDIT_FILTER = f"Audits (*{SUFFIX});;Results (*.json);;All files (*)"


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix


class DocumentHost(Protocol):
    """What the files need from the window: the results, the view's selections, and where
    to show what happened. The window implements it; tests may pass anything that does."""

    settings: QSettings

    @property
    def run_going_on(self) -> bool:
        """A run (or refinement) is computing: no audit opens, autosaves are incomplete."""

    def current_results(self) -> EvaluationResults | None: ...

    def finished_results(self) -> EvaluationResults | None:
        """The finished (or opened) results; None while a run has only partial ones."""

    def view_state(self) -> dict: ...

    def report_eps(self) -> float | None:
        """The ε of the report's gallery: the slider's, where it has been computed."""

    def report_dataset(self) -> ImageDataset | None:
        """The dataset the report's gallery reads clean images from, when at hand."""

    def show_error(self, message: str, details: str = "") -> None: ...

    def say(self, message: str) -> None:
        """One line in the status bar."""

    def document_named(self, title: str, remembered: str | None = None) -> None:
        """The results now have this title; `remembered`: a path for the recent files."""

    def show_audit(self, audit: Audit) -> None: ...

    def sources_checked(self, audit: Audit, statuses: list, opened: dict) -> None: ...

    def relocated(self, audit: Audit) -> None: ...


class Documents(QObject):
    """Save/open audits, export tables and reports, autosave runs, offer recovery."""

    saved = Signal(str)  # path
    sourcesChecked = Signal(object)  # list[SourceStatus]
    exported = Signal(str)  # path of a CSV, JSON or PDF written
    failed = Signal(str)  # one-line message (also shown in a dialog)

    def __init__(self, host: DocumentHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.host, self.parent_widget = host, parent  # dialogs open over the parent
        self.path: Path | None = None  # the audit shown, once saved or opened
        self.audit: Audit | None = None  # what was opened, for relocating its sources
        # The opened file's folder: only files in it are hashed or opened unasked; others
        # once the user confirms them (their paths, as the sources check shows them).
        self.folder: Path | None = None
        self.confirmed: set[str] = set()
        self._reopened: set[tuple[str, str]] = set()  # sources already handed to the window
        self.autosaver: Autosaver | None = None
        self.recovered: Path | None = None  # a recovery point shown, dropped once saved
        self.sources_dialog: SourcesDialog | None = None
        self.recovery_box: QMessageBox | None = None
        self._workers: set = set()
        self._autosaving = False
        self._autosave_again: str | None = None  # "snapshot" or "final" asked during a write
        self._discard_after_autosave = False

    # -- background work ------------------------------------------------------------------

    def _start(
        self,
        function: Callable,
        *args,
        done: Callable[[Any], None],
        what: str = "",
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        holder: list = []
        worker = start_worker(
            function,
            *args,
            returned=done,
            errored=failed or (lambda exc: self._failed(what, exc)),
            finished=lambda: self._forget(holder[0]),
        )
        holder.append(worker)
        self._workers.add(worker)

    def _forget(self, worker) -> None:
        self._workers.discard(worker)
        release(worker)

    def _failed(self, what: str, exc: BaseException) -> None:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        message = (
            for_window(exc) if isinstance(exc, InspectorError) else f"{type(exc).__name__}: {exc}"
        )
        self.host.show_error(f"{what}: {message}", details)
        self.failed.emit(f"{what}: {message}")

    def wait(self, timeout_ms: int = 30_000) -> None:
        """Let writes in flight finish (closing the window must not cut a file short)."""
        for worker in list(self._workers):
            worker.await_workers(timeout_ms)

    def close(self) -> None:
        """The window closes on purpose: finish writes, then drop the recovery point.

        The workers' own completion callbacks may never run now (the window goes away), so
        their bookkeeping is settled here."""
        self.wait()
        for worker in list(self._workers):
            self._forget(worker)
        self._autosaving, self._autosave_again = False, None
        self.discard_autosave()

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    # -- audits ---------------------------------------------------------------------------

    def _results_or_complain(self) -> EvaluationResults | None:
        results = self.host.current_results()
        if results is None or not results.models:
            self.host.show_error("nothing to save yet: run an evaluation or open an audit")
            return None
        return results

    def save(self) -> None:
        if self.path is None or self.path.suffix.lower() != SUFFIX:
            self.save_as()
        else:
            self.save_to(str(self.path))

    def save_as(self) -> None:
        if self._results_or_complain() is None:
            return
        start = self.host.settings.value("lastAuditFolder", "")
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, "Save audit", start, f"Audits (*{SUFFIX})"
        )
        if path:
            self.save_to(_with_suffix(path, SUFFIX))

    def save_to(self, path: str) -> None:
        results = self._results_or_complain()
        if results is None:
            return
        audit = Audit(results=results, view=self.host.view_state())
        self.host.say(f"Saving audit to {path}…")

        def done(_none: object) -> None:
            self.path = Path(path)
            self.host.settings.setValue("lastAuditFolder", str(self.path.parent))
            self.host.document_named(self.path.name, remembered=path)
            self.host.say(f"Audit saved to {path}")
            if self.recovered is not None:  # its results are safe now
                discard_recoverable(self.recovered)
                self.recovered = None
            self.saved.emit(path)

        self._start(save_audit, path, audit, done=done, what=f"cannot save the audit {path}")

    def ask_open(self) -> None:
        start = self.host.settings.value("lastAuditFolder", "")
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open audit", start, AUDIT_FILTER)
        if path:
            self.host.settings.setValue("lastAuditFolder", str(Path(path).parent))
            self.open_path(path)

    def open_path(self, path: str, recovered: bool = False) -> None:
        """Show a saved audit (or results file) as it was, then check its source files."""
        if self.host.run_going_on:
            self.host.show_error("a run is going on: cancel it before opening an audit")
            return
        self.host.say(f"Opening {path}…")

        def done(audit: Audit) -> None:
            self.audit = audit
            self.folder, self.confirmed, self._reopened = Path(path).resolve().parent, set(), set()
            self.path = None if recovered else Path(path)
            self.recovered = Path(path) if recovered else None
            self.host.show_audit(audit)
            name = "recovered results (unsaved)" if recovered else Path(path).name
            self.host.document_named(name, remembered=None if recovered else path)
            self.check_sources(audit)

        self._start(load_any, path, done=done, what=f"cannot open {path}")

    def check_sources(self, audit: Audit, opened: dict | None = None) -> None:
        """Hash the audit's files in the background, then show what matches. Only files in
        the audit's folder, or confirmed by the user, are read. `opened`: datasets already
        opened by spec (a relocation hashed it), used as they are."""
        opened = {} if opened is None else opened
        resolve = _opening_resolver(opened)

        def done(statuses: list) -> None:
            fresh = [s for s in statuses if s.ok and (s.kind, s.name) not in self._reopened]
            self._reopened |= {(s.kind, s.name) for s in fresh}
            self.host.sources_checked(audit, fresh, opened)  # queues the newly matching files
            self.sourcesChecked.emit(statuses)
            if self.sources_dialog is not None:
                self.sources_dialog.close()
            if not all(s.ok for s in statuses):
                self.sources_dialog = SourcesDialog(
                    statuses, self.locate, self.parent_widget, confirm=self.confirm
                )
                self.sources_dialog.open()
                unchecked = sum(s.status == "not checked" for s in statuses)
                if unchecked:
                    self.host.say(
                        f"{unchecked} file(s) of this audit lie outside its folder: not checked "
                        "until you confirm them (Files of this audit)"
                    )

        self._start(
            check_sources, audit, resolve, self.folder, frozenset(self.confirmed),
            done=done, what="cannot check the audit's files",
        )  # fmt: skip

    def confirm(self, kind: str, name: str, path: str) -> None:
        """The user vouches for a file outside the audit's folder: check it, then use it."""
        audit = self.audit
        if audit is None:
            return
        self.confirmed.add(path)
        if kind == "dataset":
            self.confirmed.add(name)  # the spec, as the dataset check looks it up
        self.check_sources(audit)

    def locate(self, kind: str, name: str) -> None:
        """Point a moved model or dataset at its new place (the hash must match)."""
        audit = self.audit
        if audit is None:
            return
        if kind == "model":
            path, _ = QFileDialog.getOpenFileName(self.parent_widget, f"Locate model {name}")
        else:
            path = QFileDialog.getExistingDirectory(self.parent_widget, f"Locate dataset {name}")
        if not path:
            return

        opened: dict = {}  # a located dataset is opened once: hashed here, shown after

        def done(moved: Audit) -> None:
            self.audit = moved
            self.confirmed.add(str(Path(path).resolve()))  # the user chose this file
            self.confirmed.add(moved.results.dataset.spec)
            self.host.relocated(moved)
            if self.sources_dialog is not None:
                self.sources_dialog.close()
            self.check_sources(moved, opened)

        self._start(
            relocate, audit, kind, name, path, _opening_resolver(opened),
            done=done, what=f"cannot use {path}",
        )  # fmt: skip

    # -- exports --------------------------------------------------------------------------

    def _export(
        self, title: str, file_filter: str, suffix: str, write: Callable, path: str | None
    ) -> None:
        results = self._results_or_complain()
        if results is None:
            return
        if path is None:
            start = self.host.settings.value("lastExportFolder", "")
            path, _ = QFileDialog.getSaveFileName(self.parent_widget, title, start, file_filter)
        if path:
            self.host.settings.setValue("lastExportFolder", str(Path(path).parent))
            self.export_to(_with_suffix(path, suffix), write, results)

    def export_to(self, path: str, write: Callable, results: EvaluationResults) -> None:
        def done(_none: object) -> None:
            self.host.say(f"Written {path}")
            self.exported.emit(path)

        self._start(write, path, results, done=done, what=f"cannot write {path}")

    def export_csv(self, path: str | None = None) -> None:
        self._export("Export per-example table", "CSV (*.csv)", ".csv", write_csv, path)

    def export_summary(self, path: str | None = None) -> None:
        self._export("Export summary", "JSON (*.json)", ".json", save_summary_json, path)

    def export_report(self, path: str | None = None) -> None:
        """The PDF report, its gallery at the slider's ε (where that ε has been computed)."""
        eps, dataset = self.host.report_eps(), self.host.report_dataset()
        source = "" if self.path is None else str(self.path)
        from inspector.gui.report_maps import cached_saliency

        saliency = cached_saliency(self.host, self.host.current_results())  # already computed

        def write(path: str, results: EvaluationResults) -> int:
            from inspector.render.pdf import render_report
            from inspector.reporting.data import build_report_data

            data = build_report_data(
                results, eps=eps, source=source, dataset=dataset, saliency=saliency
            )
            return render_report(data, path)

        self._export("Export report", "PDF (*.pdf)", ".pdf", write, path)

    # -- autosave and recovery ------------------------------------------------------------

    def autosave(self, final: bool = False) -> None:
        """Hand the run's finished results to the autosaver, off the GUI thread."""
        if self._autosaving:  # one write at a time; the newest results follow right after
            self._autosave_again = self._autosave_again or "snapshot"
            if final:
                self._autosave_again = "final"
            return
        results = self.host.current_results()
        if results is None or not results.models:
            return
        if self.autosaver is None:
            self.autosaver = Autosaver()
        if self.host.finished_results() is None and self.host.run_going_on:  # a run goes on
            results = dataclasses.replace(results, incomplete=True)
        audit = Audit(results=results, view=self.host.view_state())
        self._autosaving = True

        def done(_written: object) -> None:
            self._autosaving = False
            again, self._autosave_again = self._autosave_again, None
            if self._discard_after_autosave:
                self.discard_autosave()
            elif again:
                self.autosave(final=again == "final")

        def failed(exc: BaseException) -> None:  # autosave is a safety net: say it, go on
            self._autosaving = False
            self.host.say(f"Autosave failed: {exc}")

        self._start(self.autosaver.save, audit, final, done=done, failed=failed)

    def discard_autosave(self) -> None:
        """The results are safe (saved) or dropped on purpose: remove the recovery point."""
        if self._autosaving:
            self._discard_after_autosave = True
            return
        self._discard_after_autosave = False
        if self.autosaver is not None:
            self.autosaver.discard()
            self.autosaver = None

    def offer_recovery(self, folder: str | Path | None = None) -> None:
        """At start: results a crashed session autosaved can be reopened (non-blocking)."""
        candidates = find_recoverable(folder)
        if not candidates:
            return
        newest = candidates[0]
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover results?",
            "Robustness Inspector stopped before the results of a run were saved.\n\n"
            f"{newest.describe()}\n{newest.threat_model}\n\n"
            "Recover them? (Discard deletes the recovery file.)",
            QMessageBox.StandardButton.NoButton,
            self.parent_widget,
        )
        box.setObjectName("recoveryBox")
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)

        def clicked(button) -> None:
            if button is recover:
                self.open_path(str(newest.path), recovered=True)
            elif button is discard:
                discard_recoverable(newest)

        box.buttonClicked.connect(clicked)
        box.open()
        self.recovery_box = box


def _opening_resolver(opened: dict) -> Callable[[str], str]:
    """A dataset spec's SHA-256, opening each spec once (kept in `opened` for showing it)."""

    def resolve(spec: str) -> str:
        if spec not in opened:
            opened[spec] = open_dataset(spec)
        return opened[spec].info.sha256

    return resolve
