"""Where the window's central panels sit: table and detail on top, the ε bar and plots below."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget


def _split(orientation: Qt.Orientation, first: QWidget, second: QWidget, sizes=None):
    splitter = QSplitter(orientation)
    splitter.addWidget(first)
    splitter.addWidget(second)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    if sizes is not None:
        splitter.setSizes(sizes)
    return splitter


def central_widget(
    examples: QWidget, detail: QWidget, eps_bar: QWidget, tradeoff: QWidget, frontier: QWidget
) -> QSplitter:
    """The panels in their splitters (3 : 2 everywhere, the user may drag them)."""
    top = _split(Qt.Orientation.Horizontal, examples, detail, [760, 560])
    plots = _split(Qt.Orientation.Horizontal, tradeoff, frontier)
    bottom = QWidget()
    v = QVBoxLayout(bottom)
    v.setContentsMargins(0, 0, 0, 0)
    v.addWidget(eps_bar)
    v.addWidget(plots, 1)
    return _split(Qt.Orientation.Vertical, top, bottom, [470, 470])
