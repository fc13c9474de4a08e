"""Issue 19 (2): inputs outside the range the model was built for are flagged, fractions are
accepted in --mean/--std, and error messages suggest only what works.

A model that expects 0-255 pixels, given [0, 1] images and no normalisation, reported
clean 0.625 and the same robust accuracy at every ε, with only the very-large-ε check
warning (about masked gradients).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import export_pt2, linear_problem, save_npz
from torch import nn

from inspector.cli.hints import CLI_WORDS
from inspector.cli.main import main
from inspector.core.checks.context import Context
from inspector.core.checks.input_range import check_input_range
from inspector.core.data import open_dataset
from inspector.core.errors import Hint, HintKind
from inspector.core.models import load_model
from inspector.core.threat import ThreatModel


class Scale(nn.Module):
    """Multiplies the input: 1/255 makes a [0, 1] model one that expects 0-255 pixels."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A 3-class affine model on 1×4×4 made to expect 0-255 inputs, its data, and a twin
    that expects [0, 1]."""
    folder = tmp_path_factory.mktemp("range")
    module, x, _ = linear_problem(seed=3, n=120, classes=3)
    with torch.no_grad():
        y = module(torch.from_numpy(x)).argmax(1).numpy()  # clean accuracy 1 on [0, 1]
    wants_255 = export_pt2(nn.Sequential(Scale(1 / 255), module), folder / "m255.pt2", (1, 4, 4))
    unit = export_pt2(module, folder / "unit.pt2", (1, 4, 4))
    return str(wants_255), str(unit), str(save_npz(folder / "d.npz", x, y))


def _check(model_path: str, data: str, **overrides):
    model = load_model(model_path, device="cpu", overrides=overrides or None)
    dataset = open_dataset(data)
    indices = np.arange(len(dataset.labels))
    ctx = Context(model, dataset, indices, ThreatModel(), None, 64, None)
    return check_input_range(ctx, "input range")


def test_a_0_255_model_on_unit_images_is_flagged_with_the_flags_that_fix_it(files):
    wants_255, _, data = files
    found = _check(wants_255, data)
    assert found.status == "warning"
    assert found.figures["rescaled_accuracy"] >= found.figures["clean_accuracy"] + 0.2
    assert "0-255 pixels" in found.explanation
    assert "mean 0, std 1/255" in found.explanation  # the core's words: no flag
    assert "--mean" not in found.explanation and "--std" not in found.explanation
    assert found.hint == Hint(HintKind.NORMALISATION, values=(("mean", "0"), ("std", "1/255")))
    assert "(--mean 0 --std 1/255, or mean/std in its metadata)." in found.worded(CLI_WORDS)


def test_the_same_model_with_its_normalisation_passes(files):
    wants_255, unit, data = files
    fixed = _check(wants_255, data, mean=(0.0,), std=(1 / 255,))
    assert fixed.status == "passed"
    assert _check(unit, data).status == "passed"
    assert fixed.figures["clean_accuracy"] == pytest.approx(
        _check(unit, data).figures["clean_accuracy"]
    )


def test_cli_accepts_fractions_in_mean_and_std_and_the_check_names_them(files, capsys):
    wants_255, _, data = files
    args = ["evaluate", "--model", wants_255, "--data", data, "--attack", "fgsm"]
    assert main([*args, "--eps", "0,0.05"]) == 0
    out = capsys.readouterr().out
    assert "! warning input range:" in out and "--mean 0 --std 1/255" in out
    assert main([*args, "--eps", "0,0.05", "--mean", "0", "--std", "1/255"]) == 0
    out = capsys.readouterr().out
    assert "✓ passed input range:" in out


@pytest.mark.parametrize("value", ["1/0", "a/255", "0.5,,0.5", "inf"])
def test_bad_fractions_are_one_line_errors(files, capsys, value):
    wants_255, _, data = files
    code = main(["evaluate", "--model", wants_255, "--data", data, "--std", value])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "decimals or fractions such as 1/255" in err


def test_a_channels_last_model_is_not_told_to_resize(files, tmp_path, capsys):
    """A model exported for N×H×W×C input: --resize cannot help, so it is not suggested."""
    _, _, data = files
    module, _, _ = linear_problem(seed=3, n=4, classes=3)
    nhwc = export_pt2(module, tmp_path / "nhwc.pt2", (4, 4, 1))
    for extra in ([], ["--resize"]):
        assert main(["evaluate", "--model", str(nhwc), "--data", data, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        assert "channels-last" in err and "N×C×H×W" in err and "--resize" not in err
