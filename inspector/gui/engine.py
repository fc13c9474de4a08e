"""Imports torch and the core's heavy modules on a background thread, after the first paint.

The window's modules import the core (torch, the attacks, the models), which takes seconds;
done first, nothing is on screen until they finish. Here they are imported on a plain
thread while the splash stays painted and responsive; `ready` then comes on the GUI thread
and the main window's own imports find them loaded. Qt and pyqtgraph modules are left to
the GUI thread (pyqtgraph touches Qt objects as it loads).
"""

from __future__ import annotations

import importlib
import threading
import traceback

from PySide6.QtCore import QObject, Signal

from inspector.gui import startup_trace

# What the window's modules import that costs time; anything missing here simply loads
# on the GUI thread later. torch first: it is most of the cost.
ENGINE_MODULES = (
    "torch",
    "inspector.core.assess",
    "inspector.core.evaluate",
    "inspector.core.audit",
    "inspector.core.refine",
    "inspector.core.view",
    "inspector.core.export",
    "inspector.core.autosave",
    "inspector.core.saliency.methods",
)


class EngineImport(QObject):
    """One background import of ENGINE_MODULES; `ready` or `failed(message, details)`."""

    ready = Signal()
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the import once (later calls do nothing)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="engine-import", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for name in ENGINE_MODULES:
                importlib.import_module(name)
        except BaseException as exc:  # a broken install must reach the window, not vanish
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.failed.emit(f"{type(exc).__name__}: {exc}", details)
            return
        startup_trace.mark("engine_loaded")
        self.ready.emit()
