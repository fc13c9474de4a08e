"""The report's saliency opens model files as everything else does: a pickle beside the audit
runs no code without --trust-code (one line instead of the maps), and an ONNX model gives
maps through its torch conversion, whose verdict records the images it was checked on.
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from hostile_support import marker_pickle

from inspector.cli.main import main
from inspector.core.audit import Audit, load_audit, save_audit
from inspector.core.demo import demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.hashing import sha256_file
from inspector.core.models import load_model
from inspector.core.saliency import attribute
from inspector.core.threat import ThreatModel
from inspector.reporting.data import build_report_data
from inspector.reporting.saliency_maps import ModelSaliency

THREAT = ThreatModel(norm="linf", eps=(0.0, 0.1), attack="pgd", steps=3, seed=0)


def evaluate(paths, limit: int = 40):
    request = EvaluationRequest(
        tuple(ModelRequest(str(p)) for p in paths), "digits", THREAT, limit=limit,
        device="cpu", checks=False,
    )  # fmt: skip
    return run_to_end(request)


def copy_beside(folder, source):
    for suffix in ("", ".json"):
        shutil.copy(str(source) + suffix, folder / (source.name + suffix))
    return folder / source.name


def test_a_pickle_beside_the_audit_runs_no_code(tmp_path, qapp, capsys):
    model = copy_beside(tmp_path, demo_model_paths()[0])
    results = evaluate([model])
    marker = tmp_path / "code-ran"
    evil = tmp_path / "evil.pt"
    evil.write_bytes(marker_pickle(marker))
    info = dataclasses.replace(results.models[0].info, path=str(evil), sha256=sha256_file(evil))
    results.models[0] = dataclasses.replace(results.models[0], info=info)
    save_audit(tmp_path / "a.riaudit", Audit(results=results))
    out = tmp_path / "r.pdf"
    assert main(["report", str(tmp_path / "a.riaudit"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert not marker.exists()
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "evil.pt could not be opened" in notes[0]
    assert out.is_file()


@pytest.mark.parametrize("method", ["gradient", "smoothgrad"])
def test_an_onnx_model_gives_maps_through_its_checked_conversion(tmp_path, qapp, method):
    model = copy_beside(tmp_path, demo_model_paths()[0].with_suffix(".onnx"))
    save_audit(tmp_path / "a.riaudit", Audit(results=evaluate([model])))
    results = load_audit(tmp_path / "a.riaudit").results
    opened = load_model(model, device="cpu")
    before = opened.conversion.images
    data = build_report_data(results, saliency=ModelSaliency(results, [opened], method=method))
    (g,) = data.galleries
    assert g.saliency_note is None and g.boundary
    assert opened.conversion.images > before and opened.conversion.faithful
    x = np.stack([e.clean_image for e in g.boundary] + [e.adv_image for e in g.boundary])
    labels = results.models[0].sweep.labels[[e.position for e in g.boundary]].astype(np.int64)
    expected = np.abs(attribute(opened, x, np.tile(labels, 2), method).maps).sum(axis=1)
    got = np.stack([e.saliency for e in g.boundary] + [e.adv_saliency for e in g.boundary])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-8)
