"""The PDF audit report: what it prints is what the results hold, on pages a reader can trust.

A small real evaluation (two demo digits models, standard and TRADES, 80 stratified
examples, ε ∈ {0, 0.1, 0.2}, PGD-5) is written as a results file and as an audit; reports
are made from both, the first by the command line in a subprocess without any display. The
PDF's text is extracted with pypdf and compared with the numbers in the files, formatted as
the report formats them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import export_pt2, linear_problem, save_npz
from pypdf import PdfReader

from inspector.cli.main import main
from inspector.core.audit import Audit, save_audit
from inspector.core.checks import CheckResult
from inspector.core.demo import demo_model_paths
from inspector.core.errors import InspectorError
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.intervals import wilson_interval
from inspector.core.metrics import broken_at
from inspector.core.results import EvaluationResults, save_results
from inspector.core.threat import ThreatModel, format_eps
from inspector.reporting.data import build_report_data, format_interval, format_rate
from inspector.reporting.gallery import (
    boundary_positions,
    default_eps_index,
    eps_index_for,
    natural_positions,
)

GRID = (0.0, 0.1, 0.2)
PER_GALLERY = 8
FIXED_PAGES = 5  # summary, contents and identity, results and checks, figures, method and
# limitations; then a gallery per model
FIGURES_PAGE = 3  # the index of the figures' page


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory) -> tuple[EvaluationResults, Path, Path]:
    """Results in memory (with adversarial images), as a results file and as an audit."""
    threat = ThreatModel(norm="linf", eps=GRID, attack="pgd", steps=5, seed=0)
    request = EvaluationRequest(
        tuple(ModelRequest(str(p)) for p in demo_model_paths()[::2]),  # standard, TRADES
        "digits",
        threat,
        limit=80,
        device="cpu",
        checks=False,  # the sanity checks take minutes; their rendering is tested below
    )
    results = run_to_end(request)
    folder = tmp_path_factory.mktemp("report")
    save_results(folder / "results.json", results)
    save_audit(folder / "audit.riaudit", Audit(results=results))
    return results, folder / "results.json", folder / "audit.riaudit"


@pytest.fixture(scope="module")
def headless_pdf(evaluation, tmp_path_factory) -> Path:
    """`robustness-inspector report results.json` in a process with no display at all."""
    _, results_json, _ = evaluation
    out = tmp_path_factory.mktemp("cli") / "report.pdf"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "report", str(results_json), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"report written to {out}" in done.stderr
    return out


def squash(text: str) -> str:
    """Text without whitespace: extraction breaks lines and inserts spaces where it likes."""
    return re.sub(r"\s+", "", text)


def images_on(page) -> int:
    """Image XObjects a page draws (what pypdf's page.images lists, without decoding them)."""
    xobjects = page["/Resources"].get("/XObject", {})
    return sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")


def page_texts(pdf: Path) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(pdf).pages]


def expected_gallery(results: EvaluationResults, k: int) -> list[tuple[int, int]]:
    """(boundary errors shown, natural errors shown) per model, counted from the raw arrays."""
    eps = results.threat.eps[k]
    counts = []
    for m in results.models:
        s = m.sweep
        boundary = int((s.clean_correct & broken_at(s.breaking_eps, eps)).sum())
        natural = int((~s.clean_correct).sum())
        counts.append((min(boundary, PER_GALLERY), min(natural, PER_GALLERY)))
    return counts


def check_numbers(results_json: Path, texts: list[str]) -> None:
    """Every model's clean accuracy and every table row equal the results file's figures."""
    data = json.loads(results_json.read_text())
    everything = "".join(texts)
    for model in data["models"]:
        n = len(model["examples"]["label"])
        clean = model["clean_accuracy"]
        low, high = wilson_interval(round(clean * n), n)
        interval = format_interval((low, high))
        lead = f"{model['name']}Cleanaccuracy{format_rate(clean)}(95%CI{interval})"
        start = everything.index(lead)
        end = everything.find("Cleanaccuracy", start + len(lead))
        section = everything[start : end if end > 0 else len(everything)]
        for point in model["curve"]:
            robust = point["robust_accuracy"]
            row = (
                format_eps(point["eps"])
                + format_rate(robust)
                + format_interval(wilson_interval(round(robust * n), n))
                + format_rate(point["boundary_error_rate"])
                + format_rate(point["natural_error_rate"])
            )
            assert row in section, (model["name"], row)


def test_wilson_interval_known_values():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(10, 10) == pytest.approx((0.72247, 1.0), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)


