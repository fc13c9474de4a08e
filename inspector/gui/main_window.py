"""The main window: wires the panels to the core and to the background runner.

It owns the session state (loaded models, dataset, the ResultsView of the current run);
panels are views that receive that state and emit what the user asks for.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from inspector import __version__
from inspector.core.assess import Assessed
from inspector.core.data import open_dataset, stratified_subset
from inspector.core.data.base import ImageDataset
from inspector.core.devices import leave_a_core_free
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.refine import can_refine, refine_evaluation, widen_to
from inspector.core.results import (
    EvaluationResults,
    ModelResult,
    environment,
    library_versions,
)
from inspector.core.saliency.methods import preload as preload_saliency
from inspector.core.sweep import EpsFinished, Progress
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.detail import DetailPanel
from inspector.gui.documents import Documents
from inspector.gui.eps_bar import EpsBar
from inspector.gui.examples import ExamplesPanel
from inspector.gui.loader import FileLoader, LoadJob
from inspector.gui.plots import FrontierPlot, TradeoffPlot
from inspector.gui.run_flags import RunFlags
from inspector.gui.runner import EvaluationRunner
from inspector.gui.setup_panel import SetupPanel
from inspector.gui.wording import for_window

MODEL_SUFFIXES = {".pt2", ".pt", ".ts", ".pth", ".onnx"}
MODEL_FILTER = "Models (*.pt2 *.pt *.ts *.pth *.onnx);;All files (*)"
RECENT_MAX = 8
REFRESH_GAP = 0.2  # seconds between two refreshes of the panels while a run streams results


def _version_of(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def about_text(device: str, models: list[LoadedModel]) -> str:
    """The About box's body: what the tool is, where it computes, and every version."""
    import torch

    from inspector.core.devices import resolve_device, usable_cores

    try:
        default = str(resolve_device(device))
    except InspectorError:
        default = f"{device} (not available)"
    devices = sorted({m.info.device for m in models}) or [default]
    gpu = (
        torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none found (CPU only)"
    )
    providers = sorted({p for m in models for p in m.info.providers})
    used, cores = torch.get_num_threads(), usable_cores()
    threads = f"{used} of {cores} cores" + (", one left to the window" if used < cores else "")
    rows = [("Device in use", ", ".join(devices)), ("GPU", gpu), ("CPU threads", threads)]
    if providers:
        rows.append(("ONNX Runtime providers in use", ", ".join(providers)))
    rows += list(library_versions().items())
    rows += [(name, _version_of(name)) for name in ("PySide6", "pyqtgraph", "superqt", "captum")]
    cells = "".join(
        f'<tr><td style="padding-right:14px;color:gray">{k}</td><td>{v}</td></tr>'
        for k, v in rows
    )
    return (
        f"<h3>Robustness Inspector {__version__}</h3>"
        "<p>How an image classifier behaves under adversarial attack: clean and adversarial "
        "predictions, boundary errors, and the clean/robust tradeoff over ε.</p>"
        "<p>Attack-based robust accuracy is an <i>upper bound</i> on the true robust "
        "accuracy: a stronger attack can only lower it.</p>"
        f"<table>{cells}</table>"
    )


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
        self.view: ResultsView | None = None
        self.results: EvaluationResults | None = None
        self._assessed: dict[int, Assessed] = {}  # checks so far, by model (autosave)
        self.last_error: QMessageBox | None = None
        self.about_box: QMessageBox | None = None
        self._run_started = self._model_started = 0.0
        self._progress_model = 0
        leave_a_core_free()  # attacks on the CPU must not starve this thread
        self.runner = EvaluationRunner(self)
        self.loader = FileLoader(self)
        self.documents = Documents(self)
        # New results refresh the panels once per burst, at most every REFRESH_GAP seconds,
        # and the detail panel a turn of the event loop later: each refresh and its repaint
        # cost tens of milliseconds of the GUI thread, which shares 2 cores with the attack.
        self._refresh_timer = QTimer(self, singleShot=True)
        self._refresh_timer.timeout.connect(self._refresh_views)
        self._refreshed_at = 0.0
        self._detail_timer = QTimer(self, singleShot=True, interval=0)
        self._detail_timer.timeout.connect(self._show_detail)
        self._build_panels()
        self._build_menus()
        self._connect()
        self.settings = QSettings("RobustnessInspector", "RobustnessInspector")
        self._restore_geometry()
        self.statusBar().showMessage("Add a model and a dataset, then press Run.")

    # -- construction ---------------------------------------------------------------------

    def _build_panels(self) -> None:
        self.setup = SetupPanel()
        dock = QDockWidget("Set-up", self, objectName="setupDock")
        dock.setWidget(self.setup)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.examples = ExamplesPanel()
        self.detail = DetailPanel()
        self.eps_bar = EpsBar()
        self.tradeoff = TradeoffPlot()
        self.frontier = FrontierPlot()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.examples)
        top.addWidget(self.detail)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([760, 560])
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.tradeoff)
        plots.addWidget(self.frontier)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 2)
        bottom = QWidget()
        v = QVBoxLayout(bottom)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.eps_bar)
        v.addWidget(plots, 1)
        central = QSplitter(Qt.Orientation.Vertical)
        central.addWidget(top)
        central.addWidget(bottom)
        central.setStretchFactor(0, 3)
        central.setStretchFactor(1, 2)
        central.setSizes([470, 470])
        self.setCentralWidget(central)

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
        file_menu.addAction(self._action("Open &Dataset…", self.ask_dataset, "Ctrl+Shift+O"))
        docs = self.documents
        file_menu.addAction(self._action("Open &Audit…", docs.ask_open, "Ctrl+Alt+O"))
        self.recent_menu = file_menu.addMenu("Open &Recent")
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
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About Robustness Inspector", self.about))

    def _connect(self) -> None:
        s = self.setup
        s.addModelRequested.connect(self.ask_model)
        s.removeModelRequested.connect(self.remove_model)
        s.renameModelRequested.connect(self.rename_model)
        s.openDatasetRequested.connect(self.ask_dataset)
        s.runRequested.connect(self.run)
        s.cancelRequested.connect(self.cancel)
        r = self.runner
        r.progress.connect(self._on_progress)
        r.epsFinished.connect(self._on_eps_finished)
        r.assessed.connect(self._on_assessed)
        r.finished.connect(self._on_finished)
        r.failed.connect(self._on_failed)
        r.runningChanged.connect(self._on_running)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.busyChanged.connect(self._on_loading)
        self.eps_bar.epsIndexChanged.connect(self._on_eps_index)
        self.eps_bar.epsValueChanged.connect(self._on_eps_value)
        self.examples.selectionChanged.connect(self._on_selection)
        self.examples.modelChanged.connect(lambda _: self._show_detail())

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
            self.setup.set_models(self.models)
            self.detail.set_models(self.models)
        else:
            self.dataset = opened
            self._remember("recentDatasets", job.source)
            self.setup.set_dataset(opened.info)
            view = self.view
            if view is not None and view.dataset is None and view.dataset_info == opened.info:
                view.dataset = opened  # saved results get their thumbnails and clean images
                state = self.view_state()
                self._show_view()
                self.restore_view_state(state)

    def _on_load_failed(self, job: LoadJob, message: str, details: str) -> None:
        self.show_error(message, details)

    def _on_loading(self, busy: bool) -> None:
        self.setup.set_loading(busy)
        self.run_action.setEnabled(not busy and not self.runner.running)
        if busy:
            self.statusBar().showMessage("Opening files in the background…")
        elif self.models and self.dataset is not None:
            self.statusBar().showMessage("Ready: press Run (Ctrl+R).")

    def remove_model(self, row: int) -> None:
        if 0 <= row < len(self.models) and not self.runner.running:
            del self.models[row]
            self.setup.set_models(self.models)
            self.detail.set_models(self.models)

    def rename_model(self, row: int) -> None:
        if not 0 <= row < len(self.models):
            return
        current = self.models[row].info.name
        name, ok = QInputDialog.getText(self, "Rename model", "Name:", text=current)
        if ok and name.strip():
            self.models[row].info = replace(self.models[row].info, name=name.strip())
            self.setup.set_models(self.models)
            self.detail.set_models(self.models)

    def ask_model(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open model", self.settings.value("lastModelFolder", ""), MODEL_FILTER
        )
        for path in paths:
            self.settings.setValue("lastModelFolder", str(Path(path).parent))
            self.add_model(path)

    def ask_dataset(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self,
            "Open dataset folder (image folder, CIFAR-10, MNIST)",
            self.settings.value("lastDataFolder", ""),
        )
        if path:
            self.settings.setValue("lastDataFolder", path)
            self.open_data(path)

    # -- running --------------------------------------------------------------------------

    def run(self) -> None:
        if self.runner.running or self.loader.busy or not self.models or self.dataset is None:
            return
        try:
            threat = self.setup.threat()
        except InspectorError as exc:
            self.show_error(for_window(exc))
            return
        if self._refinable(threat):
            self._refine(threat)
            return
        flags = self.flags
        request = EvaluationRequest(
            models=tuple(
                ModelRequest(m.info.path, m.info.name, flags.arch, dict(flags.overrides))
                for m in self.models
            ),
            data=self.dataset.info.spec,
            threat=threat,
            limit=flags.limit,
            device=self.device,
            trust_code=flags.trust_code,
            resize=flags.resize,
            checks=self.setup.checks.isChecked(),
            smoothing=self.setup.smoothing(),
        )
        n = len(stratified_subset(self.dataset.labels, flags.limit, threat.seed))
        self.view = ResultsView(
            threat.with_examples(n), self.dataset.info, [m.info for m in self.models], self.dataset
        )
        self.results = None
        self._assessed = {}
        self.setup.checks_panel.set_results(None)
        self.set_document_title("running…")
        self._show_view()
        self._start_clock()
        self.runner.start(list(self.models), self.dataset, request)

    def _refinable(self, threat: ThreatModel) -> bool:
        """A finished run of the same models and data whose grid the new one extends."""
        r = self.results
        return (
            r is not None
            and not r.partial
            and self.dataset is not None
            and r.dataset == self.dataset.info
            and [m.info for m in r.models] == [m.info for m in self.models]
            and can_refine(r.threat, threat)
        )

    def _refine(self, threat: ThreatModel) -> None:
        """Compute only the new ε values, in the background; the old results stay shown, with
        the same example chosen and the slider at the same ε."""
        previous = self.results
        state, eps = self.view_state(), self.eps_bar.eps_value
        self.view = ResultsView.from_results(previous, self.dataset)
        self.view.threat = threat.with_examples(previous.threat.num_examples or 0)
        for i, m in enumerate(previous.models):
            self.view.update(i, widen_to(m.sweep, tuple(threat.eps)))  # old points meanwhile
        self._show_view()
        grid = list(self.view.eps)
        state["eps_index"] = grid.index(eps) if eps in grid else self.eps_bar.eps_index
        self.restore_view_state(state)
        self._start_clock()
        self.statusBar().showMessage("Refining the ε grid: only the new ε values are attacked.")
        models, dataset = list(self.models), self.dataset
        self.runner.start_work(
            lambda cancel: refine_evaluation(models, dataset, previous, threat, cancel=cancel)
        )

    def _show_view(self) -> None:
        for panel in (self.examples, self.detail, self.eps_bar, self.tradeoff, self.frontier):
            panel.set_view(self.view)
        self._on_eps_index(self.eps_bar.eps_index)

    def _start_clock(self) -> None:
        self._run_started = self._model_started = time.perf_counter()
        self._progress_model = 0

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.statusBar().showMessage("Cancelling… finished ε values are kept.")

    def _on_progress(self, event: Progress) -> None:
        if event.model_index != self._progress_model:
            self._progress_model, self._model_started = event.model_index, time.perf_counter()
        elapsed = max(time.perf_counter() - self._model_started, 1e-6)
        rate = event.done / elapsed  # per model: the clock restarts when a model starts
        eta = (event.total - event.done) / rate if rate > 0 else 0.0
        self.setup.show_progress(event, rate, eta)

    def _on_assessed(self, event: Assessed) -> None:
        """A model's checks so far: kept for autosave, shown as they come."""
        if self.results is not None:
            return  # a refinement: the finished results hold the checks until it ends
        self._assessed[event.model_index] = event
        if self.view is not None:
            self.view.checks[event.model_index] = list(event.checks)
        self.setup.checks_panel.set_results(self.current_results())

    def _on_eps_finished(self, event: EpsFinished) -> None:
        if self.view is None:
            return

        first = self.view.sweep(event.model_index) is None
        self.view.update(event.model_index, event.snapshot)
        if first and event.model_index == 0:  # the rows appear: show them and select one
            self._refresh_views()
            self.examples.step(0)
        elif not self._refresh_timer.isActive():
            wait = REFRESH_GAP - (time.perf_counter() - self._refreshed_at)
            self._refresh_timer.start(max(0, int(1000 * wait)))
        self.documents.autosave()  # throttled by the autosaver, written off the GUI thread

    def _refresh_views(self) -> None:
        """Show the view's latest results: everything at once, the detail panel just after."""
        self._refresh_timer.stop()
        self._refreshed_at = time.perf_counter()
        self.examples.refresh()  # at the current ε, as the plots below
        self.eps_bar.refresh()
        self.tradeoff.refresh()
        self.frontier.refresh()
        self._on_eps_value(self.eps_bar.eps_value)
        self._detail_timer.start()

    def _show_detail(self) -> None:
        """The chosen example in the detail panel, even while the table's filters hide it."""
        self.detail.show_example(
            self.examples.current_position(),
            self.eps_bar.eps_index,
            hidden=self.examples.chosen_hidden(),
        )

    def _on_finished(self, results: EvaluationResults) -> None:
        self.results = results
        if self.view is not None:
            self.view.threat = results.threat
            for i, m in enumerate(results.models):
                self.view.update(i, m.sweep)
                if m.smoothing:
                    self.view.smoothing[i] = m.smoothing
                self.view.checks[i] = list(m.checks)  # the warning marks follow them
            self._refresh_views()
        partial = results.partial or len(results.models) < len(self.models)
        state = "partial (cancelled)" if partial else "complete"
        seconds = time.perf_counter() - self._run_started
        self.statusBar().showMessage(
            f"Run {state} in {seconds:.1f} s · {results.threat.describe()}"
        )
        self.setup.progress_text.setText(f"Run {state}.")
        if not partial:
            self.setup.progress.setValue(self.setup.progress.maximum())
        self.setup.checks_panel.set_results(results)
        self.documents.autosave(final=True)  # kept until saved: a crash now loses nothing
        self.set_document_title("unsaved results")

    def _on_failed(self, message: str, details: str) -> None:
        self.show_error(message, details)

    def _on_running(self, running: bool) -> None:
        self.setup.set_running(running)
        self.detail.set_running(running)
        self.run_action.setEnabled(not running and not self.loader.busy)
        self.cancel_action.setEnabled(running)

    def _on_eps_index(self, k: int) -> None:
        self.examples.set_eps_index(k)
        self.tradeoff.set_eps_index(k)
        self.frontier.set_eps_index(k)
        self._on_eps_value(self.eps_bar.eps_value)
        self._show_detail()

    def _on_eps_value(self, eps: float) -> None:
        """Between grid points (FMN radii): the markers and the frontier follow ε itself."""
        fine = self.eps_bar.fine
        if fine or self.frontier.eps_value is not None:  # grid moves: set_eps_index did it
            self.frontier.set_eps_value(eps if fine else None)
        if fine:
            self.tradeoff.set_eps_value(eps)

    def _on_selection(self, _position: int | None) -> None:
        self._show_detail()

    # -- desktop habits -------------------------------------------------------------------

    def show_error(self, message: str, details: str = "") -> None:
        """A window-modal dialog that does not block the event loop (tests read last_error)."""
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Robustness Inspector",
            message,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("errorDialog")
        box.setTextFormat(Qt.TextFormat.PlainText)  # messages quote names from hostile files
        if details:
            box.setDetailedText(details)
        box.open()
        self.last_error = box
        self.statusBar().showMessage(message)

    def about(self) -> None:
        """Versions and the device in use: what a bug report or an audit needs to cite."""
        box = QMessageBox(self)
        box.setObjectName("aboutBox")
        box.setWindowTitle("About Robustness Inspector")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(about_text(self.device, self.models))
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.open()
        self.about_box = box

    def _remember(self, key: str, value: str) -> None:
        items = [v for v in self.settings.value(key, [], type=list) if v != value]
        self.settings.setValue(key, [value, *items][:RECENT_MAX])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for key, opener in (
            ("recentAudits", self.documents.open_path),
            ("recentModels", self.add_model),
            ("recentDatasets", self.open_data),
        ):
            for value in self.settings.value(key, [], type=list):  # 1 item reads back as str
                action = self.recent_menu.addAction(value)
                action.triggered.connect(lambda _=False, v=value, o=opener: o(v))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1600, 1000)
        self._rebuild_recent()

    def closeEvent(self, event) -> None:
        """Stop a running evaluation cleanly, then save the window's geometry."""
        self.runner.shutdown()
        self.loader.wait()
        self.detail.saliency.wait()
        self.documents.close()  # closed on purpose: no recovery offered next time
        self.settings.setValue("geometry", self.saveGeometry())
        self._save_threat()
        super().closeEvent(event)

    # -- documents ------------------------------------------------------------------------

    def current_results(self) -> EvaluationResults | None:
        """The finished results, or what a run has finished so far (marked partial)."""
        if self.results is not None:
            return self.results
        view = self.view
        if view is None:
            return None
        assessed = self._assessed
        done = []
        for i, m in enumerate(view.models):
            if m.sweep is not None:
                kept = assessed.get(i)
                checks = [] if kept is None else list(kept.checks)
                done.append(ModelResult(m.info, m.sweep, checks, kept and kept.smoothing))
        if not done:
            return None
        env = environment(m.info for m in done)
        return EvaluationResults(view.threat, view.dataset_info, done, environment=env)

    def view_state(self) -> dict:
        """The window's selections, saved in audits."""
        return {
            "eps_index": self.eps_bar.eps_index,
            "examples": self.examples.state(),
            "saliency": self.detail.saliency_controls.state(),
        }

    def show_audit(self, audit) -> None:
        """Show saved results as they were, without recomputing anything."""
        self.models, self.dataset = [], None
        self.setup.set_models(self.models)
        self.detail.set_models(self.models)
        self.setup.set_dataset(None)
        self.setup.set_threat(audit.results.threat)
        self.results = audit.results
        self.setup.checks_panel.set_results(audit.results)
        self.view = ResultsView.from_results(audit.results)
        self._show_view()
        self.restore_view_state(audit.view or {})
        marks = _saved_marks(audit.results)
        if marks:
            self.setup.progress_text.setText(f"Saved results: {marks}.")
        self.statusBar().showMessage(
            f"Opened saved results{' (' + marks + ')' if marks else ''} · "
            f"{audit.results.threat.describe()} · nothing recomputed"
        )

    def restore_view_state(self, state: dict) -> None:
        k = state.get("eps_index")
        if self.view is not None and isinstance(k, int) and 0 <= k < len(self.view.eps):
            self.eps_bar.set_eps_index(k)
        if isinstance(state.get("examples"), dict):
            self.examples.restore_state(state["examples"])
        if isinstance(state.get("saliency"), dict):
            self.detail.saliency_controls.restore_state(state["saliency"])
        if self.examples.current_position() is None:
            self.examples.step(0)

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
        self.results = audit.results
        if self.view is not None:
            for i, m in enumerate(audit.results.models):
                self.view.models[i].info = m.info

    def remember_audit(self, path: str) -> None:
        self._remember("recentAudits", path)

    def set_document_title(self, name: str) -> None:
        self.setWindowTitle(f"{name} · Robustness Inspector")

    def _save_threat(self) -> None:
        with contextlib.suppress(InspectorError):  # invalid controls: keep the last good one
            self.settings.setValue("threat", json.dumps(self.setup.threat().to_dict()))

    def saved_threat(self) -> ThreatModel | None:
        """The threat model of the last session's set-up panel, if one was saved and is valid."""
        text = self.settings.value("threat", "")
        try:
            return ThreatModel.from_dict(json.loads(text)) if text else None
        except (InspectorError, ValueError, TypeError, KeyError):
            return None

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if Path(path).suffix.lower() in MODEL_SUFFIXES:
                self.add_model(path)
            else:
                self.open_data(path)

    def load_demo(self, threat: ThreatModel) -> None:
        from inspector.core.demo import DEMO_DATA, demo_model_paths

        self.setup.set_threat(threat)
        self.open_data(DEMO_DATA)
        for path in demo_model_paths():
            self.add_model(str(path))


def _saved_marks(results: EvaluationResults) -> str:
    """What a saved file is short of: partial (a stopped or interrupted run, a checkpoint),
    or one part of a sharded run."""
    marks = []
    if results.partial:
        marks.append("partial: not every model and ε finished")
    shard = results.shard
    if isinstance(shard, dict) and {"index", "count"} <= shard.keys():
        marks.append(f"part {shard['index']}/{shard['count']} of a sharded run")
    return "; ".join(marks)
