"""The PDF audit report: Qt renders the Qt-free ReportData (inspector.core.report_data)."""

from inspector.report.render import render_pdf_bytes, render_report

__all__ = ["render_pdf_bytes", "render_report"]
