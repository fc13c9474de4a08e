"""Flow blocks onto pages: first fit, splitting what can split, headings kept with what follows.

Layout runs before any painting, so the total page count ("page i of n") is known up front.
"""

from __future__ import annotations

from inspector.render.pdf.blocks import Block
from inspector.render.pdf.page import Context

Page = list[tuple[Block, float]]  # blocks and their top y


def _needed(ctx: Context, run: list[Block], width: float) -> float:
    """Room the block at run[0] needs: itself, the blocks chained to it by keep_with_next,
    and the least part of the first block that is not (all of it, unless it can split)."""
    total = 0.0
    for block in run:
        if block.page_break:
            break
        if not block.keep_with_next:
            return total + (block.min_height(ctx, width) if total else block.height(ctx, width))
        total += block.height(ctx, width)
    return total


def paginate(blocks: list[Block], ctx: Context) -> list[Page]:
    """Pages of placed blocks; a block taller than a page that cannot split gets its own page."""
    pages: list[Page] = [[]]
    y, width = ctx.top, ctx.width
    queue = list(blocks)
    while queue:
        block = queue.pop(0)
        if block.page_break:
            if pages[-1]:
                pages.append([])
                y = ctx.top
            continue
        room = ctx.bottom - y
        if _needed(ctx, [block, *queue[:8]], width) <= room or not pages[-1]:
            pages[-1].append((block, y))
            y += block.height(ctx, width)
            continue
        parts = block.split(ctx, width, room)
        if parts is not None:
            pages[-1].append((parts[0], y))
            queue.insert(0, parts[1])
        else:
            queue.insert(0, block)
        pages.append([])
        y = ctx.top
    if not pages[-1] and len(pages) > 1:
        pages.pop()
    return pages
