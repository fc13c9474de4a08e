"""Rich-text captions whose size never depends on their text.

A QLabel asks its layout to run again on every setText (its size hint may have changed),
and a word-wrapped rich-text label makes that pass lay its text out several times. The
detail panel changes about ten captions on every ε-slider move, so those captions live in
a box sized for a fixed number of lines instead: setText only repaints the box.
"""

from __future__ import annotations

import functools
import math

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QPainter,
    QPalette,
    QTextDocument,
    QTextOption,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

# Glyphs the captions use that may come from a taller fallback font than the letters'.
PROBE_LINE = "Ag|εδ×‖≤✓✗"


def line_height(font: QtGui.QFont, lines: int) -> int:
    """The height `lines` lines of rich text take in `font`, as the text document lays them
    out (a taller fallback glyph makes that more than lines × the font's line spacing)."""
    return _line_height(font.toString(), max(1, lines))


@functools.lru_cache(maxsize=256)
def _line_height(font_key: str, lines: int) -> int:
    font = QtGui.QFont()
    font.fromString(font_key)
    probe = QTextDocument()
    probe.setDocumentMargin(0)
    probe.setDefaultFont(font)
    probe.setPlainText("\n".join([PROBE_LINE] * lines))
    metrics = QtGui.QFontMetrics(font)
    return max(lines * metrics.lineSpacing(), math.ceil(probe.size().height()))


class StableCaption(QWidget):
    """Up to `lines` lines of rich text, word-wrapped to the box's width, centred vertically.

    With `fit=False`, text that needs more lines is cut off at the bottom: the box is sized
    for what the captions say (and lines up across columns), the tooltip carries details.
    With `fit=True` the box takes as many lines as the text needs at its width (never fewer
    than `lines`, so boxes still line up across columns), so the
    layout runs again only when that number changes (a header that wraps in a narrow
    window), not on every new text. The text API is QLabel's (`text`, `setText`).
    """

    def __init__(
        self,
        lines: int = 1,
        alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        parent: QWidget | None = None,
        *,
        fit: bool = False,
        **properties,
    ) -> None:
        super().__init__(parent, **properties)  # Qt properties, e.g. objectName=
        self.lines = lines
        self.min_lines = lines  # with `fit`: the fewest lines the box keeps room for
        self.fit = fit
        self._text = ""
        self._document = QTextDocument(self)
        self._document.setDocumentMargin(0)
        option = QTextOption(alignment)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        self._document.setDefaultTextOption(option)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self._fill()
            self._fit_lines()

    def set_lines(self, lines: int) -> None:
        """Room for a different number of lines (a relayout, so not on every slider move)."""
        if lines != self.lines:
            self.lines = lines
            self._fit_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_lines()

    def _fit_lines(self) -> None:
        """With `fit`: as many lines as the text takes at the current width."""
        if not self.fit or self.width() <= 0:
            return
        self._document.setTextWidth(self.width())
        height, font, lines = self._document.size().height() - 1, self.font(), 1
        while line_height(font, lines) < height and lines < 100:
            lines += 1
        self.set_lines(max(self.min_lines, lines))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()
            self._fill()
            self._fit_lines()  # larger type may take more lines

    def _fill(self) -> None:
        if QtGui.Qt.mightBeRichText(self._text):  # QtGui's Qt namespace, not QtCore's
            self._document.setHtml(self._text)
        else:
            self._document.setPlainText(self._text)
        self.update()

    def _fit_height(self) -> None:
        self._document.setDefaultFont(self.font())
        self.setFixedHeight(line_height(self.font(), self.lines) + 2)

    def sizeHint(self) -> QSize:
        return QSize(12 * self.fontMetrics().averageCharWidth(), self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.height())

    def paintEvent(self, event) -> None:
        document = self._document
        document.setTextWidth(self.width())
        top = max(0.0, (self.height() - document.size().height()) / 2)
        painter = QPainter(self)
        painter.setClipRect(self.rect())
        painter.translate(0, top)
        context = QAbstractTextDocumentLayout.PaintContext()
        palette = QPalette(self.palette())
        palette.setColor(QPalette.ColorRole.Text, palette.color(QPalette.ColorRole.WindowText))
        context.palette = palette
        context.clip = QRectF(0, -top, self.width(), self.height())
        document.documentLayout().draw(painter, context)
