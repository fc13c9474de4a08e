"""The report's sections as lists of blocks, in reading order, from ReportData alone.

Page 1 the executive summary, then the contents, what was evaluated (identity of every
model and of the data), results (compact tables with intervals, certificates), sanity
checks, figures, method, limitations, then one gallery section per model.
"""

from __future__ import annotations

import html

from inspector.core.checks.result import WARNING_MARK
from inspector.core.threat import format_eps
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
from inspector.render.pdf.checks_section import checks_section
from inspector.render.pdf.columns import SideBySide
from inspector.render.pdf.contents import Contents, headings
from inspector.render.pdf.frontier import draw_frontier
from inspector.render.pdf.gallery_section import gallery_section
from inspector.render.pdf.plots import draw_tradeoff
from inspector.render.pdf.summary_page import summary_page
from inspector.reporting.data import (
    Field,
    ModelSummary,
    ReportData,
    format_interval,
    format_rate,
)
from inspector.reporting.summary import build_summary

CONTENTS = "Contents"
EVALUATED = "1  What was evaluated"
RESULTS = "2  Results"
FIGURES = "4  Figures"
METHOD = "5  Method"
LIMITATIONS = "6  Limitations"
WARNED_NOTE = (
    f"{WARNING_MARK} a sanity check warns about this model: its robust accuracy may be too "
    "optimistic; section 3 says which check and why."
)


def _rich(text: str) -> str:
    return html.escape(text)


def evaluation_section(data: ReportData) -> list[Block]:
    """What was evaluated, exactly: every model's file and hash, the data, the environment."""
    meta = [Field("Tool version", f"Robustness Inspector {data.tool_version}")]
    if data.source:
        meta.append(Field("Source", data.source, mono=True))
    meta += data.environment_fields  # the evaluation's device and software
    blocks: list[Block] = [
        Heading(EVALUATED),
        FieldList(meta, after_mm=3),
        Heading("Models", 3),
    ]
    for m in data.models:
        blocks += [
            Paragraph(f"<b>{_rich(m.name)}</b>", kind="small", after_mm=0.8),
            FieldList(m.identity, after_mm=2.2),
        ]
    return [*blocks, Heading("Dataset", 3), FieldList(data.dataset_fields, after_mm=2.2)]


def _model_table(m: ModelSummary) -> Table:
    """Five columns (six with certificates); compact ones, set smaller, fit half a width."""
    if _compact(m):
        columns = [
            Column("ε", 1.3, LEFT),  # widths measured at 7 pt: half a page holds them
            Column("robust\naccuracy\n(≤)", 1.5),
            Column("95 % CI", 1.9),
            Column("boundary-\nerror\nrate", 1.7),
            Column("natural-\nerror\nrate", 1.5),
        ]
    else:
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
    return Table(columns, rows, kind="caption" if _compact(m) else "table")


def _model_results(m: ModelSummary, grid_size: int) -> list[Block]:
    line = (
        f"Clean accuracy <b>{format_rate(m.clean_accuracy)}</b> "
        f"(95 % CI {format_interval(m.clean_interval)}) on {m.n} examples."
    )
    if m.partial:
        line += f" <b>Partial:</b> {len(m.rows)} of {grid_size} ε values finished."
    if m.warned:
        line += f" <b>{WARNING_MARK} A sanity check warns</b>: see section 3."
    title = f"{m.name} {WARNING_MARK}" if m.warned else m.name
    blocks: list[Block] = [Heading(title, 3), Paragraph(line, after_mm=1.5, keep_with_next=True)]
    blocks.append(_model_table(m))
    blocks += [Paragraph.plain(note, kind="small", after_mm=1.5) for note in m.notes]
    if m.smoothing is not None:
        blocks += _smoothing(m)
    return blocks


def _compact(m: ModelSummary) -> bool:
    """A model whose results fit half the page's width (five columns, no smoothing)."""
    return not m.has_certified and m.smoothing is None


def _model_blocks(data: ReportData) -> list[Block]:
    """Per model its table; models that fit half a width go two abreast."""
    blocks: list[Block] = []
    pending: list[list[Block]] = []
    for m in data.models:
        parts = _model_results(m, len(data.eps_grid))
        if not _compact(m):
            blocks += parts
            continue
        pending.append(parts)
        if len(pending) == 2:
            blocks.append(SideBySide(pending))
            pending = []
    if pending:
        blocks.append(SideBySide(pending))
    return blocks


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
    blocks: list[Block] = [PageBreak(), Heading(RESULTS), Paragraph(intro)]
    if any(m.warned for m in data.models):
        blocks.append(Paragraph.plain(WARNED_NOTE, kind="small", after_mm=1.5))
    return blocks + _model_blocks(data)


def figures_section(data: ReportData) -> list[Block]:
    models, eps = data.models, data.gallery_eps
    grid = data.eps_grid[: max((len(m.rows) for m in models), default=1)]
    return [
        PageBreak(),
        Heading(FIGURES),
        Figure(104, lambda ctx, p, r: draw_tradeoff(ctx, p, r, models, grid, eps), after_mm=1),
        Paragraph(
            "<b>Figure 1.</b> Accuracy under attack over ε, under the threat model in the page "
            "header. Colour = model, line style = metric; robust accuracy is an upper bound "
            "(attack-based). The dashed vertical line marks the report's ε (that of the "
            "summary, Figure 2 and the galleries).",
            kind="small",
            after_mm=5,
        ),
        Figure(92, lambda ctx, p, r: draw_frontier(ctx, p, r, models, eps), after_mm=1),
        Paragraph(
            f"<b>Figure 2.</b> Clean against robust accuracy at ε = {format_eps(eps)}: up is "
            "more accurate on clean inputs, right is more robust. Both axes are zoomed to the "
            "data (see their ticks). Points lie on or left of the diagonal robust = clean "
            "(robust accuracy never exceeds clean accuracy), drawn where it falls in range; the "
            "faint line and small circles trace each model over the whole ε grid, from the "
            "diagonal at ε = 0 leftwards as ε grows.",
            kind="small",
        ),
    ]


def method_section(data: ReportData) -> list[Block]:
    blocks: list[Block] = [PageBreak(), Heading(METHOD), Heading("Threat model", 3)]
    blocks += [FieldList(data.threat_fields, after_mm=3), Heading("Protocol", 3)]
    blocks += [Paragraph.plain(p) for p in data.method]
    blocks += [Spacer(3), Heading(LIMITATIONS)]
    blocks += [Paragraph.plain(p) for p in data.limitations]
    return blocks


def all_sections(data: ReportData, width: float) -> list[Block]:
    """Every block in reading order; the contents list every section heading after it."""
    body = (
        evaluation_section(data)
        + results_section(data)
        + checks_section(data)
        + figures_section(data)
        + method_section(data)
        + gallery_section(data, width)
    )
    front = summary_page(data, build_summary(data))
    entries = [h.text for h in headings(front + body)]
    contents: list[Block] = [PageBreak(), Heading(CONTENTS, in_contents=False), Contents(entries)]
    return front + contents + body
