"""Issue 19 (4): the saliency figure labels each example by the primer's statuses, prints no
NaN, and skips (with a note) a model the method cannot serve instead of aborting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import export_pt2
from torch import nn

from inspector.cli.main import main
from inspector.cli.saliency_rows import score_text, status_words
from inspector.core.data import open_dataset
from inspector.core.demo import DEMO_DIR
from inspector.core.models import load_model

DIGITS_MODEL = str(DEMO_DIR / "digits_standard.pt2")


@pytest.mark.parametrize(
    ("label", "clean", "adv", "words"),
    [
        (0, 8, 8, "natural error"),  # the case: was "broken"
        (0, 8, 0, "natural error"),  # a wrong clean prediction stays a natural error
        (0, 0, 8, "boundary error"),
        (0, 0, 0, "robust"),
        (0, 0, None, "correct (no attack)"),
        (0, 8, None, "natural error"),
    ],
)
def test_status_follows_the_primer(label, clean, adv, words):
    assert status_words(label, clean, adv, 0.1).startswith(words)


def test_a_missing_score_is_said_not_printed_as_nan():
    assert score_text(float("nan")) == "n/a (all-zero map)"
    assert score_text(0.256) == "0.26" and score_text(0.2564, 3) == "0.256"


def _natural_error_index() -> int:
    model, data = load_model(DIGITS_MODEL, device="cpu"), open_dataset("digits")
    x = data.load(np.arange(len(data.labels)))
    wrong = np.flatnonzero(model.reference_logits(x).argmax(1) != data.labels)
    assert len(wrong)
    return int(wrong[0])


def test_cli_labels_a_natural_error_as_one(tmp_path: Path, capsys) -> None:
    index = _natural_error_index()
    out = tmp_path / "s.png"
    args = ["saliency", "--model", DIGITS_MODEL, "--data", "digits", "--index", str(index)]
    assert main([*args, "--eps", "0.1", "--device", "cpu", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "natural error (the clean prediction is already wrong)" in printed
    assert "broken" not in printed and "boundary" not in printed


class Rounded(nn.Module):
    """Rounds pixels, so every input gradient (and every saliency map) is exactly zero."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.round(x * 4) / 4)


def test_an_all_zero_map_prints_no_nan(tmp_path: Path, capsys) -> None:
    model = export_pt2(Rounded().eval(), tmp_path / "rounded.pt2", (1, 8, 8))
    args = ["saliency", "--model", str(model), "--data", "digits", "--index", "3"]
    assert main([*args, "--device", "cpu", "--out", str(tmp_path / "z.png")]) == 0
    printed = capsys.readouterr().out
    assert "share on the digit n/a (all-zero map)" in printed
    assert "nan" not in printed.lower()


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit.trace is deprecated
def test_gradcam_skips_a_torchscript_model_with_a_note(tmp_path: Path, capsys) -> None:
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10)).eval()
    scripted = tmp_path / "scripted.pt"
    torch.jit.trace(conv, torch.zeros(1, 1, 8, 8)).save(str(scripted))
    out = tmp_path / "g.png"
    args = ["saliency", "--model", str(scripted), "--model", DIGITS_MODEL, "--data", "digits"]
    assert main([*args, "--index", "0", "--method", "gradcam", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "digits_standard: clean" in printed
    assert "scripted skipped: Grad-CAM is not available for scripted: TorchScript" in printed
    assert out.exists()
    # every model refused: a one-line error, no figure
    alone = tmp_path / "alone.png"
    code = main(["saliency", "--model", str(scripted), "--data", "digits", "--index", "0",
                 "--method", "gradcam", "--out", str(alone)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "TorchScript" in err
    assert not alone.exists()
