"""Runs an evaluation off the GUI thread and streams its events back as Qt signals.

The core's generator does the work inside a superqt worker; every yield reaches the GUI
thread as a queued signal. Cancel sets an event the core checks at every attack step, so
a stop takes effect within one step (well under a second on the demo), and the partial
results that finished are still delivered.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, Signal
from superqt.utils import GeneratorWorker, create_worker

from inspector.core.assess import Assessed
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, evaluate_models
from inspector.core.models.base import LoadedModel
from inspector.core.results import EvaluationResults
from inspector.core.sweep import EpsFinished, Progress
from inspector.gui.wording import for_window


class EvaluationRunner(QObject):
    """One evaluation at a time; starting a new one is refused while one runs."""

    progress = Signal(object)  # Progress
    assessed = Signal(object)  # Assessed: a model's checks and smoothing so far
    epsFinished = Signal(object)  # EpsFinished
    finished = Signal(object)  # EvaluationResults (partial if cancelled)
    failed = Signal(str, str)  # one-line message, details
    runningChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker: GeneratorWorker | None = None
        self._cancel = threading.Event()
        self._expected = 0  # models the running evaluation was asked for (0: not known)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def start(
        self, models: list[LoadedModel], dataset: ImageDataset, request: EvaluationRequest
    ) -> None:
        self.start_work(lambda cancel: evaluate_models(models, dataset, request, cancel=cancel))
        if self._worker is not None:
            self._expected = len(models)

    def start_work(self, make_items: Callable[[Callable[[], bool]], Iterator[object]]) -> None:
        """Run any core generator that ends with EvaluationResults (e.g. a grid refinement)."""
        if self._worker is not None:
            return
        self._cancel.clear()
        self._expected = 0
        cancel = self._cancel.is_set

        def work():
            yield from make_items(cancel)

        worker = create_worker(work, _start_thread=False, _ignore_errors=True)  # errors: _on_error
        worker.yielded.connect(self._on_item)
        worker.errored.connect(self._on_error)
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self.runningChanged.emit(True)
        worker.start()

    def cancel(self) -> None:
        """Ask the run to stop; what finished is still delivered through `finished`."""
        self._cancel.set()

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop and wait: used when the window closes during a run."""
        worker = self._worker
        if worker is None:
            return
        self._cancel.set()
        worker.await_workers(timeout_ms)
        self._on_finished()  # the thread is done; its queued `finished` may never be delivered

    def _on_item(self, item: object) -> None:
        if isinstance(item, Progress):
            self.progress.emit(item)
        elif isinstance(item, EpsFinished):
            self.epsFinished.emit(item)
        elif isinstance(item, Assessed):
            self.assessed.emit(item)
        elif isinstance(item, EvaluationResults):
            if self._cancel.is_set() or len(item.models) < self._expected:
                item.incomplete = True  # cancelled: saved as partial even if no sweep is
            self.finished.emit(item)

    def _on_error(self, exc: BaseException) -> None:
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, InspectorError):
            self.failed.emit(for_window(exc), details)
        else:
            self.failed.emit(f"the evaluation failed: {type(exc).__name__}: {exc}", details)

    def _on_finished(self) -> None:
        if self._worker is None:
            return  # already handled by shutdown()
        self._worker = None
        self.runningChanged.emit(False)
