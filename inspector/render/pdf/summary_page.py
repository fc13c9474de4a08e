"""Page 1, the executive summary: the models, the threat model, the headline figures with
their intervals, a verdict per model, every warning, and the tradeoff figure.

Built from inspector.reporting.summary alone; the words "upper bound" go with every robust
accuracy here, since a client may read nothing else.
"""

from __future__ import annotations

import html

from inspector.core.checks.result import WARNING_MARK
from inspector.render.pdf.blocks import (
    LEFT,
    Block,
    Column,
    FieldList,
    Figure,
    Heading,
    Paragraph,
    Table,
)
from inspector.render.pdf.columns import SideBySide
from inspector.render.pdf.page import SIZES_PT
from inspector.render.pdf.plots import draw_tradeoff
from inspector.reporting.data import ReportData, format_interval, format_rate
from inspector.reporting.summary import PARTIAL, Headline, Summary
from inspector.reporting.verdict import (
    FRAGILE_BELOW,
    NO_ROBUSTNESS_BELOW,
)

SUMMARY_TITLE = "Executive summary"
FIGURE_MM = 86.0


def _rich(text: str) -> str:
    return html.escape(text)


def _title(data: ReportData) -> list[Block]:
    return [
        Paragraph(
            f"<span style='font-size:{SIZES_PT['title']}pt; font-weight:600'>"
            f"{_rich(data.title)}</span>",
            after_mm=1.0,
        ),
        Paragraph(
            f"<span style='font-size:{SIZES_PT['subtitle']}pt' class='muted'>"
            f"{_rich(data.subtitle)}</span><br/><span class='muted'>Evaluation run "
            f"{_rich(data.evaluation_date)} · report generated {_rich(data.report_date)}</span>",
            after_mm=2.0,
        ),
    ]


def _threat(summary: Summary) -> Block:
    """The threat model in two columns: what was attacked, and with what budget."""
    fields = summary.threat
    half = (len(fields) + 1) // 2
    return SideBySide(
        [
            [FieldList(fields[:half], label_mm=18.0, after_mm=0.0)],
            [FieldList(fields[half:], label_mm=18.0, after_mm=0.0)],
        ],
        after_mm=2.0,
    )


def _robust_cell(h: Headline) -> str:
    shown = "–" if h.robust_accuracy is None else format_rate(h.robust_accuracy)
    return f"{shown} {WARNING_MARK}" if h.warned else shown


def headline_table(summary: Summary) -> Table:
    columns = [
        Column("model", 3.0, LEFT),
        Column("clean\naccuracy", 1.6),
        Column("95 % CI", 2.0),
        Column(f"robust accuracy\nat ε = {summary.eps_label}\n(upper bound)", 2.4),
        Column("95 % CI", 2.0),
        Column("", 0.4, LEFT),
        Column("verdict", 2.4, LEFT),
    ]
    rows = [
        [
            h.name,
            format_rate(h.clean_accuracy),
            format_interval(h.clean_interval),
            _robust_cell(h),
            "–" if h.robust_interval is None else format_interval(h.robust_interval),
            "",
            h.verdict.level,
        ]
        for h in summary.headlines
    ]
    return Table(columns, rows, after_mm=1.5)


def _verdicts(summary: Summary) -> list[Block]:
    rule = (
        "Robust accuracy comes from an attack, so it is an <b>upper bound</b> on the true "
        "robust accuracy: a stronger attack can only lower it. Verdict rule: <i>not "
        "informative</i> when a sanity check warns, at ε = 0, or when clean accuracy is near "
        f"chance; else by the share of clean accuracy kept under attack: under "
        f"{NO_ROBUSTNESS_BELOW:.0%} <i>no robustness</i>, under {FRAGILE_BELOW:.0%} "
        "<i>fragile</i>, else <i>some robustness</i> (never \u201crobust\u201d: an attack "
        "proves no lower bound)."
    ).replace("%", " %")
    blocks: list[Block] = [Paragraph(rule, kind="small", after_mm=1.5)]
    for h in summary.headlines:
        blocks.append(
            Paragraph(
                f"<b>{_rich(h.name)}</b> — <b>{_rich(h.verdict.level)}</b>: "
                f"{_rich(h.verdict.reason)}.",
                kind="small",
                after_mm=0.8,
            )
        )
    return blocks


def _warnings(summary: Summary) -> list[Block]:
    count = len(summary.warnings)
    title = f"{WARNING_MARK} Warnings ({count})" if count else "Warnings"
    blocks: list[Block] = [Heading(title, 3)]
    if summary.partial:
        blocks.append(Paragraph.plain(f"{WARNING_MARK} {PARTIAL}", kind="small", after_mm=1.0))
    if summary.checks_note:
        return [*blocks, Paragraph.plain(summary.checks_note, kind="small")]
    for w in summary.warnings:
        blocks.append(
            Paragraph(
                f"{WARNING_MARK} <b>{_rich(w.model)}</b> · <b>{_rich(w.check)}</b>: "
                f"{_rich(w.explanation)}",
                kind="small",
                after_mm=1.0,
            )
        )
    return blocks


def summary_page(data: ReportData, summary: Summary) -> list[Block]:
    models, eps = data.models, summary.eps
    grid = data.eps_grid[: max((len(m.rows) for m in models), default=1)]
    blocks = [*_title(data), Heading(SUMMARY_TITLE), _threat(summary), headline_table(summary)]
    blocks += _verdicts(summary) + _warnings(summary)
    blocks += [
        Figure(FIGURE_MM, lambda ctx, p, r: draw_tradeoff(ctx, p, r, models, grid, eps), 1.0),
        Paragraph(
            f"Accuracy under attack over ε (Figure 1, larger, in section 4). Colour = model, "
            f"line style = metric; the dashed line marks ε = {summary.eps_label}.",
            kind="caption",
            after_mm=0,
        ),
    ]
    return blocks
