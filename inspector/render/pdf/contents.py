"""The table of contents: its entries are known before layout, its page numbers after.

Every section heading (level 2) is an entry. The block's height depends only on how many
entries there are, so layout runs once; `fill_contents` then reads on which page each
heading landed and hands the numbers to the block before anything is painted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter

from inspector.render.pdf.blocks import RIGHT, Block, Heading
from inspector.render.pdf.page import FAINT, INK, Context, draw_text, font, hline, mm

ROW_MM = 0.9  # between entries


@dataclass
class Contents(Block):
    entries: list[str]
    pages: dict[str, int] = field(default_factory=dict)
    after_mm: float = 2.0

    def _row(self, ctx: Context) -> float:
        return ctx.metrics(font("body")).height() + mm(ROW_MM)

    def height(self, ctx: Context, width: float) -> float:
        return self._row(ctx) * len(self.entries) + mm(self.after_mm)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        f, row = font("body"), self._row(ctx)
        for title in self.entries:
            rect = QRectF(x, y, width, row)
            draw_text(painter, rect, title, f, INK)
            page = self.pages.get(title)
            draw_text(painter, rect, "" if page is None else str(page), f, INK, RIGHT)
            hline(painter, x, y + row - mm(0.3), width, FAINT, 0.12)
            y += row


def headings(blocks: list[Block]) -> list[Heading]:
    """Level-2 headings in reading order, also those inside side-by-side blocks."""
    found: list[Heading] = []
    for block in blocks:
        inner = getattr(block, "inner_blocks", None)
        for b in inner() if inner else [block]:
            if isinstance(b, Heading) and b.level == 2 and b.in_contents:
                found.append(b)
    return found


def fill_contents(pages: list[list[tuple[Block, float]]]) -> dict[str, int]:
    """Give every Contents block the page (1-based) of each of its entries' headings."""
    found: dict[str, int] = {}
    contents: list[Contents] = []
    for number, page in enumerate(pages, start=1):
        blocks = [b for b, _ in page]
        contents += [b for b in blocks if isinstance(b, Contents)]
        for h in headings(blocks):
            found.setdefault(h.text, number)
    for block in contents:
        block.pages = {t: found[t] for t in block.entries if t in found}
    return found
