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
from inspector.core.data import open_dataset
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.refine import can_refine, refine_evaluation, widen_to
from inspector.core.results import EvaluationResults, library_versions
from inspector.core.sweep import EpsFinished, Progress
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.detail import DetailPanel
from inspector.gui.eps_bar import EpsBar
from inspector.gui.examples import ExamplesPanel
from inspector.gui.plots import FrontierPlot, TradeoffPlot
from inspector.gui.runner import EvaluationRunner
from inspector.gui.setup_panel import SetupPanel

MODEL_SUFFIXES = {".pt2", ".pt", ".ts", ".pth", ".onnx"}
MODEL_FILTER = "Models (*.pt2 *.pt *.ts *.pth *.onnx);;All files (*)"
RECENT_MAX = 8
REFRESH_GAP = 0.2  # seconds between two refreshes of the panels while a run streams results


class MainWindow(QMainWindow):
    """Robustness Inspector's window."""

    def __init__(self, device: str = "auto") -> None:
        super().__init__()
        self.setWindowTitle("Robustness Inspector")
        self.setAcceptDrops(True)
        self.device = device
        self.models: list[LoadedModel] = []
        self.dataset: ImageDataset | None = None
        self.view: ResultsView | None = None
        self.results: EvaluationResults | None = None
        self.last_error: QMessageBox | None = None
        self._run_started = self._model_started = 0.0
        self._progress_model = 0
        self.runner = EvaluationRunner(self)
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
        self.recent_menu = file_menu.addMenu("Open &Recent")
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
        r.finished.connect(self._on_finished)
        r.failed.connect(self._on_failed)
        r.runningChanged.connect(self._on_running)
        self.eps_bar.epsIndexChanged.connect(self._on_eps_index)
        self.examples.selectionChanged.connect(self._on_selection)
        self.examples.modelChanged.connect(
            lambda _: self._on_selection(self.examples.current_position())
        )

    # -- models and data ------------------------------------------------------------------

    def add_model(self, path: str, name: str | None = None) -> bool:
        """Load a model; a bad file gives a dialog, never a crash."""
        fallback = self.dataset.info.shape if self.dataset is not None else None
        try:
            model = load_model(path, device=self.device, name=name, fallback_input_shape=fallback)
        except InspectorError as exc:
            self.show_error(str(exc))
            return False
        except Exception as exc:  # a model that breaks the loader must not take the window down
            self.show_error(f"cannot load {path}: {type(exc).__name__}: {exc}", repr(exc))
            return False
        self.models.append(model)
        self._remember("recentModels", path)
        self.setup.set_models(self.models)
        return True

    def open_data(self, spec: str) -> bool:
        try:
            dataset = open_dataset(spec)
        except InspectorError as exc:
            self.show_error(str(exc))
            return False
        self.dataset = dataset
        self._remember("recentDatasets", spec)
        self.setup.set_dataset(dataset.info)
        return True

    def remove_model(self, row: int) -> None:
        if 0 <= row < len(self.models) and not self.runner.running:
            del self.models[row]
            self.setup.set_models(self.models)

    def rename_model(self, row: int) -> None:
        if not 0 <= row < len(self.models):
            return
        current = self.models[row].info.name
        name, ok = QInputDialog.getText(self, "Rename model", "Name:", text=current)
        if ok and name.strip():
            self.models[row].info = replace(self.models[row].info, name=name.strip())
            self.setup.set_models(self.models)

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
        if self.runner.running or not self.models or self.dataset is None:
            return
        try:
            threat = self.setup.threat()
        except InspectorError as exc:
            self.show_error(str(exc))
            return
        if self._refinable(threat):
            self._refine(threat)
            return
        request = EvaluationRequest(
            models=tuple(ModelRequest(m.info.path, m.info.name) for m in self.models),
            data=self.dataset.info.spec,
            threat=threat,
            device=self.device,
        )
        n = len(self.dataset.labels)
        self.view = ResultsView(
            threat.with_examples(n), self.dataset.info, [m.info for m in self.models], self.dataset
        )
        self.results = None
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
        """Compute only the new ε values, in the background; the old results stay shown."""
        previous = self.results
        self.view = ResultsView.from_results(previous, self.dataset)
        self.view.threat = threat.with_examples(previous.threat.num_examples or 0)
        for i, m in enumerate(previous.models):
            self.view.update(i, widen_to(m.sweep, tuple(threat.eps)))  # old points meanwhile
        self._show_view()
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

    def _refresh_views(self) -> None:
        """Show the view's latest results: everything at once, the detail panel just after."""
        self._refresh_timer.stop()
        self._refreshed_at = time.perf_counter()
        self.examples.refresh()  # at the current ε, as the plots below
        self.eps_bar.refresh()
        self.tradeoff.refresh()
        self.frontier.refresh()
        self._detail_timer.start()

    def _show_detail(self) -> None:
        self.detail.show_example(self.examples.current_position(), self.eps_bar.eps_index)

    def _on_finished(self, results: EvaluationResults) -> None:
        self.results = results
        if self.view is not None:
            self.view.threat = results.threat
            for i, m in enumerate(results.models):
                self.view.update(i, m.sweep)
            self._refresh_views()
        partial = results.partial or len(results.models) < len(self.models)
        state = "partial (cancelled)" if partial else "complete"
        seconds = time.perf_counter() - self._run_started
        self.statusBar().showMessage(
            f"Run {state} in {seconds:.1f} s · {results.threat.describe()}"
        )
        self.setup.progress_text.setText(f"Run {state}.")

    def _on_failed(self, message: str, details: str) -> None:
        self.show_error(message, details)

    def _on_running(self, running: bool) -> None:
        self.setup.set_running(running)
        self.run_action.setEnabled(not running)
        self.cancel_action.setEnabled(running)

    def _on_eps_index(self, k: int) -> None:
        self.examples.set_eps_index(k)
        self.tradeoff.set_eps_index(k)
        self.frontier.set_eps_index(k)
        self.detail.show_example(self.examples.current_position(), k)

    def _on_selection(self, position: int | None) -> None:
        self.detail.show_example(position, self.eps_bar.eps_index)

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
        if details:
            box.setDetailedText(details)
        box.open()
        self.last_error = box
        self.statusBar().showMessage(message)

    def about(self) -> None:
        versions = library_versions()
        devices = sorted({m.info.device for m in self.models}) or [self.device]
        lines = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in versions.items())
        QMessageBox.about(
            self,
            "About Robustness Inspector",
            f"<h3>Robustness Inspector {__version__}</h3>"
            "<p>How an image classifier behaves under adversarial attack.</p>"
            f"<p>Device in use: {', '.join(devices)}</p><table>{lines}</table>",
        )

    def _remember(self, key: str, value: str) -> None:
        items = [v for v in self.settings.value(key, [], type=list) if v != value]
        self.settings.setValue(key, [value, *items][:RECENT_MAX])
        self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        for key, opener in (("recentModels", self.add_model), ("recentDatasets", self.open_data)):
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
        self.settings.setValue("geometry", self.saveGeometry())
        self._save_threat()
        super().closeEvent(event)

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
        if self.open_data(DEMO_DATA):
            for path in demo_model_paths():
                self.add_model(str(path))
