"""The sanity checks, every model's in one section: the verdict (colour and word), then
what was seen and what it cost. Warnings are also listed in full on page 1."""

from __future__ import annotations

import html

from inspector.core.checks.result import WARNING_MARK
from inspector.render.palette import CHECK_COLORS
from inspector.render.pdf.blocks import Block, Heading, Paragraph
from inspector.reporting.data import ModelSummary, ReportData

CHECKS = "3  Sanity checks"
STATUS_MARKS = {
    "passed": "✓ passed",
    "warning": "! warning",
    "not informative": "○ not informative",
    "skipped": "– skipped",
}
NOT_RUN = (
    "The sanity checks were not run for this evaluation, so nothing here rules out masked "
    "gradients or a too weak attack."
)


def _took(seconds: float | None) -> str:
    return "" if seconds is None else f" <i>({seconds:.2f} s)</i>"


def checks_table(m: ModelSummary) -> str:
    """A model's checks as a two-column list (rich text, so explanations wrap)."""
    rows = "".join(
        f"<tr><td width='13%'><b style='color:{CHECK_COLORS.get(c.status, '#5b5b5b')}'>"
        f"{html.escape(STATUS_MARKS.get(c.status, c.status))}</b></td>"
        f"<td><b>{html.escape(c.name)}</b>: {html.escape(c.explanation)}{_took(c.seconds)}"
        "</td></tr>"
        for c in m.checks
    )
    return f"<table width='100%' cellspacing='0' cellpadding='1'>{rows}</table>"


def checks_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [Heading(CHECKS)]
    with_checks = [m for m in data.models if m.checks]
    if not with_checks:
        return [*blocks, Paragraph.plain(NOT_RUN, kind="small")]
    for m in with_checks:
        title = f"{m.name} {WARNING_MARK}" if m.warned else m.name
        blocks += [Heading(title, 3), Paragraph(checks_table(m), kind="small")]
    return blocks
