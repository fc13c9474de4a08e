"""Opens models and datasets off the GUI thread, one file at a time, in the order asked.

Loading can take seconds (an ONNX conversion, hashing a large file, decoding a folder of
images), so it runs in a superqt worker like the attacks do. Jobs run one after another so
that a model queued after a dataset sees that dataset's image shape (its fallback input
shape). Results and errors come back as queued signals on the GUI thread.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import FunctionWorker

from inspector.core.errors import InspectorError
from inspector.gui.wording import for_window
from inspector.gui.workers import release, start_worker


@dataclass(frozen=True)
class LoadJob:
    """One file to open: `kind` is "model" or "dataset"; `open` runs on the worker thread."""

    kind: str
    source: str  # the path or dataset spec, for messages and recent files
    open: Callable[[], Any]


class FileLoader(QObject):
    """A queue of load jobs with one worker thread at a time."""

    loaded = Signal(object, object)  # LoadJob, the opened model or dataset
    failed = Signal(object, str, str)  # LoadJob, one-line message, details
    busyChanged = Signal(bool)
    idle = Signal()  # the queue is empty and nothing is loading

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: deque[Callable[[], LoadJob]] = deque()
        self._worker: FunctionWorker | None = None

    @property
    def busy(self) -> bool:
        return self._worker is not None or bool(self._queue)

    def submit(self, make_job: Callable[[], LoadJob]) -> None:
        """Queue a job; `make_job` is called when its turn comes (it may read fresh state)."""
        was_busy = self.busy
        self._queue.append(make_job)
        if not was_busy:
            self.busyChanged.emit(True)
        if self._worker is None:
            self._next()

    def wait(self, timeout_ms: int = 30_000) -> None:
        """Block until the current job's thread ends (closing the window while loading)."""
        self._queue.clear()
        if self._worker is not None:
            self._worker.await_workers(timeout_ms)
            release(self._worker)  # its queued callbacks may never run now

    def _next(self) -> None:
        if not self._queue:
            self._worker = None
            self.busyChanged.emit(False)
            self.idle.emit()
            return
        job = self._queue.popleft()()
        self._worker = start_worker(
            job.open,
            returned=lambda value, job=job: self.loaded.emit(job, value),
            errored=lambda exc, job=job: self._on_error(job, exc),
            finished=self._done,
        )

    def _done(self) -> None:
        release(self._worker)
        self._next()

    def _on_error(self, job: LoadJob, exc: BaseException) -> None:
        """A refused file is one line and nothing more (its traceback is ours, not the
        user's); a loader that breaks keeps its traceback under Details for a bug report."""
        if isinstance(exc, InspectorError):
            self.failed.emit(job, for_window(exc), "")
            return
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        message = for_window(f"cannot open {job.source}: {type(exc).__name__}: {exc}")
        self.failed.emit(job, message, details)  # a broken loader must not take the window down