def test_headless_report_from_results_file(evaluation, headless_pdf):
    results, results_json, _ = evaluation
    texts = page_texts(headless_pdf)
    n_pages = FIXED_PAGES + len(results.models)
    assert len(texts) == n_pages
    threat = squash(results.threat.describe())
    for i, text in enumerate(texts, start=1):
        assert threat in text, f"threat model missing on page {i}"
        assert f"page{i}of{n_pages}" in text
    check_numbers(results_json, texts)
    k = default_eps_index(results)
    assert results.threat.eps[k] == 0.1  # the grid ε nearest the middle with boundary errors
    reader = PdfReader(headless_pdf)
    assert all(images_on(reader.pages[i]) == 0 for i in range(FIXED_PAGES))  # vector plots
    figures = texts[FIGURES_PAGE]
    assert "4Figures" in figures and "ε(pixelunits,[0,1]images)" in figures
    assert "robustaccuracy(upperbound)" in figures and "cleanaccuracy" in figures
    assert all(m.info.name in figures for m in results.models)  # legends, as text
    galleries = reader.pages[FIXED_PAGES:]
    for m, page, (boundary, natural) in zip(
        results.models, galleries, expected_gallery(results, k), strict=True
    ):
        text = squash(page.extract_text())
        assert squash(f"Examples: {m.info.name}") in text
        assert "Adversarialimagesarestoredinauditsonly" in text
        # clean images from the dataset, and each boundary error's saliency map: the demo
        # models are the program's own, found wherever the results were written
        assert images_on(page) == 2 * boundary + natural


def test_report_from_audit_has_adversarial_images_and_saliency(evaluation, tmp_path, qapp):
    results, results_json, audit_path = evaluation
    out = tmp_path / "audit.pdf"
    assert main(["report", str(audit_path), "--out", str(out), "--eps", "0.2"]) == 0
    texts = page_texts(out)
    assert len(texts) == FIXED_PAGES + len(results.models)
    check_numbers(results_json, texts)
    k = eps_index_for(results, 0.2)
    reader = PdfReader(out)
    for page, (boundary, natural) in zip(
        reader.pages[FIXED_PAGES:], expected_gallery(results, k), strict=True
    ):
        assert "Boundaryerrorsatε=0.2" in squash(page.extract_text())
        # clean, adversarial, δ and the two maps (the demo models, found); clean
        assert images_on(page) == 5 * boundary + natural

    asked = []

    def saliency(model_index: int, positions: np.ndarray) -> np.ndarray:
        asked.append((model_index, positions.copy()))
        return np.ones((len(positions), 1, 8, 8), dtype=np.float32)

    from inspector.render.pdf import render_report

    data = build_report_data(results, saliency=saliency)
    pages = render_report(data, tmp_path / "saliency.pdf")
    reader = PdfReader(tmp_path / "saliency.pdf")
    assert pages == len(reader.pages) == FIXED_PAGES + len(results.models)
    k = default_eps_index(results)
    for i, (page, (boundary, natural)) in enumerate(
        zip(reader.pages[FIXED_PAGES:], expected_gallery(results, k), strict=True)
    ):
        assert images_on(page) == 4 * boundary + natural
        assert asked[i][0] == i
        assert asked[i][1].tolist() == boundary_positions(results.models[i], 0.1).tolist()


def test_gallery_choice_is_deterministic_and_correct(evaluation):
    results, _, _ = evaluation
    for m in results.models:
        s = m.sweep
        chosen = boundary_positions(m, 0.2)
        assert (s.clean_correct[chosen] & (s.breaking_eps[chosen] <= 0.2)).all()
        keys = list(zip(s.breaking_eps[chosen], chosen, strict=True))
        assert keys == sorted(keys)  # lowest breaking ε first, then position
        natural = natural_positions(m)
        assert not s.clean_correct[natural].any()
        assert list(-s.clean_conf[natural]) == sorted(-s.clean_conf[natural])
    data = build_report_data(results, eps=0.1)
    robust = {m.name: m.row_at(0.1).robust_accuracy for m in data.models}
    assert robust == {m.info.name: m.sweep.curve()[1].robust_accuracy for m in results.models}
    with pytest.raises(InspectorError, match="not a computed grid point"):
        eps_index_for(results, 0.05)


