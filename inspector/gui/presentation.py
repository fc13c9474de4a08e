"""Presentation mode and zoom: the window as a projector in a large room needs it.

F11 toggles presentation mode: full screen, the set-up panel and the status line out of
the way, the table allowed a little lower, and the ε bar's
headline (clean, robust ≤, boundary errors per model) in large type. Ctrl+= / Ctrl+-
scale the application font and the detail panel's images by one zoom factor; Ctrl+0
goes back to 1. Widgets that set their own (smaller) font keep their proportion: their
size at zoom 1 is remembered the first time they are scaled.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMenu, QWidget

from inspector.gui.layout import make_room_for_headline

ZOOMS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0)  # what Ctrl+= / Ctrl+- step over
HEADLINE_SCALE = 2.0  # the headline's font while presenting, relative to the zoomed font
BASE_PT = "_zoomBasePointSize"  # dynamic property: a widget's own font size at zoom 1


def next_zoom(zoom: float, direction: int) -> float:
    """The next step up (direction 1) or down (-1) from `zoom`; the ends stay put."""
    if direction > 0:
        return next((z for z in ZOOMS if z > zoom + 1e-9), ZOOMS[-1])
    return next((z for z in reversed(ZOOMS) if z < zoom - 1e-9), ZOOMS[0])


class Presentation(QObject):
    """The zoom factor and presentation mode of one window; emits each change once."""

    zoomChanged = Signal(float)
    presentingChanged = Signal(bool)

    def __init__(self, window: QMainWindow, dock: QDockWidget, headline: QWidget) -> None:
        super().__init__(window)
        self.window, self.dock, self.headline = window, dock, headline
        self.zoom = 1.0
        self.presenting = False
        self._base_font = QFont(QApplication.font())
        self._dock_was_visible = True
        self._was_maximized = False

    # -- zoom -----------------------------------------------------------------------------

    def set_zoom(self, zoom: float) -> None:
        """Scale the application font and every widget's own font by `zoom` (from zoom 1)."""
        zoom = min(max(zoom, ZOOMS[0]), ZOOMS[-1])
        if abs(zoom - self.zoom) < 1e-9:
            return
        previous, self.zoom = self.zoom, zoom
        font = QFont(self._base_font)
        font.setPointSizeF(self._base_font.pointSizeF() * zoom)
        QApplication.setFont(font)
        for widget in self.window.findChildren(QWidget):
            if widget is self.headline or not widget.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                continue
            own = QFont(widget.font())
            base = widget.property(BASE_PT)
            if base is None:  # first time: its size now is at the previous zoom
                base = own.pointSizeF() / previous
                widget.setProperty(BASE_PT, base)
            own.setPointSizeF(max(5.0, float(base) * zoom))
            widget.setFont(own)
        self._style_headline()
        self.zoomChanged.emit(zoom)

    def step(self, direction: int) -> None:
        self.set_zoom(next_zoom(self.zoom, direction))

    def reset(self) -> None:
        self.set_zoom(1.0)

    # -- presentation mode ----------------------------------------------------------------

    def set_presenting(self, on: bool, full_screen: bool = True) -> None:
        """Full screen (unless `full_screen` is False, as in tests), set-up hidden, headline big."""
        if on == self.presenting:
            return
        self.presenting = on
        make_room_for_headline(self.window.centralWidget(), on)
        self.window.statusBar().setVisible(not on)  # the audience needs the numbers, not it
        if on:
            self._dock_was_visible = self.dock.isVisible()
            self._was_maximized = self.window.isMaximized()
            self.dock.hide()
            if full_screen:
                self.window.showFullScreen()
        else:
            self.dock.setVisible(self._dock_was_visible)
            if self.window.isFullScreen():
                self.window.showMaximized() if self._was_maximized else self.window.showNormal()
        self._style_headline()
        self.presentingChanged.emit(on)

    def _style_headline(self) -> None:
        if self.presenting:
            font = QFont(QApplication.font())
            font.setPointSizeF(font.pointSizeF() * HEADLINE_SCALE)
            font.setBold(True)
            self.headline.setFont(font)
        else:
            self.headline.setFont(QFont())  # nothing of its own: the application's font


def build_view_menu(menu: QMenu, presentation: Presentation, dock: QDockWidget) -> dict:
    """The View menu: the set-up panel, presentation mode and zoom; returns its actions."""
    window = presentation.window
    setup = dock.toggleViewAction()
    setup.setText("&Set-up panel")
    setup.setShortcut(QKeySequence("Ctrl+\\"))
    setup.setStatusTip("Show or hide the set-up panel (models, dataset, threat model, Run)")
    present = QAction("&Presentation mode", window, checkable=True)
    present.setShortcut(QKeySequence("F11"))
    present.setStatusTip("Full screen, set-up and status line hidden, the headline large (F11)")
    present.toggled.connect(presentation.set_presenting)
    presentation.presentingChanged.connect(present.setChecked)
    zoom_in = QAction("Zoom &in", window)
    zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
    zoom_in.triggered.connect(lambda: presentation.step(1))
    zoom_out = QAction("Zoom &out", window)
    zoom_out.setShortcut(QKeySequence("Ctrl+-"))
    zoom_out.triggered.connect(lambda: presentation.step(-1))
    actual = QAction("&Actual size", window)
    actual.setShortcut(QKeySequence("Ctrl+0"))
    actual.triggered.connect(presentation.reset)
    actions = {"setup": setup, "present": present, "zoom_in": zoom_in}
    actions.update(zoom_out=zoom_out, actual=actual)
    menu.addAction(setup)
    menu.addSeparator()
    for action in (present, zoom_in, zoom_out, actual):
        menu.addAction(action)
        window.addAction(action)  # shortcuts work in full screen, where the menu bar may hide
    return actions
