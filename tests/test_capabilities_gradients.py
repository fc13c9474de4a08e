"""The conversion verdict lives on the loaded model and every gradient user reads it.

An ONNX model's gradients come from its torch interpretation. Once a verification step
(`verify_gradients`) finds that conversion unfaithful, saliency must not take gradients
through it: not in the core, not in the CLI's rows (whose attack would otherwise run first),
and not in the window when the refusal is only recorded in saved results.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import save_npz
from test_onnx_shapes import DisagreesOnBrightImages, _tiny_onnx
from torch import nn

from inspector.cli.main import main
from inspector.core.errors import InspectorError
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import (
    CONVERSION_TOLERANCE,
    probe_images,
    verify_gradients,
    verify_on_probes,
)
from inspector.core.saliency import attribute
from inspector.core.saliency.attribution import MethodUnavailable, gradcam_available
from inspector.core.sweep import sweep_model
from inspector.core.threat import ThreatModel
from inspector.core.view import ResultsView


def _bright_data(tmp_path, n: int = 4):
    from inspector.core.data import open_dataset

    x = np.ones((n, 1, 8, 8), np.float32)
    return open_dataset(str(save_npz(tmp_path / "bright.npz", x, np.zeros(n, np.int64))))


@pytest.fixture
def disagreeing(tmp_path) -> LoadedModel:
    loaded = load_model(_tiny_onnx(tmp_path), device="cpu")
    assert loaded.conversion is not None and loaded.conversion.faithful  # the probes agree
    loaded.module = DisagreesOnBrightImages(loaded.module)
    return loaded


def test_the_load_verifies_on_four_probe_images(tmp_path):
    loaded = load_model(_tiny_onnx(tmp_path), device="cpu")
    assert loaded.conversion.images == 4 and loaded.conversion.largest_gap < 1e-5
    assert any("4 probe images" in note for note in loaded.info.notes)
    assert probe_images((1, 8, 8)).shape == (4, 1, 8, 8)
    loaded.module = DisagreesOnBrightImages(loaded.module)
    loaded.conversion = dataclasses.replace(loaded.conversion, largest_gap=0.0, images=0)
    loaded.module.inner = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))  # far off everywhere
    refused = verify_on_probes(loaded)
    assert refused.module is None and refused.conversion is None
    assert "disagrees with onnxruntime" in refused.gradient_unavailable_reason


def test_a_refused_conversion_gives_no_saliency_row_and_no_attack(disagreeing, tmp_path):
    """The CLI's row verifies the example first: no attack and no map go through it."""
    from inspector.cli.saliency_rows import model_row

    data = _bright_data(tmp_path, 1)
    args = SimpleNamespace(resize=False, target="true", method="gradient", seed=0)
    threat = ThreatModel(eps=(0.1,), attack="pgd", steps=2)
    with pytest.raises(MethodUnavailable, match=r"need gradients.*disagrees with onnxruntime"):
        model_row(disagreeing, data, 0, args, threat, {})
    assert disagreeing.conversion.images == 5 and disagreeing.conversion.largest_gap > 0.1
    assert gradcam_available(disagreeing).startswith("saliency maps need gradients")


def test_the_saliency_command_says_so_for_a_refused_conversion(
    disagreeing, tmp_path, monkeypatch, capsys
):
    import inspector.cli.saliency_command as command

    data = save_npz(
        tmp_path / "bright.npz", np.ones((2, 1, 8, 8), np.float32), np.zeros(2, np.int64)
    )
    monkeypatch.setattr(command, "_load", lambda args, path, dataset: disagreeing)
    argv = ["saliency", "--model", "m.onnx", "--data", str(data), "--index", "0"]
    code = main([*argv, "--eps", "0.1", "--device", "cpu", "--out", str(tmp_path / "s.png")])
    assert code != 0 and not (tmp_path / "s.png").exists()
    assert "disagrees with onnxruntime" in capsys.readouterr().err


def test_saliency_beside_saved_results_refuses_what_the_run_refused(tmp_path):
    """A fresh load sees only the probes; the results' recorded gap joins its verdict."""
    loaded = load_model(_tiny_onnx(tmp_path), device="cpu")
    grey = np.full((2, 1, 8, 8), 0.5, np.float32)
    assert np.isfinite(attribute(loaded, grey, np.zeros(2, np.int64)).maps).all()  # faithful
    sweep = SimpleNamespace(onnx_max_abs_diff=10 * CONVERSION_TOLERANCE)
    view = SimpleNamespace(models=[SimpleNamespace(info=loaded.info, sweep=sweep)])
    other = dataclasses.replace(loaded.info, name="not open")
    view.models.append(SimpleNamespace(info=other, sweep=sweep))
    matched = ResultsView.loaded_models(view, [loaded])
    assert matched[1] is None and matched[0].module is None
    assert loaded.conversion.largest_gap == 10 * CONVERSION_TOLERANCE  # one verdict, shared
    with pytest.raises(MethodUnavailable, match=r"difference 0\.01"):
        attribute(matched[0], grey, np.zeros(2, np.int64))
    with pytest.raises(InspectorError, match="gives no gradients"):
        loaded.logits(torch.from_numpy(grey))


def test_the_sweep_and_saliency_read_one_verdict(disagreeing, tmp_path):
    data = _bright_data(tmp_path)
    threat = ThreatModel(eps=(0.0, 0.05), attack="pgd", steps=2)
    with pytest.raises(InspectorError, match="disagrees with onnxruntime"):
        for _ in sweep_model(disagreeing, data, np.arange(4), threat):
            pass
    assert not disagreeing.differentiable and disagreeing.gradient_model().module is None
    assert verify_gradients(disagreeing, np.full((1, 1, 8, 8), 0.5, np.float32)) < 1e-5
    assert not disagreeing.conversion.faithful  # a later agreement does not undo a refusal
    square = ThreatModel(eps=(0.0, 0.05), attack="square", queries=20)
    result = list(sweep_model(disagreeing, data, np.arange(4), square))[-1]
    assert result.onnx_max_abs_diff > 0.1 and result.eps_done == 2  # Square: onnxruntime
