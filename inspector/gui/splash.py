"""The first window, shown before torch and the evaluation engine load (within ~1 s).

Importing torch, the core and pyqtgraph takes seconds (7 s on a loaded machine for torch
alone), and before this window there was nothing on screen for 15-18 s. It names what is
happening now ("Loading the evaluation engine…", "Building the window…") and goes when
the main window is shown. Only Qt widgets: nothing here imports torch or pyqtgraph.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from inspector import __version__
from inspector.gui import startup_trace

LOADING_ENGINE = "Loading the evaluation engine (PyTorch, attacks, models)…"
BUILDING_WINDOW = "Building the window…"


class StartupSplash(QWidget):
    """A small window with the app's name, what is loading now, and a busy bar."""

    painted = Signal()  # once, after the first paint: the user sees a window from here on

    def __init__(self) -> None:
        super().__init__(None, Qt.WindowType.SplashScreen | Qt.WindowType.WindowStaysOnTopHint)
        self.setWindowTitle("Robustness Inspector")
        self._painted = False
        title = QLabel("Robustness Inspector")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        self.status = QLabel(LOADING_ENGINE)
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: how long an import takes is not known
        self.busy.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(title)
        layout.addWidget(QLabel(f"version {__version__}"))
        layout.addSpacing(12)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        self.setMinimumWidth(460)

    def say(self, text: str) -> None:
        """Show what happens now (repainted at once: the next step may block the loop)."""
        self.status.setText(text)
        self.repaint()

    def failed(self, text: str) -> None:
        """The engine could not load: say so and stop the busy bar."""
        self.busy.setRange(0, 1)
        self.status.setText(text)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            startup_trace.mark("first_window_painted")
            self.painted.emit()
