"""Saliency in the report's galleries: computed for the examples shown, from the models the
audit names, opened under the rules for files from a stranger.

A small demo audit (digits_standard and digits_trades copied beside it, 60 digits, PGD-3,
ε ∈ {0, 0.1, 0.2}) is reported with and without `--saliency`; the PDF is read back with
pypdf (images per gallery page, captions), and the maps the report was given are compared
with the core's saliency of the same images.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pypdf import PdfReader

from inspector.cli.main import build_parser, main
from inspector.cli.report_command import load_source
from inspector.cli.report_saliency import gallery_saliency
from inspector.core.audit import Audit, save_audit
from inspector.core.data import open_dataset
from inspector.core.demo import demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.metrics import broken_at
from inspector.core.models import load_model
from inspector.core.models.base import ConversionVerdict
from inspector.core.saliency import attribute
from inspector.core.threat import ThreatModel
from inspector.reporting.data import build_report_data
from inspector.reporting.gallery import default_eps_index
from inspector.reporting.saliency_maps import ModelSaliency, gradient_refusal

PER_GALLERY = 8
FIXED_PAGES = 5  # summary, contents, results, figures, method and limitations


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def images_on(page) -> int:
    xobjects = page["/Resources"].get("/XObject", {})
    return sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """An audit with its two model files beside it; the models in the order evaluated."""
    folder = tmp_path_factory.mktemp("demo_audit")
    paths = []
    for source in (demo_model_paths()[0], demo_model_paths()[2]):  # standard, TRADES
        for suffix in ("", ".json"):
            shutil.copy(str(source) + suffix, folder / (source.name + suffix))
        paths.append(folder / source.name)
    threat = ThreatModel(norm="linf", eps=(0.0, 0.1, 0.2), attack="pgd", steps=3, seed=0)
    request = EvaluationRequest(
        tuple(ModelRequest(str(p)) for p in paths), "digits", threat, limit=60, device="cpu",
        checks=False,
    )  # fmt: skip
    results = run_to_end(request)
    save_audit(folder / "demo.riaudit", Audit(results=results))
    return results, folder / "demo.riaudit", paths


def shown(results, k: int) -> list[tuple[int, int]]:
    """(boundary errors, natural errors) each gallery shows, from the raw arrays."""
    eps = results.threat.eps[k]
    found = []
    for m in results.models:
        s = m.sweep
        boundary = int((s.clean_correct & broken_at(s.breaking_eps, eps)).sum())
        found.append((min(boundary, PER_GALLERY), min(int((~s.clean_correct).sum()), PER_GALLERY)))
    return found


def galleries(pdf: Path) -> list:
    pages = PdfReader(pdf).pages
    return [p for p in pages[FIXED_PAGES:] if "7Examples:" in squash(p.extract_text())]


def report_args(audit: Path, *extra: str):
    return build_parser().parse_args(["report", str(audit), "--out", "unused.pdf", *extra])


def test_saliency_panels_and_caption(demo, tmp_path, qapp, capsys):
    results, audit, _ = demo
    out = tmp_path / "with.pdf"
    assert main(["report", str(audit), "--out", str(out), "--saliency", "gradient"]) == 0
    assert "note:" not in capsys.readouterr().err  # every model gave its maps
    everything = "".join(squash(p.extract_text()) for p in PdfReader(out).pages)
    assert "Saliencyinthegalleries:vanillagradientofthelogitofthetrueclass" in everything
    pages = galleries(out)
    counts = shown(results, default_eps_index(results))
    assert len(pages) == len(results.models)
    for page, m, (boundary, natural) in zip(pages, results.models, counts, strict=True):
        text = squash(page.extract_text())
        assert squash(f"Examples: {m.info.name}") in text
        # clean, adversarial, δ, saliency of clean and of adversarial; natural errors: clean
        assert images_on(page) == 5 * boundary + natural
        assert boundary > 0
        assert "Saliency:vanillagradientofthetrueclass'slogit" in text
        assert "computedfortheboundaryerrorsshownhereonly" in text
        assert "sal.clean" in text and "sal.adv." in text
        assert "Nosaliencymaps" not in text


def test_saliency_is_the_default_and_no_saliency_gives_the_old_gallery(demo, tmp_path, qapp):
    results, audit, _ = demo
    counts = shown(results, default_eps_index(results))
    default, old = tmp_path / "default.pdf", tmp_path / "old.pdf"
    assert main(["report", str(audit), "--out", str(default)]) == 0
    assert main(["report", str(audit), "--out", str(old), "--no-saliency"]) == 0
    for page, (boundary, natural) in zip(galleries(default), counts, strict=True):
        assert images_on(page) == 5 * boundary + natural
    for page, (boundary, natural) in zip(galleries(old), counts, strict=True):
        text = squash(page.extract_text())
        assert images_on(page) == 3 * boundary + natural  # clean, adversarial, δ
        assert "Nosaliencymaps:auditsstorepredictions" in text
        assert "Saliency:" not in text and "sal.clean" not in text


def test_the_maps_are_the_cores_saliency_of_the_images_shown(demo, qapp):
    results, audit, paths = demo
    loaded, _ = load_source(audit)
    data = build_report_data(loaded, saliency=gallery_saliency(loaded, report_args(audit)))
    k = default_eps_index(results)
    digits = open_dataset("digits")
    assert data.saliency_method == "gradient"
    for g, path in zip(data.galleries, paths, strict=True):
        assert g.saliency_note is None and g.boundary
        sweep = results.models[g.model_index].sweep
        positions = [e.position for e in g.boundary]
        clean = np.stack([e.clean_image for e in g.boundary])
        adv = np.stack([e.adv_image for e in g.boundary])
        np.testing.assert_array_equal(clean, digits.load(sweep.indices[positions]))
        np.testing.assert_array_equal(adv, sweep.adv_images[positions, k].astype(np.float32))
        model = load_model(path, device="cpu")
        labels = sweep.labels[positions].astype(np.int64)
        expected = attribute(model, np.concatenate([clean, adv]), np.tile(labels, 2)).maps
        expected = np.abs(expected).sum(axis=1)
        got = np.stack([e.saliency for e in g.boundary] + [e.adv_saliency for e in g.boundary])
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-8)
        assert not np.allclose(got[: len(positions)], got[len(positions) :])  # two inputs


def test_models_outside_the_audits_folder_are_not_opened_unless_passed(
    demo, tmp_path, qapp, capsys
):
    results, audit, paths = demo
    away = tmp_path / "elsewhere" / "demo.riaudit"
    away.parent.mkdir()
    shutil.copy(audit, away)
    counts = shown(results, default_eps_index(results))
    out = tmp_path / "away.pdf"
    assert main(["report", str(away), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("note: No vanilla gradient saliency for") == 2
    for page, (boundary, natural) in zip(galleries(out), counts, strict=True):
        text = squash(page.extract_text())
        assert "isoutsidethefolderoftheresults;pass--modelPATHtouseit" in text
        assert images_on(page) == 3 * boundary + natural  # one line instead of the maps
    passed = tmp_path / "passed.pdf"
    assert main(["report", str(away), "--out", str(passed), "--model", str(paths[1])]) == 0
    standard, trades = galleries(passed)
    assert images_on(standard) == 3 * counts[0][0] + counts[0][1]
    assert images_on(trades) == 5 * counts[1][0] + counts[1][1]
    wrong = demo_model_paths()[1]  # digits_pgd: not in these results
    assert main(["report", str(away), "--out", str(passed), "--model", str(wrong)]) == 2
    assert "is none of the evaluated models" in capsys.readouterr().err


def test_refused_gradients_and_other_predictions_give_one_line(demo, tmp_path, qapp):
    results, _, paths = demo
    standard, trades = (load_model(p, device="cpu") for p in paths)
    assert gradient_refusal(standard) is None
    refused = dataclasses.replace(standard, conversion=ConversionVerdict(0.5, 4))
    reason = gradient_refusal(refused)
    assert reason is not None and reason.startswith("no gradients: its torch conversion")

    def shifted(x):
        return np.roll(trades.reference_logits(x), 1, axis=1)

    other = dataclasses.replace(trades, reference_logits=shifted)
    data = build_report_data(results, saliency=ModelSaliency(results, [refused, other]))
    first, second = data.galleries
    assert first.saliency_note == f"No vanilla gradient saliency for digits_standard: {reason}."
    n = len(second.boundary)
    assert second.saliency_note == (
        f"No vanilla gradient saliency for digits_trades: the opened file predicts {n} of "
        f"these {n} examples otherwise than the evaluation recorded, so its maps would "
        "explain another model."
    )
    assert all(e.saliency is None for g in data.galleries for e in g.boundary)
    from inspector.render.pdf import render_report

    render_report(data, tmp_path / "refused.pdf")
    counts = shown(results, default_eps_index(results))
    for page, g, (boundary, natural) in zip(
        galleries(tmp_path / "refused.pdf"), data.galleries, counts, strict=True
    ):
        assert squash(g.saliency_note) in squash(page.extract_text())
        assert images_on(page) == 3 * boundary + natural


def test_other_methods_are_named_and_equal_the_core(demo, tmp_path, qapp):
    results, _, paths = demo
    models = [load_model(p, device="cpu") for p in paths]
    saliency = ModelSaliency(results, models, method="integrated_gradients")
    data = build_report_data(results, saliency=saliency)
    g = data.galleries[1]
    sweep = results.models[1].sweep
    positions = [e.position for e in g.boundary]
    x = np.stack([e.clean_image for e in g.boundary] + [e.adv_image for e in g.boundary])
    labels = np.tile(sweep.labels[positions].astype(np.int64), 2)
    expected = attribute(models[1], x, labels, "integrated_gradients").maps
    got = np.stack([e.saliency for e in g.boundary] + [e.adv_saliency for e in g.boundary])
    np.testing.assert_allclose(got, np.abs(expected).sum(axis=1), rtol=1e-5, atol=1e-8)
    from inspector.render.pdf import render_report

    render_report(data, tmp_path / "ig.pdf")
    for page in galleries(tmp_path / "ig.pdf"):
        assert "Saliency:IntegratedGradientsofthetrueclass'slogit" in squash(page.extract_text())


def test_the_windows_export_uses_only_its_cached_maps(demo):
    """The export's snapshot of the window's cache: cached examples get their maps, the
    others none, a model with nothing cached one line."""
    from inspector.gui.report_maps import cached_saliency

    results, _, _ = demo
    k = default_eps_index(results)
    sweep = results.models[1].sweep
    eps = results.threat.eps[k]
    first = int(np.flatnonzero(sweep.clean_correct & broken_at(sweep.breaking_eps, eps))[0])
    rng = np.random.default_rng(0)
    cached = rng.normal(size=(2, 1, 8, 8)).astype(np.float32)
    key = (0, int(sweep.indices[first]), k, "smoothgrad", int(sweep.labels[first]))
    view = SimpleNamespace(models=[SimpleNamespace(info=m.info) for m in results.models[::-1]])
    window = SimpleNamespace(
        view=view,
        detail=SimpleNamespace(
            saliency=SimpleNamespace(cache={key: cached}),
            saliency_controls=SimpleNamespace(method="smoothgrad"),
        ),
    )  # the window lists the models in the other order: matched by name
    data = build_report_data(results, saliency=cached_saliency(window, results))
    assert data.saliency_method == "smoothgrad"
    standard, trades = data.galleries
    assert standard.saliency_note is not None and "none of these was" in standard.saliency_note
    assert trades.saliency_note is None
    assert trades.boundary[0].position == first
    np.testing.assert_array_equal(trades.boundary[0].saliency, np.abs(cached[0, 0]))
    np.testing.assert_array_equal(trades.boundary[0].adv_saliency, np.abs(cached[1, 0]))
    assert all(e.saliency is None for e in trades.boundary[1:])
    empty = SimpleNamespace(view=view, detail=SimpleNamespace(
        saliency=SimpleNamespace(cache={}), saliency_controls=window.detail.saliency_controls
    ))  # fmt: skip
    assert cached_saliency(empty, results) is None


def test_report_help_names_the_executive_summary():
    parser = build_parser()
    sub = next(a for a in parser._actions if getattr(a, "choices", None) and "report" in a.choices)
    description = sub.choices["report"].description
    assert "page 1 an executive summary" in description and "title page" not in description


def test_a_model_is_opened_only_when_its_gallery_asks(demo):
    results, _, paths = demo
    asked = []

    def opener(i: int):
        asked.append(i)
        return load_model(paths[i], device="cpu")

    saliency = ModelSaliency(results, opener)
    data = build_report_data(results, eps=0.0, saliency=saliency)  # no boundary errors at 0
    assert asked == [] and all(not g.boundary for g in data.galleries)
    data = build_report_data(results, eps=0.1, saliency=saliency)
    assert asked == [0, 1]
    build_report_data(results, eps=0.2, saliency=saliency)
    assert asked == [0, 1]  # each file opened once
    assert all(e.saliency is not None for g in data.galleries for e in g.boundary)
