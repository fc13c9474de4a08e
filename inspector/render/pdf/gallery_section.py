"""One gallery section per model: boundary errors at the report's ε, then natural errors.

Each boundary error shows clean, adversarial and δ when the audit stored them, and saliency
(clean, and adversarial where the audit kept that image) when the report was given maps; the
section says which of these it could not show, and why: a model whose maps could not be
computed gets one line instead of them.
"""

from __future__ import annotations

from inspector.core.threat import format_eps
from inspector.render.pdf.blocks import Block, Heading, PageBreak, Paragraph
from inspector.render.pdf.gallery import (
    IMAGE_MM,
    SALIENCY_IMAGE_MM,
    Cell,
    boundary_caption,
    boundary_panels,
    clean_panel,
    natural_caption,
    rows_of,
)
from inspector.reporting.data import ReportData
from inspector.reporting.gallery import Gallery

EXAMPLES = "7  Examples"


def _shown(examples: list, total: int) -> str:
    return f" ({len(examples)} of {total} shown)" if total else " (none)"


def _gallery_blocks(g: Gallery, data: ReportData, width: float) -> list[Block]:
    eps = format_eps(g.eps)
    intro = (
        f"Boundary errors at ε = {eps}: classified correctly without attack, flipped by the "
        "attack within ε; shown lowest breaking ε first. Natural errors: misclassified "
        "without attack; shown most confident first. Confidences are softmax probabilities."
    )
    if any(e.adv_image is not None for e in g.boundary):
        intro += (
            " δ = adversarial − clean, amplified by the factor printed over it (mid grey = 0; "
            "one channel: green negative, magenta positive)."
        )
    maps = data.has_saliency and g.saliency_note is None and bool(g.boundary)
    two_maps = maps and any(e.adv_saliency is not None for e in g.boundary)
    if maps:
        intro += " " + data.saliency_caption(two_maps)
    blocks: list[Block] = [PageBreak(), Heading(f"{EXAMPLES}: {g.model_name}"), Paragraph(intro)]
    notes = " ".join(n for n in (data.image_note, data.saliency_note) if n)
    if notes:
        blocks.append(Paragraph.plain(notes, kind="small"))
    if data.has_saliency and g.saliency_note:
        blocks.append(Paragraph.plain(g.saliency_note, kind="small"))
    blocks.append(Heading(f"Boundary errors at ε = {eps}{_shown(g.boundary, g.boundary_total)}", 3))
    if g.boundary:
        cells = [
            Cell(boundary_panels(e, maps, two_maps), boundary_caption(e)) for e in g.boundary
        ]
        least = SALIENCY_IMAGE_MM if two_maps else IMAGE_MM
        blocks += rows_of(cells, width, 50, max_image_mm=19, min_image_mm=least)
    else:
        blocks.append(Paragraph(f"No boundary errors at ε = {eps}.", kind="small"))
    blocks.append(Heading(f"Natural errors{_shown(g.natural, g.natural_total)}", 3))
    if g.natural:
        cells = [Cell([clean_panel(e)], natural_caption(e)) for e in g.natural]
        blocks += rows_of(cells, width, 30, max_image_mm=16)
    else:
        blocks.append(
            Paragraph("No natural errors: every example is classified correctly.", kind="small")
        )
    return blocks


def gallery_section(data: ReportData, width: float) -> list[Block]:
    blocks: list[Block] = []
    for g in data.galleries:
        blocks += _gallery_blocks(g, data, width)
    return blocks
