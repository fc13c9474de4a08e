"""Blocks side by side: two short tables share a page's width instead of a page each.

Each column is a list of blocks stacked top-down; the row is as tall as its tallest column
and never splits (whatever goes into it is short enough to keep whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QPainter

from inspector.render.pdf.blocks import Block
from inspector.render.pdf.page import Context, mm

GAP_MM = 7.0


@dataclass
class SideBySide(Block):
    """`columns` lists of blocks in `count` equal columns (fewer lists leave the rest empty)."""

    columns: list[list[Block]]
    count: int = 2
    gap_mm: float = GAP_MM
    after_mm: float = 1.0

    def column_width(self, width: float) -> float:
        return (width - (self.count - 1) * mm(self.gap_mm)) / self.count

    def height(self, ctx: Context, width: float) -> float:
        w = self.column_width(width)
        tallest = max((sum(b.height(ctx, w) for b in col) for col in self.columns), default=0.0)
        return tallest + mm(self.after_mm)

    def paint(self, ctx: Context, painter: QPainter, x: float, y: float, width: float) -> None:
        w = self.column_width(width)
        for i, col in enumerate(self.columns):
            left, top = x + i * (w + mm(self.gap_mm)), y
            for block in col:
                block.paint(ctx, painter, left, top, w)
                top += block.height(ctx, w)

    def inner_blocks(self) -> list[Block]:
        """Every block inside, in painting order (the contents look for headings here)."""
        return [b for col in self.columns for b in col]
