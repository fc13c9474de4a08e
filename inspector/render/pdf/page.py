"""Page geometry and typography of the report: A4 at 300 dpi, one type family, fixed sizes.

Everything is laid out in device pixels of the PDF writer (300 per inch); `mm()` converts.
Fonts are measured on the writer itself so layout and painting agree to the pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageSize, QPaintDevice, QPainter, QPen

from inspector.render.palette import MODEL_COLORS

DPI = 300
PAGE_SIZE = QPageSize.PageSizeId.A4
PAGE_MM = (210.0, 297.0)
MARGIN_MM = 20.0  # left and right
HEADER_TOP_MM = 11.0
FOOTER_MM = 12.0  # from the page's bottom edge to the footer's baseline
CONTENT_BOTTOM_MM = 20.0  # content stops this far above the bottom edge

FAMILY = "DejaVu Sans"
MONO_FAMILY = "DejaVu Sans Mono"
SIZES_PT = {
    "title": 22.0,
    "subtitle": 12.0,
    "h2": 13.5,
    "h3": 10.5,
    "body": 9.0,
    "small": 8.0,
    "table": 8.0,
    "caption": 7.0,
    "header": 7.0,
    "axis": 7.5,
}
INK = QColor("#1a1a1a")
MUTED = QColor("#5b5b5b")
RULE = QColor("#9a9a9a")
FAINT = QColor("#d9d9d9")
ACCENT = QColor(MODEL_COLORS[0])  # Okabe–Ito blue, the first model colour
PANEL = QColor("#f2f4f7")


def mm(value: float) -> float:
    """Millimetres to device pixels at the report's resolution."""
    return value * DPI / 25.4


def font(kind: str = "body", bold: bool = False, mono: bool = False, italic: bool = False) -> QFont:
    f = QFont(MONO_FAMILY if mono else FAMILY)
    f.setPointSizeF(SIZES_PT[kind])
    f.setBold(bold)
    f.setItalic(italic)
    f.setKerning(True)
    # no ligatures: a PDF's text must copy and search as typed ("fi", not "ﬁ")
    for tag in ("liga", "clig"):
        f.setFeature(QFont.Tag(tag), 0)
    return f


@dataclass
class Context:
    """What layout and painting share: the device (for metrics) and the page geometry."""

    device: QPaintDevice
    header_height: float = 0.0  # set once the header text is wrapped

    def metrics(self, f: QFont) -> QFontMetricsF:
        return QFontMetricsF(f, self.device)

    @property
    def page_width(self) -> float:
        return mm(PAGE_MM[0])

    @property
    def page_height(self) -> float:
        return mm(PAGE_MM[1])

    @property
    def left(self) -> float:
        return mm(MARGIN_MM)

    @property
    def width(self) -> float:
        return self.page_width - 2 * mm(MARGIN_MM)

    @property
    def top(self) -> float:
        return mm(HEADER_TOP_MM) + self.header_height + mm(7)

    @property
    def bottom(self) -> float:
        return self.page_height - mm(CONTENT_BOTTOM_MM)

    @property
    def content_height(self) -> float:
        return self.bottom - self.top


def wrap_words(text: str, f: QFont, width: float, ctx: Context) -> list[str]:
    """Greedy word wrap; a word wider than the line stays whole on its own line."""
    fm = ctx.metrics(f)
    lines: list[str] = []
    for word in text.split(" "):
        if lines and fm.horizontalAdvance(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def pen(color: QColor, width_mm: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(color, mm(width_mm), style)
    solid = style == Qt.PenStyle.SolidLine
    p.setCapStyle(Qt.PenCapStyle.FlatCap if solid else Qt.PenCapStyle.RoundCap)
    p.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return p


def hline(painter: QPainter, x: float, y: float, width: float, color: QColor, w_mm: float) -> None:
    painter.setPen(pen(color, w_mm))
    painter.drawLine(QPointF(x, y), QPointF(x + width, y))


def draw_text(
    painter: QPainter,
    rect: QRectF,
    text: str,
    f: QFont,
    color: QColor = INK,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
) -> None:
    painter.setFont(f)
    painter.setPen(color)
    painter.drawText(rect, int(align), text)
