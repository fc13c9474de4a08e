"""A run in the window: start, refine or cancel it, and stream its results into the session.

The runner (runner.py) does the work in a background thread; this controller builds the
request, keeps the run's results (partial while it goes on), tells the session what to
show and when, and writes the one status line: "model k of n", the ETAs and the outcome.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from inspector.core.assess import Assessed
from inspector.core.data import stratified_subset
from inspector.core.data.base import ImageDataset
from inspector.core.evaluate import EvaluationRequest, ModelRequest
from inspector.core.models.base import LoadedModel
from inspector.core.refine import can_refine, refine_evaluation, widen_to
from inspector.core.results import EvaluationResults, ModelResult, environment
from inspector.core.run_clock import RunClock
from inspector.core.session import Session
from inspector.core.sweep import EpsFinished, Progress
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView
from inspector.gui.run_flags import RunFlags
from inspector.gui.runner import EvaluationRunner
from inspector.gui.setup_panel import SetupPanel

REFRESH_GAP = 0.2  # seconds between two refreshes of the panels while a run streams results
STATUS_GAP = 0.5  # seconds between two progress lines in the status bar


class RunControl(QObject):
    """One evaluation at a time, from the set-up panel's threat model to finished results."""

    firstRows = Signal()  # the first model's first ε: the table has rows to choose from
    snapshot = Signal()  # results so far changed (autosave them)
    finished = Signal(object)  # EvaluationResults, partial if cancelled
    refining = Signal(object, int)  # the widened view to show, and the grid point to keep
    titleChanged = Signal(str)  # what the window's title calls the results

    def __init__(self, session: Session, setup: SetupPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.setup = session, setup
        self.runner = EvaluationRunner(self)
        self.results: EvaluationResults | None = None  # the finished (or opened) results
        self.assessed: dict[int, Assessed] = {}  # checks so far, by model (autosave)
        self.clock = RunClock(0)
        self._cancelled = False  # the status line says so until the run ends
        self._said_at = 0.0  # when the status line last told the run's progress
        # New results refresh the panels once per burst, at most every REFRESH_GAP seconds:
        # each refresh and its repaint cost tens of milliseconds of the GUI thread, which
        # shares 2 cores with the attack.
        self._refresh_timer = QTimer(self, singleShot=True)
        self._refresh_timer.timeout.connect(self.refresh)
        self._refreshed_at = 0.0
        r = self.runner
        r.progress.connect(self._on_progress)
        r.epsFinished.connect(self._on_eps_finished)
        r.assessed.connect(self._on_assessed)
        r.finished.connect(self._on_finished)
        r.runningChanged.connect(self._on_running)

    @property
    def view(self) -> ResultsView | None:
        return self.session.view

    def start(
        self,
        models: list[LoadedModel],
        dataset: ImageDataset,
        threat: ThreatModel,
        flags: RunFlags,
        device: str,
    ) -> None:
        """A new run, or a refinement when a finished run's grid is extended."""
        if self.refinable(models, dataset, threat):
            self._refine(models, dataset, threat)
            return
        request = EvaluationRequest(
            models=tuple(
                ModelRequest(m.info.path, m.info.name, flags.arch, dict(flags.overrides))
                for m in models
            ),
            data=dataset.info.spec,
            threat=threat,
            limit=flags.limit,
            device=device,
            trust_code=flags.trust_code,
            resize=flags.resize,
            checks=self.setup.checks.isChecked(),
            smoothing=self.setup.smoothing(),
        )
        n = len(stratified_subset(dataset.labels, flags.limit, threat.seed))
        view = ResultsView(threat.with_examples(n), dataset.info, [m.info for m in models], dataset)
        self.results, self.assessed = None, {}
        self.setup.checks_panel.set_results(None)
        self.titleChanged.emit("running…")
        self.session.set_view(view)
        self.clock, self._cancelled = RunClock(len(models)), False
        self.session.set_running(True, f"Running: {view.threat.describe()}")
        self.runner.start(list(models), dataset, request)

    def refinable(
        self, models: list[LoadedModel], dataset: ImageDataset | None, threat: ThreatModel
    ) -> bool:
        """A finished run of the same models and data whose grid the new one extends."""
        r = self.results
        return (
            r is not None
            and not r.partial
            and dataset is not None
            and r.dataset == dataset.info
            and [m.info for m in r.models] == [m.info for m in models]
            and can_refine(r.threat, threat)
        )

    def _refine(
        self, models: list[LoadedModel], dataset: ImageDataset, threat: ThreatModel
    ) -> None:
        """Compute only the new ε values, in the background; the old results stay shown, with
        the same example chosen and the slider at the same ε (the window restores them)."""
        previous = self.results
        eps = self.session.eps.value
        view = ResultsView.from_results(previous, dataset)
        view.threat = threat.with_examples(previous.threat.num_examples or 0)
        for i, m in enumerate(previous.models):
            view.update(i, widen_to(m.sweep, tuple(threat.eps)))  # old points meanwhile
        grid = list(view.eps)
        k = grid.index(eps) if eps in grid else self.session.eps.index
        self.refining.emit(view, k)
        self.clock, self._cancelled = RunClock(len(models)), False
        self.session.set_running(True, "Refining the ε grid: only the new ε values are attacked.")
        self.runner.start_work(
            lambda cancel: refine_evaluation(models, dataset, previous, threat, cancel=cancel)
        )

    def cancel(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self._cancelled = True
            self.session.say("Cancelling… finished ε values are kept.")

    def _on_running(self, running: bool) -> None:
        if not running:
            self.session.set_running(False)

    def _on_progress(self, event: Progress) -> None:
        estimate = self.clock.update(event)
        self.setup.show_progress(event, estimate.rate, estimate.eta)
        now = time.perf_counter()
        if self.runner.running and not self._cancelled and now - self._said_at >= STATUS_GAP:
            self._said_at = now
            self.session.say(f"Running: {event.model_name}, {estimate.text()}")

    def _on_assessed(self, event: Assessed) -> None:
        """A model's checks so far: kept for autosave, shown as they come."""
        if self.results is not None:
            return  # a refinement: the finished results hold the checks until it ends
        self.assessed[event.model_index] = event
        if self.view is not None:
            self.view.checks[event.model_index] = list(event.checks)
        self.setup.checks_panel.set_results(self.current_results())

    def _on_eps_finished(self, event: EpsFinished) -> None:
        view = self.view
        if view is None:
            return
        first = view.sweep(event.model_index) is None
        view.update(event.model_index, event.snapshot)
        if first and event.model_index == 0:  # the rows appear: show them and select one
            self.refresh()
            self.firstRows.emit()
        elif not self._refresh_timer.isActive():
            wait = REFRESH_GAP - (time.perf_counter() - self._refreshed_at)
            self._refresh_timer.start(max(0, int(1000 * wait)))
        self.snapshot.emit()  # throttled by the autosaver, written off the GUI thread

    def refresh(self) -> None:
        """Show the view's latest results: the session tells every panel once."""
        self._refresh_timer.stop()
        self._refreshed_at = time.perf_counter()
        self.session.results_updated()

    def _on_finished(self, results: EvaluationResults) -> None:
        self.results = results
        view = self.view
        if view is not None:
            view.threat = results.threat
            for i, m in enumerate(results.models):
                view.update(i, m.sweep)
                if m.smoothing:
                    view.smoothing[i] = m.smoothing
                view.checks[i] = list(m.checks)  # the warning marks follow them
            self.refresh()
        models = 0 if view is None else len(view.models)
        partial = results.partial or len(results.models) < models
        state = "partial (cancelled)" if partial else "complete"
        self.session.say(f"Run {state} in {self.clock.elapsed:.1f} s · {results.threat.describe()}")
        self.setup.progress_text.setText(f"Run {state}.")
        if not partial:
            self.setup.progress.setValue(self.setup.progress.maximum())
        self.setup.checks_panel.set_results(results)
        self.finished.emit(results)
        self.titleChanged.emit("unsaved results")

    def current_results(self) -> EvaluationResults | None:
        """The finished results, or what a run has finished so far (marked partial)."""
        if self.results is not None:
            return self.results
        view = self.view
        if view is None:
            return None
        done = []
        for i, m in enumerate(view.models):
            if m.sweep is not None:
                kept = self.assessed.get(i)
                checks = [] if kept is None else list(kept.checks)
                done.append(ModelResult(m.info, m.sweep, checks, kept and kept.smoothing))
        if not done:
            return None
        env = environment(m.info for m in done)
        return EvaluationResults(view.threat, view.dataset_info, done, environment=env)
