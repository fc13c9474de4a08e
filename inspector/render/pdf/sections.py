"""The report's sections as lists of blocks, in reading order, from ReportData alone.

Title page (identity of everything evaluated), results (tables with intervals, checks,
certificates), figures, method, limitations, then one gallery page per model.
"""

from __future__ import annotations

import html

from inspector.core.checks.result import WARNING_MARK
from inspector.core.threat import format_eps
from inspector.render.palette import CHECK_COLORS
from inspector.render.pdf.blocks import (
    LEFT,
    Block,
    Column,
    FieldList,
    Figure,
    Heading,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)
from inspector.render.pdf.gallery import (
    Cell,
    boundary_caption,
    boundary_panels,
    clean_panel,
    natural_caption,
    rows_of,
)
from inspector.render.pdf.page import SIZES_PT
from inspector.render.pdf.plots import draw_frontier, draw_tradeoff
from inspector.reporting.data import (
    Field,
    ModelSummary,
    ReportData,
    format_interval,
    format_rate,
)
from inspector.reporting.gallery import Gallery

STATUS_MARKS = {
    "passed": "✓ passed",
    "warning": "! warning",
    "not informative": "○ not informative",
    "skipped": "– skipped",
}
WARNED_NOTE = (
    f"{WARNING_MARK} a sanity check warns about this model: its robust accuracy may be too "
    "optimistic; the model's section below says which check and why."
)


def _rich(text: str) -> str:
    return html.escape(text)


def title_page(data: ReportData) -> list[Block]:
    meta = [
        Field("Report generated", data.report_date),
        Field("Evaluation run", data.evaluation_date),
        Field("Tool version", f"Robustness Inspector {data.tool_version}"),
    ]
    if data.source:
        meta.append(Field("Source", data.source, mono=True))
    blocks: list[Block] = [
        Spacer(6),
        Paragraph(
            f"<span style='font-size:{SIZES_PT['title']}pt; font-weight:600'>"
            f"{_rich(data.title)}</span>",
            after_mm=1.5,
        ),
        Paragraph(
            f"<span style='font-size:{SIZES_PT['subtitle']}pt' class='muted'>"
            f"{_rich(data.subtitle)}</span>",
            after_mm=6,
        ),
        Paragraph(f"<b>Threat model.</b> {_rich(data.threat_line)}", boxed=True, after_mm=4),
        FieldList(meta, after_mm=3),
        Heading("Models", 3),
    ]
    for m in data.models:
        blocks += [
            Paragraph(f"<b>{_rich(m.name)}</b>", kind="small", after_mm=0.8),
            FieldList(m.identity, after_mm=2.2),
        ]
    blocks += [Heading("Dataset", 3), FieldList(data.dataset_fields, after_mm=2.2)]
    if data.environment_fields:
        blocks += [Heading("Environment", 3), FieldList(data.environment_fields)]
    return blocks


def _glance(data: ReportData) -> list[Block]:
    eps = format_eps(data.gallery_eps)
    columns = [
        Column("model", 3.0, LEFT),
        Column("clean\naccuracy", 1.7),
        Column("95 % CI", 2.0),
        Column(f"robust accuracy\nat ε = {eps} (≤)", 2.4),
        Column("95 % CI", 2.0),
        Column(f"boundary-error\nrate at ε = {eps}", 2.4),
    ]
    rows = []
    for m in data.models:
        r = m.row_at(data.gallery_eps)
        robust = "–" if r is None else format_rate(r.robust_accuracy)
        rows.append(
            [
                m.name,
                format_rate(m.clean_accuracy),
                format_interval(m.clean_interval),
                f"{robust} {WARNING_MARK}" if m.warned else robust,
                "–" if r is None else format_interval(r.robust_interval),
                "–" if r is None else format_rate(r.boundary_error_rate),
            ]
        )
    blocks: list[Block] = [Heading(f"At a glance: ε = {eps}", 3), Table(columns, rows)]
    if any(m.warned for m in data.models):
        blocks.append(Paragraph.plain(WARNED_NOTE, kind="small", after_mm=1.5))
    return blocks


def _model_table(m: ModelSummary) -> Table:
    columns = [
        Column("ε", 1.6, LEFT),
        Column("robust\naccuracy (≤)", 2.2),
        Column("95 % CI", 2.2),
        Column("boundary-\nerror rate", 2.2),
        Column("natural-\nerror rate", 2.2),
    ]
    if m.has_certified:
        columns.append(Column("certified\naccuracy (≥)", 2.2))
    rows = []
    for r in m.rows:
        row = [
            r.eps_label,
            format_rate(r.robust_accuracy),
            format_interval(r.robust_interval),
            format_rate(r.boundary_error_rate),
            format_rate(r.natural_error_rate),
        ]
        if m.has_certified:
            row.append("–" if r.certified_accuracy is None else format_rate(r.certified_accuracy))
        rows.append(row)
    return Table(columns, rows)


def _model_results(m: ModelSummary, grid_size: int) -> list[Block]:
    line = (
        f"Clean accuracy <b>{format_rate(m.clean_accuracy)}</b> "
        f"(95 % CI {format_interval(m.clean_interval)}) on {m.n} examples."
    )
    if m.partial:
        line += f" <b>Partial:</b> {len(m.rows)} of {grid_size} ε values finished."
    if m.warned:
        line += f" <b>{WARNING_MARK} A sanity check warns</b>: see below before trusting the table."
    title = f"{m.name} {WARNING_MARK}" if m.warned else m.name
    blocks: list[Block] = [Heading(title, 3), Paragraph(line, after_mm=1.5, keep_with_next=True)]
    blocks.append(_model_table(m))
    blocks += [Paragraph.plain(note, kind="small", after_mm=1.5) for note in m.notes]
    if m.checks:
        blocks += [Paragraph(_checks_table(m), kind="small")]
    if m.smoothing is not None:
        blocks += _smoothing(m)
    return blocks


