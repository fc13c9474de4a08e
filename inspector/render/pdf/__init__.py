"""The PDF audit report: Qt renders the Qt-free ReportData (inspector.reporting.data)."""

from inspector.render.pdf.render import render_pdf_bytes, render_report

__all__ = ["render_pdf_bytes", "render_report"]
