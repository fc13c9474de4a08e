"""The set-up panel: models, dataset, threat model, Run and Cancel, progress.

It only collects choices and shows state; the main window acts on its signals.
"""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inspector.core.attacks.registry import ATTACK_SPECS, NAMES, spec
from inspector.core.data.base import DatasetInfo
from inspector.core.models.base import LoadedModel
from inspector.core.session import Session
from inspector.core.smoothing import SmoothingSpec
from inspector.core.sweep import Progress
from inspector.core.threat import NORMS, ThreatModel, format_eps
from inspector.gui.checks_panel import ChecksPanel
from inspector.gui.fitting import fit_to_current

NORM_LABELS = {"linf": "L∞", "l2": "L2"}
# QProgressBar.setValue repaints synchronously, and with it everything else waiting to be
# painted: at one call per batch of examples that stalled the window. 10 updates a second.
PROGRESS_INTERVAL = 0.1


def _model_line(model: LoadedModel) -> str:
    i = model.info
    return f"{i.name}\n   {i.backend} · {i.device} · {i.num_classes} classes"


class SetupPanel(QWidget):
    """Choices for the next run; emits what the user asks for."""

    addModelRequested = Signal()
    removeModelRequested = Signal(int)
    renameModelRequested = Signal(int)
    openDatasetRequested = Signal()
    runRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # what is loaded and whether a run goes on: read from the session, never from labels
        self.session = session if session is not None else Session()
        self._given: tuple[ThreatModel, ThreatModel] | None = None  # (exact, as shown)
        layout = QVBoxLayout(self)
        layout.addWidget(self._models_box())
        layout.addWidget(self._dataset_box())
        layout.addWidget(self._threat_box())
        layout.addLayout(self._run_row())
        self.progress = QProgressBar(objectName="progressBar")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self._progress_shown = 0.0
        self.progress_text = QLabel("Ready.", objectName="progressText")
        self.progress_text.setWordWrap(True)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        self.checks_panel = ChecksPanel()
        layout.addWidget(self.checks_panel, 1)
        self.session.files_changed.connect(lambda _files: self._update_enabled())
        self.session.running_changed.connect(self._on_running)
        self._update_enabled()

    # -- construction ---------------------------------------------------------------------

    def _models_box(self) -> QGroupBox:
        box = QGroupBox("Models")
        v = QVBoxLayout(box)
        self.model_list = QListWidget(objectName="modelList")
        self.model_list.setToolTip("The classifiers to compare; each is attacked separately.")
        v.addWidget(self.model_list)
        row = QHBoxLayout()
        add = QPushButton("Add…", objectName="addModelButton")
        add.setToolTip("Open a .pt2, TorchScript .pt/.ts or .onnx model (Ctrl+O)")
        add.clicked.connect(self.addModelRequested)
        self.remove_button = QPushButton("Remove", objectName="removeModelButton")
        self.remove_button.clicked.connect(
            lambda: self.removeModelRequested.emit(self.model_list.currentRow())
        )
        self.rename_button = QPushButton("Rename…", objectName="renameModelButton")
        self.rename_button.clicked.connect(
            lambda: self.renameModelRequested.emit(self.model_list.currentRow())
        )
        for b in (add, self.remove_button, self.rename_button):
            row.addWidget(b)
        v.addLayout(row)
        self.model_list.currentRowChanged.connect(lambda _: self._update_enabled())
        return box

    def _dataset_box(self) -> QGroupBox:
        box = QGroupBox("Dataset")
        v = QVBoxLayout(box)
        self.dataset_label = QLabel("No dataset.", objectName="datasetLabel")
        self.dataset_label.setWordWrap(True)
        v.addWidget(self.dataset_label)
        open_button = QPushButton("Open Dataset…", objectName="openDatasetButton")
        open_button.clicked.connect(self.openDatasetRequested)
        v.addWidget(open_button)
        return box

    def _threat_box(self) -> QGroupBox:
        box = QGroupBox("Threat model")
        form = QFormLayout(box)
        self.norm = QComboBox(objectName="normCombo")
        for n in NORMS:
            self.norm.addItem(NORM_LABELS[n], n)
        self.attack = QComboBox(objectName="attackCombo")
        for s in ATTACK_SPECS:
            self.attack.addItem(s.entry, s.name)
        self.attack.setCurrentIndex(NAMES.index("pgd"))
        fit_to_current(self.attack)  # the panel widens for a long entry only while it is shown
        self.eps_max = QDoubleSpinBox(objectName="epsMax", decimals=4, minimum=0.0001)
        self.eps_max.setRange(0.0001, 10.0)
        self.eps_max.setSingleStep(1 / 255)
        self.eps_max.setToolTip("Largest ε, in pixel units of images scaled to [0, 1]")
        self.grid = QSpinBox(objectName="gridPoints", minimum=2, maximum=64)
        self.grid.setToolTip("Number of ε values from 0 to the maximum, evenly spaced")
        self.steps = QSpinBox(objectName="steps", minimum=1, maximum=10_000)
        self.restarts = QSpinBox(objectName="restarts", minimum=1, maximum=100)
        self.seed = QSpinBox(objectName="seed", minimum=0, maximum=2**31 - 1)
        self.queries = QSpinBox(objectName="queries", minimum=10, maximum=100_000)
        self.queries.setSingleStep(100)
        self.smoothing_sigma = QDoubleSpinBox(objectName="smoothingSigma", decimals=2)
        self.smoothing_sigma.setRange(0.0, 2.0)
        self.smoothing_sigma.setSingleStep(0.05)
        self.smoothing_sigma.setSpecialValueText("off")
        self.smoothing_sigma.setToolTip(
            "Randomized smoothing (Cohen et al. 2019): certify the smoothed classifier with "
            "Gaussian noise of this σ (n0=100, n=1000, α=0.001). Its certified accuracy over "
            "L2 radius is a LOWER bound, plotted beside the attack's upper bound when the norm "
            "is L2. About 50 ms per example on the demo models."
        )
        self.checks = QCheckBox("Sanity checks after the attack", objectName="checksBox")
        self.checks.setChecked(True)
        self.checks.setToolTip(
            "Automatic checks that the evaluation itself is sound (masked gradients, softmax "
            "outputs, convergence, ...): a few seconds per model"
        )
        for label, widget in (
            ("Norm", self.norm),
            ("Attack", self.attack),
            ("ε maximum", self.eps_max),
            ("ε grid points", self.grid),
            ("Steps", self.steps),
            ("Restarts", self.restarts),
            ("Queries", self.queries),
            ("Seed", self.seed),
            ("Smoothing σ", self.smoothing_sigma),
        ):
            form.addRow(label, widget)
        form.addRow(self.checks)
        self.attack.currentIndexChanged.connect(self._attack_changed)
        return box

    def _run_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.run_button = QPushButton("Run", objectName="runButton")
        self.run_button.setToolTip("Attack every model over the ε grid (Ctrl+R)")
        self.run_button.clicked.connect(self.runRequested)
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton")
        self.cancel_button.setToolTip("Stop the run; finished ε values are kept (Esc)")
        self.cancel_button.clicked.connect(self.cancelRequested)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        return row

    # -- state ----------------------------------------------------------------------------

    def set_threat(self, threat: ThreatModel) -> None:
        """Show a threat model; until a control changes, `threat()` returns it exactly (an
        uneven grid, a step size or a switched-off certificate from the command line)."""
        self._given = None
        self._set_controls(threat)
        self._given = (threat, self.threat())

    def _set_controls(self, threat: ThreatModel) -> None:
        self.norm.setCurrentIndex(NORMS.index(threat.norm))
        self.attack.setCurrentIndex(NAMES.index(threat.attack))
        self.eps_max.setValue(max(threat.eps))
        self.grid.setValue(len(threat.eps))
        self.steps.setValue(threat.steps)
        self.restarts.setValue(threat.restarts)
        self.queries.setValue(threat.queries)
        self.seed.setValue(threat.seed)

    def smoothing(self) -> SmoothingSpec | None:
        sigma = self.smoothing_sigma.value()
        return SmoothingSpec(sigma=sigma) if sigma > 0 else None

    def threat(self) -> ThreatModel:
        """The threat model the controls describe: an evenly spaced grid from 0 to the max;
        or the one last given to `set_threat` while the controls still show it."""
        top, n = self.eps_max.value(), self.grid.value()
        eps = tuple(round(top * i / (n - 1), 10) for i in range(n))
        shown = ThreatModel(
            norm=self.norm.currentData(),
            eps=eps,
            attack=self.attack.currentData(),
            steps=self.steps.value(),
            restarts=self.restarts.value(),
            seed=self.seed.value(),
            queries=self.queries.value(),
        )
        given = self._given
        if given is None:
            return shown
        # a switched-off certificate has no control: it outlives changes to the others
        return given[0] if given[1] == shown else replace(shown, certificate=given[0].certificate)

    def set_models(self, models: list[LoadedModel]) -> None:
        current = self.model_list.currentRow()
        self.model_list.clear()
        for m in models:
            item = QListWidgetItem(_model_line(m))
            item.setToolTip("\n".join((m.info.path, *m.info.notes)))
            self.model_list.addItem(item)
        self.model_list.setCurrentRow(min(max(current, 0), len(models) - 1))
        self._update_enabled()

    def set_dataset(self, info: DatasetInfo | None) -> None:
        if info is None:
            self.dataset_label.setText("No dataset.")
        else:
            shape = "×".join(map(str, info.shape))
            self.dataset_label.setText(
                f"<b>{info.spec}</b><br>{info.size} images · {shape} · "
                f"{len(info.class_names)} classes"
            )
        self._update_enabled()

    def _on_running(self, running: bool) -> None:
        if running:  # the last run's outcome is not this run's
            self.progress.setValue(0)
            self.progress_text.setText("Starting…")
            self._progress_shown = 0.0
        self._update_enabled()

    def _attack_changed(self, _index: int) -> None:
        """A new attack starts from its own budget (APGD and FMN: 100 steps; PGD: 10)."""
        own = spec(self.attack.currentData())
        self.steps.setValue(own.steps)
        self.restarts.setValue(own.restarts)
        self._update_enabled()

    def show_progress(self, event: Progress, rate: float, eta: float) -> None:
        now = time.monotonic()
        if event.done < event.total and now - self._progress_shown < PROGRESS_INTERVAL:
            return  # the last event of a model's sweep is always shown
        self._progress_shown = now
        self.progress.setValue(int(1000 * event.done / max(1, event.total)))
        eps = format_eps(event.eps or 0.0)
        what = {
            "clean": "clean pass",
            "checks": "sanity checks",
            "smoothing": "randomized smoothing",
        }.get(event.phase, f"attack at ε = {eps}")
        eta_s = int(eta)
        self.progress_text.setText(
            f"{event.model_name}: {what} · {rate:,.0f} examples/s · "
            f"ETA {eta_s // 60}:{eta_s % 60:02d}"
        )

    def _update_enabled(self) -> None:
        files, running = self.session.files, self.session.running
        loading, has_models, has_data = files.loading, files.has_model, files.has_data
        self.run_button.setEnabled(not running and not loading and has_models and has_data)
        why = "" if has_models and has_data else "Add a model and open a dataset first"
        if loading:
            why = "Opening files in the background; Run is possible when they are open"
        self.run_button.setToolTip(why or "Attack every model over the ε grid (Ctrl+R)")
        self.cancel_button.setEnabled(running)
        self.remove_button.setEnabled(not running and self.model_list.currentRow() >= 0)
        self.rename_button.setEnabled(self.model_list.currentRow() >= 0)
        attack = spec(self.attack.currentData())
        why_not = attack.budget_note
        for w in (self.steps, self.restarts):
            w.setEnabled(attack.takes_steps and not running)
            w.setToolTip(why_not)
        uses_queries = attack.uses_queries
        self.queries.setEnabled(uses_queries and not running)
        self.queries.setToolTip(
            "Forward passes the gradient-free Square attack may spend per example"
            if uses_queries
            else "Only the Square attack (alone or in the ensemble) spends queries"
        )
        for w in (
            self.norm,
            self.attack,
            self.eps_max,
            self.grid,
            self.seed,
            self.checks,
            self.smoothing_sigma,
        ):
            w.setEnabled(not running)