def _checks_table(m: ModelSummary) -> str:
    """Sanity checks as a two-column list: the verdict (colour and word), then what was seen."""
    rows = "".join(
        f"<tr><td width='13%'><b style='color:{CHECK_COLORS.get(c.status, '#5b5b5b')}'>"
        f"{_rich(STATUS_MARKS.get(c.status, c.status))}</b></td>"
        f"<td><b>{_rich(c.name)}</b>: {_rich(c.explanation)}{_took(c.seconds)}</td></tr>"
        for c in m.checks
    )
    return (
        "<p style='margin-bottom:3px'><b>Sanity checks</b></p>"
        f"<table width='100%' cellspacing='0' cellpadding='1'>{rows}</table>"
    )


def _took(seconds: float | None) -> str:
    return "" if seconds is None else f" <i>({seconds:.2f} s)</i>"


def _smoothing(m: ModelSummary) -> list[Block]:
    s = m.smoothing
    assert s is not None
    blocks: list[Block] = [
        Paragraph(
            "<b>Randomized smoothing</b> — certified accuracy of the smoothed classifier "
            "(a lower bound for that classifier, not for the model itself).",
            kind="small",
            after_mm=1,
            keep_with_next=True,
        ),
        FieldList(s.fields, after_mm=1.5, keep_with_next=bool(s.rows)),
    ]
    if s.rows:
        columns = [Column(c, 2.0) for c in s.columns]
        blocks.append(Table(columns, s.rows, max_width_mm=40.0 * len(columns)))
    return blocks


def results_section(data: ReportData) -> list[Block]:
    intro = (
        "Per model and ε: robust accuracy under the attack (an upper bound on the true robust "
        "accuracy, hence ≤), its 95 % Wilson interval, and the boundary-error and natural-error "
        "rates, which add up to the robust error: robust accuracy = 1 − natural-error rate − "
        "boundary-error rate. At ε = 0 robust accuracy equals clean accuracy."
    )
    if any(m.has_certified for m in data.models):
        intro += (
            " Certified (≥) is the exact robust accuracy of an affine model without the [0, 1] "
            "box, a lower bound."
        )
    blocks: list[Block] = [PageBreak(), Heading("1  Results"), Paragraph(intro)]
    blocks += _glance(data)
    for m in data.models:
        blocks += _model_results(m, len(data.eps_grid))
    return blocks


def figures_section(data: ReportData) -> list[Block]:
    models, eps = data.models, data.gallery_eps
    grid = data.eps_grid[: max((len(m.rows) for m in models), default=1)]
    return [
        PageBreak(),
        Heading("2  Figures"),
        Figure(104, lambda ctx, p, r: draw_tradeoff(ctx, p, r, models, grid, eps), after_mm=1),
        Paragraph(
            "<b>Figure 1.</b> Accuracy under attack over ε, under the threat model in the page "
            "header. Colour = model, line style = metric; robust accuracy is an upper bound "
            "(attack-based). The dashed vertical line marks the ε of the gallery and Figure 2.",
            kind="small",
            after_mm=5,
        ),
        Figure(100, lambda ctx, p, r: draw_frontier(ctx, p, r, models, eps), after_mm=1),
        Paragraph(
            f"<b>Figure 2.</b> Clean against robust accuracy at ε = {format_eps(eps)}: up is "
            "more accurate on clean inputs, right is more robust. Points lie on or left of the "
            "diagonal (robust accuracy never exceeds clean accuracy); the faint line and small "
            "circles trace each model over the whole ε grid, from the diagonal at ε = 0 "
            "leftwards as ε grows.",
            kind="small",
        ),
    ]


def method_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [PageBreak(), Heading("3  Method"), Heading("Threat model", 3)]
    blocks += [FieldList(data.threat_fields, after_mm=3), Heading("Protocol", 3)]
    blocks += [Paragraph.plain(p) for p in data.method]
    blocks += [Spacer(3), Heading("4  Limitations")]
    blocks += [Paragraph.plain(p) for p in data.limitations]
    return blocks


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
            "one channel: blue negative, orange positive)."
        )
    if data.has_saliency:
        intro += " Saliency: |attribution| scaled to its 99th percentile (dark low, yellow high)."
    blocks: list[Block] = [PageBreak(), Heading(f"5  Examples: {g.model_name}"), Paragraph(intro)]
    if data.image_note:
        blocks.append(Paragraph.plain(data.image_note, kind="small"))
    blocks.append(Heading(f"Boundary errors at ε = {eps}{_shown(g.boundary, g.boundary_total)}", 3))
    if g.boundary:
        cells = [
            Cell(boundary_panels(e, data.has_saliency), boundary_caption(e)) for e in g.boundary
        ]
        blocks += rows_of(cells, width, 50, max_image_mm=19)
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


def all_sections(data: ReportData, width: float) -> list[Block]:
    return (
        title_page(data)
        + results_section(data)
        + figures_section(data)
        + method_section(data)
        + gallery_section(data, width)
    )
