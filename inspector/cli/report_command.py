"""`robustness-inspector report`: a PDF audit report from a results file or an audit, headless.

Qt loads only when the command runs (for fonts and the PDF writer, offscreen without a
display), so `evaluate` stays Qt-free.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.cli.report_saliency import (
    add_report_saliency_arguments,
    gallery_saliency,
    print_saliency_notes,
)
from inspector.core.errors import InspectorError
from inspector.core.threat import parse_eps

if TYPE_CHECKING:  # the results module imports torch: not for building the parser
    from inspector.core.results import EvaluationResults


def add_report_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write a PDF audit report from a results .json or an audit .riaudit",
        description="Write a PDF audit report: page 1 an executive summary (models, threat "
        "model, headline figures, verdicts, warnings), then the contents, what was evaluated "
        "(models, data, hashes), tables with 95 % intervals, sanity checks, plots, method, "
        "limitations and example galleries (with saliency maps of the examples shown, from "
        "the models the results name). Runs without a display.",
    )
    p.add_argument("source", metavar="RESULTS_OR_AUDIT", help="results .json or audit .riaudit")
    p.add_argument("--out", metavar="REPORT.pdf", required=True, help="the PDF to write")
    p.add_argument(
        "--eps",
        metavar="E",
        default=None,
        help="the grid ε of the example galleries (default: the grid ε nearest the middle "
        "at which boundary errors exist), e.g. 0.1 or 8/255",
    )
    add_report_saliency_arguments(p)


def load_source(path: str | Path) -> tuple[EvaluationResults, str]:
    """Results from an audit (with its stored images) or a plain results file, and a line
    naming where they came from."""
    from inspector.core.audit import load_any
    from inspector.reporting.data import format_date

    path = Path(path)
    if not path.exists():
        raise InspectorError(f"file not found: {path}")
    audit = load_any(path)
    if audit.saved:
        return audit.results, f"{path} (audit saved {format_date(audit.saved)})"
    return audit.results, str(path)


def run_report(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise InspectorError(f"--out {out} should end in .pdf")
    if out.is_dir():
        raise InspectorError(f"{out} is a folder: give a file name such as report.pdf")
    eps = parse_eps(args.eps) if args.eps is not None else None
    results, source = load_source(args.source)
    from inspector.render.pdf import render_report  # Qt only loads here
    from inspector.reporting.data import build_report_data
    from inspector.reporting.gallery import eps_index_for

    eps_index_for(results, eps)  # a wrong --eps is said before any model is opened
    saliency = gallery_saliency(results, args)
    data = build_report_data(results, eps=eps, source=source, saliency=saliency)
    pages = render_report(data, out)
    print_saliency_notes(data)
    print(f"report written to {out} ({pages} pages)", file=sys.stderr)
    return 0
