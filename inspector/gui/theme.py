"""Light and dark palettes that follow the system, and pyqtgraph's global options."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

DARK_BASE, DARK_WINDOW, DARK_TEXT = "#1E1E1E", "#2D2D2D", "#E6E6E6"
# Disabled text: plainly dimmer than enabled text (4.5:1 → about 2.6:1 on the window), so a
# disabled Run button no longer looks pressable; WCAG exempts disabled controls from AA.
DARK_DISABLED_TEXT = "#7A7A7A"
DARK_DISABLED_BUTTON = "#262626"


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(DARK_BASE), QColor(DARK_WINDOW), QColor(DARK_TEXT)
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
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.PlaceholderText,
    ):
        p.setColor(disabled, role, QColor(DARK_DISABLED_TEXT))
    p.setColor(disabled, QPalette.ColorRole.Button, QColor(DARK_DISABLED_BUTTON))
    p.setColor(disabled, QPalette.ColorRole.Base, window)
    p.setColor(disabled, QPalette.ColorRole.Highlight, QColor("#3A3A3A"))
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