def test_report_errors_exit_2_and_leave_the_old_file(evaluation, tmp_path, capsys):
    _, results_json, _ = evaluation
    out = tmp_path / "old.pdf"
    out.write_bytes(b"%PDF previous")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{}")
    cases = [
        ([str(results_json), "--out", str(out), "--eps", "0.05"], "not a computed grid point"),
        ([str(tmp_path / "missing.json"), "--out", str(out)], "file not found"),
        ([str(bad_json), "--out", str(out)], "not a Robustness Inspector results file"),
        ([str(results_json), "--out", str(tmp_path / "report.txt")], "should end in .pdf"),
    ]
    for args, message in cases:
        assert main(["report", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert out.read_bytes() == b"%PDF previous"


def test_optional_parts_checks_smoothing_and_certificates(tmp_path, qapp):
    """An affine model (exact certificates) with checks and a smoothing record attached."""
    module, x, y = linear_problem(seed=3, n=120, classes=2)
    model = export_pt2(module, tmp_path / "linear.pt2", (1, 4, 4), class_names=["a", "b"])
    data = save_npz(tmp_path / "data.npz", x, y)
    threat = ThreatModel(norm="l2", eps=(0.0, 0.1, 0.2, 0.45), attack="pgd", steps=30, seed=1)
    request = EvaluationRequest(
        (ModelRequest(str(model)),), str(data), threat, device="cpu", checks=False
    )
    results = run_to_end(request)
    checks = [
        CheckResult("deterministic", "passed", "Repeated forward passes agree."),
        CheckResult("gradient-free attack", "warning", "Square broke 3 examples PGD left."),
        CheckResult("more steps and restarts", "not informative", "Nothing to test.", {}, 0.5),
    ]
    curve = [
        {"radius": 0.0, "certified_accuracy": 0.9},
        {"radius": 0.25, "certified_accuracy": 0.55},
    ]
    smoothing = {
        "description": "certified (randomized smoothing, σ=0.25)",
        "norm": "l2",
        "radius": [0.1] * 120,
        "curve": curve,
        "smoothed_accuracy": 0.9,
    }
    m = dataclasses.replace(results.models[0], checks=checks, smoothing=smoothing)
    results = dataclasses.replace(results, models=[m])
    from inspector.render.pdf import render_report

    out = tmp_path / "linear.pdf"
    pages = render_report(build_report_data(results), out)
    texts = page_texts(out)
    assert pages == len(texts) == FIXED_PAGES + 1
    everything = "".join(texts)
    certified = m.sweep.certified_curve()
    assert certified is not None
    for (eps, accuracy), rate in zip(certified, m.sweep.curve(), strict=True):
        assert rate.robust_accuracy == pytest.approx(accuracy)  # the attack is exact here
        row = format_eps(eps) + format_rate(rate.robust_accuracy)
        assert row in everything and format_rate(accuracy) in everything
    assert "certifiedaccuracy(≥)" in everything
    assert "certifiedaccuracy(lowerbound)" in texts[FIGURES_PAGE]  # the figure's legend
    assert "✓passeddeterministic:Repeatedforwardpassesagree." in everything
    assert "!warninggradient-freeattack:Squarebroke3examplesPGDleft." in everything
    assert "○notinformativemorestepsandrestarts:Nothingtotest.(0.50s)" in everything
    # the warning is marked where the robust accuracy is read: summary, model heading
    assert texts[0].count("⚠") + texts[2].count("⚠") >= 2 and "asanitycheckwarns" in everything
    assert "L2radiuscertifiedaccuracy00.9000.250.550" in everything
    assert "Smoothedaccuracy0.900" in everything


def test_a_failed_render_leaves_the_previous_report(evaluation, tmp_path, qapp, monkeypatch):
    import inspector.render.pdf.render as render

    results, _, _ = evaluation
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF previous")

    def broken(*args, **kwargs):
        raise RuntimeError("painter died half-way")

    monkeypatch.setattr(render, "_paint", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        render.render_report(build_report_data(results), out)
    assert out.read_bytes() == b"%PDF previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]  # no temp file left


def test_report_saliency_uses_the_windows_colours():
    """The report draws |saliency| as the window and the CLI do: same scale, same colour map."""
    from inspector.core.saliency.display import colormap, robust_scale
    from inspector.render.pdf.gallery import saliency_image

    values = np.linspace(-3.0, 3.0, 64, dtype=np.float32).reshape(8, 8)
    image = saliency_image(values)
    assert image.shape == (3, 8, 8)
    expected = colormap(np.abs(values) / robust_scale(np.abs(values)), signed=False) / 255.0
    np.testing.assert_allclose(np.moveaxis(image, 0, -1), expected, atol=1e-6)


def test_a_demo_audit_reopens_with_its_models_and_a_screenshot_exits_cleanly(evaluation, tmp_path):
    """`gui AUDIT --screenshot`: the audit (in a temporary folder) reopens with the shipped
    demo models, whose maps of the selected example are computed; the screenshot waits for
    them, so quitting leaves no worker behind (it once printed a Qt traceback at exit)."""
    _, _, audit_path = evaluation
    shot = tmp_path / "audit.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "gui", str(audit_path), "--screenshot", str(shot)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Error calling" not in done.stderr, done.stderr
    assert f"screenshot written to {shot}" in done.stdout
    assert shot.stat().st_size > 10_000
