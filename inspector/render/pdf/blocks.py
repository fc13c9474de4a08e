"""The building blocks a report page is made of: each measures itself, then paints itself.

All text is drawn as text (QPainter.drawText or QTextDocument), never as pixels, so the PDF
stays selectable and searchable. A block may split (tables, between rows) when it does not
fit the room left on a page; headings keep with the block after them.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QTextDocument, QTextOption

from inspector.render.pdf.page import (
    ACCENT,
    INK,
    MUTED,
    PANEL,
    RULE,
    Context,
    draw_text,
    font,
    hline,
    mm,
)

MIN_SPLIT_ROWS = 4  # a split table keeps at least this many rows on each page
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class Block:
    """A vertical piece of a page. Heights and positions are in device pixels."""

    keep_with_next = False
    page_break = False

    def height(self, ctx: Context, width: float) -> float:
        raise NotImplementedError

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        raise NotImplementedError

    def split(self, ctx: Context, width: float, room: float) -> tuple[Block, Block] | None:
        """A head that fits `room` and the rest, or None when the block cannot split."""
        return None

    def min_height(self, ctx: Context, width: float) -> float:
        """The least of this block that must share a page with a heading kept with it."""
        return self.height(ctx, width)


class PageBreak(Block):
    page_break = True

    def height(self, ctx: Context, width: float) -> float:
        return 0.0

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        pass


@dataclass
class Spacer(Block):
    mm_high: float

    def height(self, ctx: Context, width: float) -> float:
        return mm(self.mm_high)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        pass


@dataclass
class Heading(Block):
    """A section (level 2, with a rule) or subsection (level 3) title."""

    text: str
    level: int = 2
    in_contents: bool = True  # a level-2 heading is an entry of the table of contents
    keep_with_next = True

    def _font(self) -> QFont:
        return font("h2" if self.level == 2 else "h3", bold=True)

    def _before(self) -> float:
        return mm(2.0 if self.level == 2 else 3.0)

    def height(self, ctx: Context, width: float) -> float:
        line = ctx.metrics(self._font()).height()
        rule = mm(2.2) if self.level == 2 else mm(1.2)
        return self._before() + line + rule

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        f = self._font()
        top = y + self._before()
        line = ctx.metrics(f).height()
        color = INK if self.level == 3 else ACCENT
        draw_text(painter, QRectF(x, top, width, line), self.text, f, color)
        if self.level == 2:
            hline(painter, x, top + line + mm(0.8), width, ACCENT, 0.35)


def text_document(ctx: Context, rich: str, width: float, base: QFont) -> QTextDocument:
    """A laid-out document measured on the PDF device (so its height is what gets painted)."""
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(ctx.device)
    doc.setDocumentMargin(0)
    doc.setDefaultFont(base)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    doc.setDefaultStyleSheet(f"body {{ color: {INK.name()}; }} .muted {{ color: {MUTED.name()}; }}")
    doc.setHtml(rich)
    doc.setTextWidth(width)
    return doc


def _draw_document(painter: QPainter, doc: QTextDocument, x: float, y: float) -> None:
    painter.save()
    painter.translate(x, y)
    doc.drawContents(painter)
    painter.restore()


@dataclass
class Paragraph(Block):
    """Rich text (a small HTML subset); `text` is HTML, use `plain()` for user strings."""

    text: str
    kind: str = "body"
    after_mm: float = 2.2
    boxed: bool = False  # on a light panel, for the threat model on the title page
    keep_with_next: bool = False  # e.g. a table's lead-in line stays with the table
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def plain(cls, text: str, **kwargs) -> Paragraph:
        return cls(html.escape(text), **kwargs)

    def _pad(self) -> float:
        return mm(3.0) if self.boxed else 0.0

    def _doc(self, ctx: Context, width: float) -> QTextDocument:
        inner = width - 2 * self._pad()
        if inner not in self._cache:
            self._cache[inner] = text_document(ctx, self.text, inner, font(self.kind))
        return self._cache[inner]

    def height(self, ctx: Context, width: float) -> float:
        return self._doc(ctx, width).size().height() + 2 * self._pad() + mm(self.after_mm)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        doc, pad = self._doc(ctx, width), self._pad()
        if self.boxed:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PANEL)
            painter.drawRect(QRectF(x, y, width, doc.size().height() + 2 * pad))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        _draw_document(painter, doc, x + pad, y + pad)


@dataclass
class FieldList(Block):
    """Label / value rows; values wrap (anywhere, for hashes and paths) within their column."""

    fields: list  # of inspector.reporting.data.Field
    label_mm: float = 32.0
    after_mm: float = 2.0
    keep_with_next: bool = False
    _cache: dict = field(default_factory=dict, repr=False)

    def _docs(self, ctx: Context, width: float) -> list[QTextDocument]:
        if width not in self._cache:
            value_width = width - mm(self.label_mm)
            self._cache[width] = [
                text_document(ctx, html.escape(f.value), value_width, font("small", mono=f.mono))
                for f in self.fields
            ]
        return self._cache[width]

    def _row_heights(self, ctx: Context, width: float) -> list[float]:
        label = ctx.metrics(font("small")).height()
        return [max(label, d.size().height()) + mm(0.9) for d in self._docs(ctx, width)]

    def height(self, ctx: Context, width: float) -> float:
        return sum(self._row_heights(ctx, width)) + mm(self.after_mm)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        label_font, line = font("small"), ctx.metrics(font("small")).height()
        docs = self._docs(ctx, width)
        for f, doc, h in zip(self.fields, docs, self._row_heights(ctx, width), strict=True):
            draw_text(painter, QRectF(x, y, mm(self.label_mm), line), f.label, label_font, MUTED)
            _draw_document(painter, doc, x + mm(self.label_mm), y)
            y += h


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # a share of the table's width
    align: Qt.AlignmentFlag = RIGHT


@dataclass
class Table(Block):
    """A ruled table (top, header and bottom rules, no verticals); splits between rows.

    Header cells may hold "\n" for a second line, so columns stay narrow and numbers aligned.
    """

    columns: list[Column]
    rows: list[list[str]]
    bold_rows: set[int] = field(default_factory=set)
    after_mm: float = 3.0
    kind: str = "table"
    max_width_mm: float | None = None  # narrow tables (few columns) need not span the page

    def _line(self, ctx: Context) -> float:
        return ctx.metrics(font(self.kind)).height()

    def _row_h(self, ctx: Context) -> float:
        return self._line(ctx) + mm(1.7)

    def _header_h(self, ctx: Context) -> float:
        lines = max(c.header.count("\n") + 1 for c in self.columns)
        return self._line(ctx) * lines + mm(1.7)

    def height(self, ctx: Context, width: float) -> float:
        body = self._row_h(ctx) * len(self.rows)
        return self._header_h(ctx) + body + mm(1.2) + mm(self.after_mm)

    def min_height(self, ctx: Context, width: float) -> float:
        """A table that fits in a third of a page stays whole; a longer one may split."""
        whole = self.height(ctx, width)
        if whole <= ctx.content_height / 3:
            return whole
        return self._header_h(ctx) + MIN_SPLIT_ROWS * self._row_h(ctx)

    def split(self, ctx: Context, width: float, room: float) -> tuple[Block, Block] | None:
        if self.height(ctx, width) <= ctx.content_height / 3:
            return None
        fixed = self._header_h(ctx) + mm(1.2) + mm(self.after_mm)
        fits = int((room - fixed) // self._row_h(ctx))
        if fits < MIN_SPLIT_ROWS or len(self.rows) - fits < MIN_SPLIT_ROWS:
            return None
        bold_head = {i for i in self.bold_rows if i < fits}
        bold_tail = {i - fits for i in self.bold_rows if i >= fits}
        return (
            Table(
                self.columns,
                self.rows[:fits],
                bold_head,
                self.after_mm,
                self.kind,
                self.max_width_mm,
            ),
            Table(
                self.columns,
                self.rows[fits:],
                bold_tail,
                self.after_mm,
                self.kind,
                self.max_width_mm,
            ),
        )

    def _cells(self, width: float) -> list[tuple[float, float]]:
        total = sum(c.width for c in self.columns)
        spans, left = [], 0.0
        for c in self.columns:
            w = width * c.width / total
            spans.append((left, w))
            left += w
        return spans

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        if self.max_width_mm is not None:
            width = min(width, mm(self.max_width_mm))
        row_h, pad, spans = self._row_h(ctx), mm(1.2), self._cells(width)
        hline(painter, x, y, width, INK, 0.35)
        head_h = self._header_h(ctx)
        f = font(self.kind, bold=True)
        for (left, w), col in zip(spans, self.columns, strict=True):
            rect = QRectF(x + left + pad, y, w - 2 * pad, head_h)
            vertical = Qt.AlignmentFlag.AlignBottom | (col.align & ~Qt.AlignmentFlag.AlignVCenter)
            painter.setFont(f)
            painter.setPen(INK)
            painter.drawText(rect.adjusted(0, 0, 0, -mm(0.8)), int(vertical), col.header)
        y += head_h
        hline(painter, x, y, width, RULE, 0.2)
        for i, row in enumerate(self.rows):
            self._paint_row(painter, x, y, row_h, spans, row, i in self.bold_rows, pad)
            y += row_h
        hline(painter, x, y + mm(0.4), width, INK, 0.35)

    def _paint_row(self, painter, x, y, h, spans, cells, bold, pad) -> None:
        f = font(self.kind, bold=bold)
        fm = QFontMetricsF(f, painter.device())
        for (left, w), text, col in zip(spans, cells, self.columns, strict=True):
            rect = QRectF(x + left + pad, y, w - 2 * pad, h)
            shown = fm.elidedText(text, Qt.TextElideMode.ElideMiddle, rect.width())
            draw_text(painter, rect, shown, f, INK, col.align)


@dataclass
class Figure(Block):
    """A drawing of fixed height; `draw(painter, rect)` paints inside the given rectangle."""

    height_mm: float
    draw: Callable[[Context, QPainter, QRectF], None]
    after_mm: float = 3.0

    def height(self, ctx: Context, width: float) -> float:
        return mm(self.height_mm + self.after_mm)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        painter.save()
        self.draw(ctx, painter, QRectF(QPointF(x, y), QSizeF(width, mm(self.height_mm))))
        painter.restore()
