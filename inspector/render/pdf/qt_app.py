"""A Qt application for painting, made on demand: the report needs fonts, not a window.

Headless machines (no DISPLAY / WAYLAND_DISPLAY) get the offscreen platform, so the command
line renders reports on servers; inside the window the existing application is reused.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def ensure_gui_app() -> QCoreApplication:
    """The running application, or a new QGuiApplication (offscreen when there is no display)."""
    app = QCoreApplication.instance()
    if app is not None:
        return app
    if not has_display() and not sys.platform.startswith(("win", "darwin")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QGuiApplication(sys.argv[:1] or ["robustness-inspector"])
