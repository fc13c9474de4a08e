"""Render ReportData to a PDF: A4, 300 dpi, selectable text, vector plots, lossless images.

Layout runs first (so every footer can say "page i of n" and the contents can give each
section's page), then each page is painted with
the threat model's one-line description in its header. The PDF is built in memory and
written atomically: a failure leaves any previous file untouched.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, Qt
from PySide6.QtGui import QPageLayout, QPageSize, QPainter, QPdfWriter

from inspector.core.atomic import atomic_open
from inspector.core.errors import InspectorError
from inspector.render.pdf.contents import fill_contents
from inspector.render.pdf.page import (
    DPI,
    FOOTER_MM,
    HEADER_TOP_MM,
    MUTED,
    PAGE_SIZE,
    RULE,
    Context,
    draw_text,
    font,
    hline,
    mm,
    wrap_words,
)
from inspector.render.pdf.paginate import Page, paginate
from inspector.render.pdf.qt_app import ensure_gui_app
from inspector.render.pdf.sections import all_sections
from inspector.reporting.data import ReportData

RIGHT_ALIGN = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _writer(buffer: QBuffer, data: ReportData) -> QPdfWriter:
    writer = QPdfWriter(buffer)
    writer.setResolution(DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(PAGE_SIZE),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(f"{data.title}: {data.subtitle}")
    writer.setCreator(f"Robustness Inspector {data.tool_version}")
    return writer


def _header_lines(ctx: Context, data: ReportData) -> list[str]:
    return wrap_words(data.threat_line, font("header"), ctx.width, ctx)


def _paint_frame(ctx: Context, painter: QPainter, lines: list[str], page: int, total: int, data):
    """Header (the threat model, every page) and footer (tool, date, page i of n)."""
    f = font("header")
    line_h = ctx.metrics(f).height()
    y = mm(HEADER_TOP_MM)
    for text in lines:
        draw_text(painter, QRectF(ctx.left, y, ctx.width, line_h), text, f, MUTED)
        y += line_h
    hline(painter, ctx.left, y + mm(1.5), ctx.width, RULE, 0.2)
    base = ctx.page_height - mm(FOOTER_MM)
    hline(painter, ctx.left, base - line_h - mm(1.5), ctx.width, RULE, 0.2)
    left = f"Robustness Inspector {data.tool_version} · {data.title} · {data.report_date}"
    draw_text(painter, QRectF(ctx.left, base - line_h, ctx.width, line_h), left, f, MUTED)
    right = f"page {page} of {total}"
    draw_text(
        painter, QRectF(ctx.left, base - line_h, ctx.width, line_h), right, f, MUTED, RIGHT_ALIGN
    )


def _paint(writer: QPdfWriter, ctx: Context, pages: list[Page], data: ReportData) -> None:
    painter = QPainter()
    if not painter.begin(writer):
        raise InspectorError("cannot start the PDF writer")
    try:
        painter.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.LosslessImageRendering
        )
        lines = _header_lines(ctx, data)
        for number, page in enumerate(pages, start=1):
            if number > 1:
                writer.newPage()
            _paint_frame(ctx, painter, lines, number, len(pages), data)
            for block, y in page:
                block.paint(ctx, painter, ctx.left, y, ctx.width)
    finally:
        painter.end()


def render_pdf_bytes(data: ReportData) -> tuple[bytes, int]:
    """The PDF in memory and its page count."""
    ensure_gui_app()
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = _writer(buffer, data)
    ctx = Context(writer)
    ctx.header_height = len(_header_lines(ctx, data)) * ctx.metrics(font("header")).height()
    pages = paginate(all_sections(data, ctx.width), ctx)
    fill_contents(pages)  # page numbers are known only now; heights do not depend on them
    _paint(writer, ctx, pages, data)  # QPainter.end() writes the PDF's trailer
    buffer.close()
    return bytes(array.data()), len(pages)


def render_report(data: ReportData, out_path: str | Path) -> int:
    """Write the report to `out_path` atomically; returns the number of pages."""
    out = Path(out_path)
    if out.is_dir():
        raise InspectorError(f"{out} is a folder: give a file name such as report.pdf")
    pdf, pages = render_pdf_bytes(data)
    try:
        with atomic_open(out, "wb") as handle:
            handle.write(pdf)
    except OSError as exc:
        raise InspectorError(f"cannot write {out}: {exc.strerror or exc}") from None
    return pages
