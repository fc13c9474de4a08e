"""The report as a client gets it: page 1 says the models, the threat model, the headline
figures (equal to the results'), the verdicts and every warning; the contents' page numbers
are the pages the sections are on; the file is readable like any other document.

A small real evaluation (two demo models, 40 examples, PGD-3) with a sanity-check warning
attached to one model; the PDF's text is read back with pypdf.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
from pathlib import Path

import pytest
from pypdf import PdfReader

from inspector.core.checks import CheckResult
from inspector.core.demo import demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.intervals import count_of, wilson_interval
from inspector.core.threat import ThreatModel, format_eps
from inspector.reporting.data import build_report_data, format_interval, format_rate
from inspector.reporting.verdict import verdict

WARNING = CheckResult(
    "more steps and restarts",
    "warning",
    "Twice the steps and a restart broke 3 more of 20 sampled examples: raise the budget.",
)
PASSED = CheckResult("deterministic", "passed", "Repeated forward passes agree.")
SECTIONS = [
    "Executive summary",
    "1  What was evaluated",
    "2  Results",
    "3  Sanity checks",
    "4  Figures",
    "5  Method",
    "6  Limitations",
]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def results():
    threat = ThreatModel(norm="linf", eps=(0.0, 0.1, 0.2), attack="pgd", steps=3, seed=0)
    request = EvaluationRequest(
        tuple(ModelRequest(str(p)) for p in demo_model_paths()[:2]),
        "digits",
        threat,
        limit=40,
        device="cpu",
        checks=False,
    )
    done = run_to_end(request)
    first, second = done.models
    models = [
        dataclasses.replace(first, checks=[PASSED]),
        dataclasses.replace(second, checks=[PASSED, WARNING]),
    ]
    return dataclasses.replace(done, models=models)


@pytest.fixture(scope="module")
def report(results, tmp_path_factory, qapp) -> tuple[Path, list[str]]:
    from inspector.render.pdf import render_report

    out = tmp_path_factory.mktemp("deliverable") / "report.pdf"
    previous = os.umask(0o022)
    try:
        pages = render_report(build_report_data(results, eps=0.1), out)
    finally:
        os.umask(previous)
    texts = [squash(p.extract_text()) for p in PdfReader(out).pages]
    assert pages == len(texts)
    return out, texts


def test_page_one_is_the_executive_summary(results, report):
    _, texts = report
    first = texts[0]
    assert "Executivesummary" in first and "upperbound" in first
    threat = results.threat
    for label, value in [
        ("Norm", "L∞"),
        ("ε", "0.1here"),
        ("Attack", squash(threat.attack_label())),
        ("Steps", "3"),
        ("Restarts", "1"),
        ("Examples", "40"),
        ("Seed", "0"),
    ]:
        assert f"{label}{value}" in first, label
    n = 40
    for m in results.models:
        s = m.sweep
        robust = s.curve()[1].robust_accuracy
        assert s.curve()[1].eps == 0.1
        warned = "⚠" if any(c.status == "warning" for c in m.checks) else ""
        row = (
            m.info.name
            + format_rate(s.clean_accuracy)
            + format_interval(wilson_interval(count_of(s.clean_accuracy, n), n))
            + format_rate(robust)
            + warned
            + format_interval(wilson_interval(count_of(robust, n), n))
        )
        assert row in first, row
        names = tuple(c.name for c in m.checks if c.status == "warning")
        expected = verdict(s.clean_accuracy, robust, 0.1, 10, names)
        assert squash(f"{m.info.name} — {expected.level}: {expected.reason}.") in first
    second = results.models[1].info.name
    assert squash(f"{second} · {WARNING.name}: {WARNING.explanation}") in first
    assert "Warnings(1)" in first and "notinformative" in first
    assert "robustaccuracy(upperbound)" in first  # the tradeoff figure's legend
    assert format_eps(0.1) in first


def test_contents_give_the_pages_the_sections_are_on(results, report):
    _, texts = report
    contents = texts[1]
    assert contents.startswith(squash(results.threat.describe())) or "Contents" in contents
    titles = SECTIONS + [f"7  Examples: {m.info.name}" for m in results.models]
    numbers = []
    for title in titles:
        key = squash(title)
        # the first page with the heading (on the contents' page: besides the entry itself)
        page = next(i for i, t in enumerate(texts, start=1) if t.count(key) > (i == 2))
        assert f"{key}{page}" in contents, (title, page)
        numbers.append(page)
    assert numbers == sorted(numbers) and numbers[0] == 1
    assert numbers[-1] == len(texts)  # the last gallery is the last page


def test_the_file_is_readable_like_other_documents(report, results, tmp_path, qapp):
    out, _ = report
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # 0666 less a umask of 022
    from inspector.render.pdf import render_report

    strict = tmp_path / "private.pdf"
    previous = os.umask(0o077)
    try:
        render_report(build_report_data(results, eps=0.1), strict)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(strict.stat().st_mode) == 0o600  # the umask still rules


def test_galleries_say_why_they_have_no_saliency(report):
    _, texts = report
    galleries = texts[2:]
    galleries = [t for t in galleries if "7Examples:" in t]  # not the contents
    assert len(galleries) == 2
    assert all("Nosaliencymaps:auditsstorepredictions" in t for t in galleries)


def test_summary_without_checks_or_finished_run_says_so(results, tmp_path, qapp):
    from inspector.render.pdf import render_report
    from inspector.reporting.summary import NO_CHECKS, PARTIAL, build_summary

    bare = [dataclasses.replace(m, checks=[]) for m in results.models]
    stopped = dataclasses.replace(results, models=bare, incomplete=True)
    data = build_report_data(stopped, eps=0.1)
    summary = build_summary(data)
    assert summary.partial and summary.warnings == [] and summary.checks_note == NO_CHECKS
    assert [h.verdict.level for h in summary.headlines] == [
        verdict(m.sweep.clean_accuracy, m.sweep.curve()[1].robust_accuracy, 0.1, 10).level
        for m in results.models
    ]
    out = tmp_path / "stopped.pdf"
    render_report(data, out)
    first = squash(PdfReader(out).pages[0].extract_text())
    assert squash(NO_CHECKS) in first and squash(PARTIAL) in first and "⚠" in first
