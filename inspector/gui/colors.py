"""The palette's meanings as the widgets show them: model colours readable on the widget's
own background, and statuses as glyph + word on a neutral cell (never a strong fill).

`render/palette.py` says what each colour means; this module only adapts it to the light or
dark Qt palette a widget is drawn with, so every widget asks the same question the same way.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from inspector.render.palette import (
    GRAPHIC_CONTRAST,
    MODEL_COLORS,
    STATUS_COLORS,
    STATUS_GLYPHS,
    STATUS_LABELS,
    model_color,
    readable_on,
    relative_luminance,
)

STATUS_TINT_ALPHA = 40  # of 255: a faint neutral tint that leaves the cell's text at AA


def window_color(widget: QWidget) -> str:
    """The widget's background ("#RRGGBB"), light or dark theme alike."""
    return widget.palette().color(QPalette.ColorRole.Window).name()


def model_text_color(widget: QWidget, index: int) -> str:
    """Model `index`'s colour as text on `widget` (WCAG AA, 4.5:1), hue kept."""
    return model_color(index, window_color(widget))


def model_line_color(widget: QWidget, index: int) -> str:
    """Model `index`'s colour for lines and markers on `widget`: as Okabe-Ito defined it on a
    light background (the report's colours), lightened to 3:1 (WCAG non-text) on a dark one."""
    color, background = MODEL_COLORS[index % len(MODEL_COLORS)], window_color(widget)
    if relative_luminance(background) >= 0.5:
        return color
    return readable_on(color, background, GRAPHIC_CONTRAST)


def status_text(status: str) -> str:
    """ "✗ boundary error": the glyph and the word carry the status, not a colour."""
    return f"{STATUS_GLYPHS[status]} {STATUS_LABELS[status]}"


_GLYPHS: dict[tuple[str, str, int], QPixmap] = {}


def status_glyph(status: str, size: int = 14) -> QPixmap:
    """The status's glyph (✓ ✗ •) as a small icon in the palette's text colour: the table
    shows it beside the word, so the cell's text stays the plain status word."""
    ink = QApplication.palette().color(QPalette.ColorRole.Text).name()
    key = (status, ink, size)
    if key not in _GLYPHS:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        font = QFont(QApplication.font())
        font.setPixelSize(size - 2)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(ink))
        painter.drawText(pixmap.rect(), int(Qt.AlignmentFlag.AlignCenter), STATUS_GLYPHS[status])
        painter.end()
        _GLYPHS[key] = pixmap
    return _GLYPHS[key]


def status_cell_brush(status: str) -> QBrush:
    """A faint tint of the status's grey over the cell: severity at a glance, text readable."""
    color = QColor(STATUS_COLORS[status])
    color.setAlpha(STATUS_TINT_ALPHA)
    return QBrush(color)


def composite(tint: QColor, background: str) -> str:
    """`tint` (with alpha) painted over `background`, as the view shows it."""
    base, a = QColor(background), tint.alphaF()
    mixed = QColor.fromRgbF(
        *(t * a + b * (1 - a) for t, b in zip(tint.getRgbF()[:3], base.getRgbF()[:3], strict=True))
    )
    return mixed.name()


def status_chip(status: str) -> str:
    """The detail panel's status: a grey chip holding the glyph (black or white on it), then
    the word in bold."""
    fill = STATUS_COLORS[status]
    ink = "#000000" if relative_luminance(fill) > 0.18 else "#FFFFFF"
    chip = (
        f'<span style="background:{fill}; color:{ink}">&nbsp;{STATUS_GLYPHS[status]}&nbsp;</span>'
    )
    return f"{chip} <b>{STATUS_LABELS[status]}</b>"
