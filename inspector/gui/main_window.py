"""The main window: assembles the panels, the menus and the controllers, and nothing more.

What the panels show lives in the session (core/session.py): they subscribe to it and
redraw themselves. A run is the run controller's (run_control.py), the files the
documents' (documents.py); the window loads models and datasets and implements the narrow
interface (`DocumentHost`) the documents need.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QCursor, QKeySequence
from PySide6.QtWidgets import (
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QPushButton,
)

from inspector.core.data import open_dataset
from inspector.core.data.base import ImageDataset
from inspector.core.devices import leave_a_core_free
from inspector.core.errors import InspectorError
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.results import EvaluationResults
from inspector.core.saliency.methods import preload as preload_saliency
from inspector.core.session import Session
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.about import open_about_box, open_error_box
from inspector.gui.dataset_menu import DatasetMenu
from inspector.gui.detail import DetailPanel
from inspector.gui.documents import Documents
from inspector.gui.eps_bar import EPS_STEPS, EpsBar
from inspector.gui.examples import ExamplesPanel
from inspector.gui.file_dialogs import ask_model_paths, is_model_file
from inspector.gui.layout import central_widget, first_size, setup_dock
from inspector.gui.loader import FileLoader, LoadJob
from inspector.gui.plots import FrontierPlot, TradeoffPlot
from inspector.gui.presentation import Presentation, build_view_menu
from inspector.gui.recent import RecentFiles, save_threat, saved_threat
from inspector.gui.run_control import RunControl
from inspector.gui.run_flags import RunFlags
from inspector.gui.runner import EvaluationRunner
from inspector.gui.setup_panel import SetupPanel
from inspector.gui.shortcuts import open_shortcuts_box
from inspector.gui.view_state import capture_view_state, restore_view_state, saved_marks
from inspector.gui.wording import for_window


class MainWindow(QMainWindow):
    """Robustness Inspector's window."""

    def __init__(self, device: str = "auto") -> None:
        super().__init__()
        self.setWindowTitle("Robustness Inspector")
        self.setAcceptDrops(True)
        self.device = device
        self.flags = RunFlags()  # the command line's trust, model and subset flags
        self.models: list[LoadedModel] = []
        self.dataset: ImageDataset | None = None
        self.last_error: QMessageBox | None = None
        self.about_box: QMessageBox | None = None
        leave_a_core_free()  # attacks on the CPU must not starve this thread
        self.session = Session()
        self.loader = FileLoader(self)
        self.settings = QSettings("RobustnessInspector", "RobustnessInspector")
        self.documents = Documents(self, self)
        self._build_panels()
        self.run_control = RunControl(self.session, self.setup, self)
        self._build_menus()
        self._connect()
        self._restore_geometry()
        self.statusBar().showMessage(self.session.status)

    @property
    def runner(self) -> EvaluationRunner:
        return self.run_control.runner

    @property
    def view(self) -> ResultsView | None:
        return self.session.view

    @property
    def results(self) -> EvaluationResults | None:
        return self.run_control.results

    # -- construction ---------------------------------------------------------------------

    def _build_panels(self) -> None:
        self.setup = SetupPanel(self.session)
        self.setup_dock = setup_dock(self, self.setup)
        self.eps_bar = EpsBar(self.session)  # first: the slider follows the session first
        self.examples = ExamplesPanel()
        self.detail = DetailPanel()
        self.tradeoff = TradeoffPlot()
        self.frontier = FrontierPlot()
        for panel in (self.examples, self.detail, self.tradeoff, self.frontier):
            panel.bind(self.session)
        central = central_widget(
            self.examples, self.detail, self.eps_bar, self.tradeoff, self.frontier
        )
        self.setCentralWidget(central)
        self.presentation = Presentation(self, self.setup_dock, self.eps_bar.headline)
        self.presentation.zoomChanged.connect(self.detail.set_zoom)

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        open_model = self._action("Open &Model…", self.ask_model, QKeySequence.StandardKey.Open)
        file_menu.addAction(open_model)
        self.dataset_menu = DatasetMenu(self, self.settings, self.open_data)
        file_menu.addMenu(self.dataset_menu)
        self.addAction(self.dataset_menu.file_action)  # its shortcut works with the menu shut
        docs = self.documents
        file_menu.addAction(self._action("Open &Audit…", docs.ask_open, "Ctrl+Alt+O"))
        openers = {"recentAudits": docs.open_path, "recentModels": self.add_model}
        openers["recentDatasets"] = self.open_data
        self.recent = RecentFiles(self.settings, file_menu.addMenu("Open &Recent"), openers)
        self.recent_menu = self.recent.menu
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Save Audit", docs.save, QKeySequence.StandardKey.Save))
        file_menu.addAction(self._action("Save Audit &As…", docs.save_as, "Ctrl+Shift+S"))
        export = file_menu.addMenu("&Export")
        export.addAction(self._action("&Report (PDF)…", lambda: docs.export_report(), "Ctrl+E"))
        export.addAction(self._action("Per-example table (&CSV)…", lambda: docs.export_csv()))
        export.addAction(self._action("&Summary (JSON)…", lambda: docs.export_summary()))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))
        run_menu = bar.addMenu("&Run")
        self.run_action = self._action("&Run", self.run, "Ctrl+R")
        self.cancel_action = self._action("&Cancel", self.cancel, "Esc")
        run_menu.addActions([self.run_action, self.cancel_action])
        nav = bar.addMenu("&Examples")
        nav.addAction(self._action("&Next example", lambda: self.examples.step(1), "Ctrl+Down"))
        nav.addAction(self._action("&Previous example", lambda: self.examples.step(-1), "Ctrl+Up"))
        nav.addAction(
            self._action(
                "Show &boundary errors",
                lambda: self.examples.select_status("boundary_error"),
                "Ctrl+B",
            )
        )
        for text, step, keys in EPS_STEPS:  # window-wide: the slider need not have focus
            action = self._action(text, lambda _=False, d=step: self.session.step_eps(d))
            action.setShortcuts([QKeySequence(k) for k in keys])
            nav.addAction(action)
        self.view_actions = build_view_menu(
            bar.addMenu("&View"), self.presentation, self.setup_dock
        )
        help_menu = bar.addMenu("&Help")
        shortcuts = self._action("&Keyboard Shortcuts", lambda: open_shortcuts_box(self))
        help_menu.addAction(shortcuts)
        help_menu.addAction(self._action("&About Robustness Inspector", self.about))

    def _connect(self) -> None:
        s = self.setup
        s.addModelRequested.connect(self.ask_model)
        s.removeModelRequested.connect(self.remove_model)
        s.renameModelRequested.connect(self.rename_model)
        s.openDatasetRequested.connect(self.ask_dataset)
        s.runRequested.connect(self.run)
        s.cancelRequested.connect(self.cancel)
        run = self.run_control
        run.firstRows.connect(lambda: self.examples.step(0))
        run.snapshot.connect(self.documents.autosave)
        run.finished.connect(lambda _results: self.documents.autosave(final=True))
        run.titleChanged.connect(self.set_document_title)
        run.refining.connect(lambda view, k: self._show_view(view, self.view_state(), k))
        run.runner.failed.connect(self.show_error)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(lambda _job, message, details: self.show_error(message, details))
        self.loader.busyChanged.connect(lambda busy: self.session.set_files(loading=busy))
        session = self.session
        session.status_changed.connect(self.statusBar().showMessage)
        session.running_changed.connect(self._update_actions)
        session.files_changed.connect(self._update_actions)

    # -- models and data ------------------------------------------------------------------

    def add_model(self, path: str, name: str | None = None) -> None:
        """Load a model in the background; a bad file gives a dialog, never a crash."""

        def job() -> LoadJob:
            # read when the job starts: a dataset queued before it has been opened by then
            shape = self.dataset.info.shape if self.dataset is not None else None
            device, flags = self.device, self.flags

            def open_model():
                preload_saliency()  # before any run: see its docstring
                return load_model(
                    path,
                    device=device,
                    name=name,
                    fallback_input_shape=shape,
                    trust_code=flags.trust_code,
                    arch=flags.arch,
                    overrides=flags.overrides or None,
                )

            return LoadJob("model", path, open_model)

        self.loader.submit(job)

    def open_data(self, spec: str) -> None:
        """Open a dataset in the background (a folder of images can take a while to index)."""
        self.loader.submit(lambda: LoadJob("dataset", spec, lambda: open_dataset(spec)))

    def _on_loaded(self, job: LoadJob, opened) -> None:
        if job.kind == "model":
            self.models.append(opened)
            self._remember("recentModels", job.source)
            self._models_changed()
            return
        self.dataset = opened
        self._remember("recentDatasets", job.source)
        self.setup.set_dataset(opened.info)
        self.session.set_files(has_data=True)
        view = self.view
        if view is not None and view.dataset is None and view.dataset_info == opened.info:
            view.dataset = opened  # saved results get their thumbnails and clean images
            self._show_view(view, self.view_state())

    def _models_changed(self) -> None:
        self.session.set_files(models=len(self.models))
        self.setup.set_models(self.models)
        self.detail.set_models(self.models)

    def _update_actions(self, *_changed: object) -> None:
        running, loading = self.session.running, self.session.files.loading
        self.run_action.setEnabled(not running and not loading)
        self.cancel_action.setEnabled(running)

    def remove_model(self, row: int) -> None:
        if 0 <= row < len(self.models) and not self.runner.running:
            del self.models[row]
            self._models_changed()

    def rename_model(self, row: int) -> None:
        if not 0 <= row < len(self.models):
            return
        current = self.models[row].info.name
        name, ok = QInputDialog.getText(self, "Rename model", "Name:", text=current)
        if ok and name.strip():
            self.models[row].info = replace(self.models[row].info, name=name.strip())
            self._models_changed()

    def ask_model(self) -> None:
        for path in ask_model_paths(self, self.settings):
            self.add_model(path)

    def ask_dataset(self) -> None:
        """The set-up panel's button: the Open Dataset menu (file, folder, built-in) below it."""
        button = self.setup.findChild(QPushButton, "openDatasetButton")
        where = button.mapToGlobal(button.rect().bottomLeft()) if button else QCursor.pos()
        self.dataset_menu.popup(where)

    # -- running --------------------------------------------------------------------------

    def run(self) -> None:
        if self.runner.running or self.loader.busy or not self.models or self.dataset is None:
            return
        try:
            threat = self.setup.threat()
        except InspectorError as exc:
            self.show_error(for_window(exc))
            return
        self.run_control.start(self.models, self.dataset, threat, self.flags, self.device)

    def cancel(self) -> None:
        self.run_control.cancel()

    def _show_view(
        self, view: ResultsView, state: dict | None = None, k: int | None = None
    ) -> None:
        """Show results; `state`: the selections to keep (the slider at grid point `k`)."""
        self.session.set_view(view)
        if state is not None:
            self.restore_view_state(state if k is None else {**state, "eps_index": k})

    # -- desktop habits -------------------------------------------------------------------

    def show_error(self, message: str, details: str = "") -> None:
        """A window-modal dialog that does not block the event loop (tests read last_error);
        every dialog's text passes for_window here: one line, in the window's words."""
        message = for_window(message)
        self.last_error = open_error_box(self, message, details)
        self.session.say(message)

    def about(self) -> None:
        self.about_box = open_about_box(self, self.device, self.models)

    def _remember(self, key: str, value: str) -> None:
        self.recent.remember(key, value)

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(first_size(self.screen().availableGeometry().size()))

    def closeEvent(self, event) -> None:
        """Stop a running evaluation cleanly, then save the window's geometry."""
        self.run_control.runner.shutdown()
        self.loader.wait()
        self.detail.saliency.wait()
        self.documents.close()  # closed on purpose: no recovery offered next time
        self.settings.setValue("geometry", self.saveGeometry())
        save_threat(self.settings, self.setup.threat)
        super().closeEvent(event)

    # -- documents (the DocumentHost interface) ------------------------------------------

    @property
    def run_going_on(self) -> bool:
        return self.runner.running

    def current_results(self) -> EvaluationResults | None:
        """The finished results, or what a run has finished so far (marked partial)."""
        return self.run_control.current_results()

    def finished_results(self) -> EvaluationResults | None:
        return self.run_control.results

    def say(self, message: str) -> None:
        self.session.say(message)

    def document_named(self, title: str, remembered: str | None = None) -> None:
        self.set_document_title(title)
        if remembered is not None:
            self._remember("recentAudits", remembered)

    def report_eps(self) -> float | None:
        return self.session.computed_eps()

    def report_dataset(self) -> ImageDataset | None:
        return None if self.view is None else self.view.dataset

    def view_state(self) -> dict:
        """The window's selections, saved in audits."""
        return capture_view_state(self.session, self.examples, self.detail.saliency_controls)

    def show_audit(self, audit) -> None:
        """Show saved results as they were, without recomputing anything."""
        self.models, self.dataset = [], None
        self._models_changed()
        self.setup.set_dataset(None)
        self.session.set_files(has_data=False)
        self.setup.set_threat(audit.results.threat)
        self.run_control.results = audit.results
        self.setup.checks_panel.set_results(audit.results)
        self._show_view(ResultsView.from_results(audit.results), audit.view or {})
        marks = saved_marks(audit.results)
        if marks:
            self.setup.progress_text.setText(f"Saved results: {marks}.")
        self.session.say(
            f"Opened saved results{' (' + marks + ')' if marks else ''} · "
            f"{audit.results.threat.describe()} · nothing recomputed"
        )

    def restore_view_state(self, state: dict) -> None:
        restore_view_state(state, self.session, self.examples, self.detail.saliency_controls)

    def sources_checked(self, audit, statuses: list, opened: dict | None = None) -> None:
        """Reopen the files that still match: thumbnails, runs and saliency need them.
        `opened` holds datasets the check already opened (by spec): they are used as they are."""
        if self.results is not audit.results:
            return
        for status in statuses:
            if status.ok and status.kind == "dataset":
                dataset = (opened or {}).get(status.name)
                if dataset is None:
                    self.open_data(status.name)
                else:
                    self._on_loaded(LoadJob("dataset", status.name, lambda d=dataset: d), dataset)
        for status in statuses:
            if status.ok and status.kind == "model":
                self.add_model(status.path, name=status.name)

    def relocated(self, audit) -> None:
        """A source was located elsewhere: the results now point at the new path."""
        self.run_control.results = audit.results
        if self.view is not None:
            for i, m in enumerate(audit.results.models):
                self.view.models[i].info = m.info

    def set_document_title(self, name: str) -> None:
        self.setWindowTitle(f"{name} · Robustness Inspector")

    def saved_threat(self) -> ThreatModel | None:
        """The threat model of the last session's set-up panel, if one was saved and is valid."""
        return saved_threat(self.settings)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if is_model_file(path):
                self.add_model(path)
            else:
                self.open_data(path)

    def load_demo(self, threat: ThreatModel) -> None:
        from inspector.core.demo import DEMO_DATA, demo_model_paths

        self.setup.set_threat(threat)
        self.open_data(DEMO_DATA)
        for path in demo_model_paths():
            self.add_model(str(path))
