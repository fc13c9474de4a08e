"""Where the window's panels sit, sized so that nothing is cut from 1280×720 up.

The set-up panel is a dock that scrolls (its height never sets the window's) and can be
hidden (View ▸ Set-up panel, Ctrl+\\); the table and the detail panel share the top, the
ε bar and the plots the bottom, in splitters whose minimums keep each plot readable; the
detail panel scrolls sideways rather than hide a model's column.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

# The plots' pane never gets lower than this (logical px at zoom 1): with the title, the
# threat line, the axis and the legend it leaves each plotting area about 200 px.
PLOTS_MIN_HEIGHT = 380
TOP_MIN_HEIGHT = 200  # the table's filters, header and a few rows; the detail scrolls
PRESENTING_TOP_MIN_HEIGHT = 150  # presenting: the large headline takes some of it
SETUP_WIDTH = 300  # the dock's width at start (the user may drag it, or hide it)
SETUP_MIN_WIDTH = 240
FIRST_SIZE = QSize(1600, 1000)  # the window's size on a first start, where the screen has room
SMALL_SCREEN = QSize(1024, 600)  # below this, a virtual screen (offscreen's is 800×800)


def first_size(available: QSize) -> QSize:
    """1600×1000, or the screen's available area where that is smaller (a 1280×720
    projector); a screen below 1024×600 (the offscreen one is 800×800) keeps 1600×1000."""
    if available.width() < SMALL_SCREEN.width() or available.height() < SMALL_SCREEN.height():
        return FIRST_SIZE
    return FIRST_SIZE.boundedTo(available)


def _split(orientation: Qt.Orientation, first: QWidget, second: QWidget, sizes=None):
    splitter = QSplitter(orientation)
    splitter.addWidget(first)
    splitter.addWidget(second)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    splitter.setChildrenCollapsible(False)  # a dragged-away panel is hidden, not cut
    if sizes is not None:
        splitter.setSizes(sizes)
    return splitter


def central_widget(
    examples: QWidget, detail: QWidget, eps_bar: QWidget, tradeoff: QWidget, frontier: QWidget
) -> QSplitter:
    """The panels in their splitters (the user may drag them, never below a readable size)."""
    top = _split(Qt.Orientation.Horizontal, examples, detail, [560, 560])
    top.setMinimumHeight(TOP_MIN_HEIGHT)
    plots = _split(Qt.Orientation.Horizontal, tradeoff, frontier)
    bottom = QWidget(objectName="plotsPane")
    v = QVBoxLayout(bottom)
    v.setContentsMargins(0, 0, 0, 0)
    v.addWidget(eps_bar)
    v.addWidget(plots, 1)
    plots.setMinimumHeight(PLOTS_MIN_HEIGHT)
    return _split(Qt.Orientation.Vertical, top, bottom, [540, 460])


def make_room_for_headline(central: QWidget, presenting: bool) -> None:
    """Presenting, the table may get lower, so a 1280×720 screen still holds the large
    headline above plots of a readable height."""
    top = central.widget(0) if isinstance(central, QSplitter) else None
    if top is not None:
        top.setMinimumHeight(PRESENTING_TOP_MIN_HEIGHT if presenting else TOP_MIN_HEIGHT)


def setup_dock(window: QMainWindow, setup: QWidget) -> QDockWidget:
    """The set-up panel in a dock that scrolls vertically and can be hidden or floated."""
    scroll = QScrollArea(objectName="setupScroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(setup)
    bar = scroll.style().pixelMetric(scroll.style().PixelMetric.PM_ScrollBarExtent)
    scroll.setMinimumWidth(max(SETUP_MIN_WIDTH, setup.minimumSizeHint().width() + bar + 2))
    dock = QDockWidget("Set-up", window, objectName="setupDock")
    dock.setWidget(scroll)
    features = QDockWidget.DockWidgetFeature
    dock.setFeatures(features.DockWidgetMovable | features.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    # after the first layout pass: before it, Qt sizes the dock from its contents' hint
    QTimer.singleShot(
        0, window, lambda: window.resizeDocks([dock], [SETUP_WIDTH], Qt.Orientation.Horizontal)
    )
    return dock
