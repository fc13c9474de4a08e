"""Light and dark palettes that follow the system, and pyqtgraph's global options."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 30), QColor(45, 45, 45), QColor(230, 230, 230)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Highlight, QColor("#0072B2")),
        (QPalette.ColorRole.HighlightedText, QColor("white")),
    ):
        p.setColor(role, color)
    return p


def palette_for(scheme: Qt.ColorScheme, app: QApplication) -> QPalette:
    """The dark palette for a dark system, Fusion's own light one otherwise."""
    if scheme == Qt.ColorScheme.Dark:
        return _dark_palette()
    return app.style().standardPalette()


def apply_theme(app: QApplication) -> None:
    """Fusion style everywhere; the palette follows the system's scheme, also when it changes.

    Widgets that draw their own colours (the plots) listen for PaletteChange and restyle.
    """
    app.setStyle("Fusion")
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    hints = QGuiApplication.styleHints()
    app.setPalette(palette_for(hints.colorScheme(), app))
    hints.colorSchemeChanged.connect(lambda scheme: app.setPalette(palette_for(scheme, app)))
