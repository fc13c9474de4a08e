"""The detail panel's image tiles and small labels: an image drawn as large as its box allows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from inspector.gui.caption import StableCaption
from inspector.gui.detail.text import CAPTION_LINES, GREY_TEXT, MAX_IMAGE
from inspector.render.images import to_pixmap


def small_font(widget: QWidget, scale: float = 0.9) -> QFont:
    font = QFont(widget.font())
    font.setPointSizeF(max(6.0, font.pointSizeF() * scale))
    return font


def caption(text: str = "", tip: str = "", scale: float = 0.9) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    label.setFont(small_font(label, scale))
    label.setToolTip(tip)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
    return label


class ImageView(QWidget):
    """One image drawn nearest-neighbour as large as its square box allows, or grey text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.message = ""
        self._pixmap: QPixmap | None = None
        self._key: tuple[int, float] | None = None
        self.on_double_click: Callable[[], None] | None = None  # the column's large view
        self.max_side = MAX_IMAGE  # grows with the window's zoom (presentation mode)
        self.setFixedSize(64, 64)  # the column sizes it from its width (see ModelColumn)

    def sizeHint(self) -> QSize:
        return QSize(64, 64)

    def set_image(self, image: np.ndarray | None, message: str = "") -> None:
        """Show `image`, or `message` in grey when it is None; renders lazily on paint."""
        self.image, self.message = image, ("" if image is not None else message)
        self._pixmap = None
        self.update()

    def pixmap(self) -> QPixmap | None:
        """The rendering for the current size and screen, cached until either changes."""
        if self.image is None:
            return None
        side = max(1, min(self.width(), self.height(), self.max_side))
        key = (side, float(self.devicePixelRatioF()))
        if self._pixmap is None or self._key != key:
            self._pixmap, self._key = to_pixmap(self.image, side, key[1]), key
        return self._pixmap

    def mouseDoubleClickEvent(self, event) -> None:
        if self.on_double_click is not None and self.image is not None:
            self.on_double_click()
        super().mouseDoubleClickEvent(event)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        pixmap = self.pixmap()
        if pixmap is None:
            side = min(self.width(), self.height())
            box = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
            painter.setPen(QColor(GREY_TEXT))
            painter.drawRect(box.adjusted(0.5, 0.5, -0.5, -0.5))
            painter.setFont(small_font(self, 0.85))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(box.adjusted(4, 4, -4, -4), int(flags), self.message)
            return
        size = pixmap.deviceIndependentSize()
        x = (self.width() - size.width()) / 2
        y = (self.height() - size.height()) / 2
        painter.drawPixmap(int(x), int(y), pixmap)


class ImageTile(QWidget):
    """An image with its caption beside it: what it is, at which ε, how it was scaled."""

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageView()
        # At least five lines, so rows line up across columns, and as many more as the text
        # needs at the column's width (a caption is never cut): a slider move relays out only
        # when that number of lines changes.
        self.caption = StableCaption(CAPTION_LINES, fit=True)
        self.caption.setFont(small_font(self.caption, 0.85))
        self.caption.setToolTip(tip)
        self.setToolTip(tip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.view)
        layout.addWidget(self.caption, 1)

    def set_side(self, side: int, max_side: int = MAX_IMAGE) -> None:
        self.view.max_side = max_side
        if self.view.height() != side or self.view.width() != side:
            self.view.setFixedSize(side, side)

    def show_image(self, image: np.ndarray | None, caption: str, message: str = "") -> None:
        shown = self.view
        if (
            image is shown.image
            and caption == self.caption.text()
            and (image is not None or message == shown.message)
        ):
            return  # nothing changed: no repaint (slider moves pass here a lot)
        self.view.set_image(image, message)
        self.caption.setText(caption)


def stacked(main: QWidget, placeholder: QLabel) -> QStackedWidget:
    stack = QStackedWidget()
    stack.addWidget(main)
    stack.addWidget(placeholder)
    return stack


def placeholder(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet(f"color: {GREY_TEXT};")
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label
