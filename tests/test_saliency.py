"""Saliency maps (issue 4): exact gradients of a linear model, IG completeness, Grad-CAM,
the concentration score, the `saliency` command and cancellation.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import CancelAfter, export_pt2, linear_problem
from PIL import Image

from inspector.cli.main import main
from inspector.core.attacks.base import Cancelled
from inspector.core.data import open_dataset
from inspector.core.demo import DEMO_DIR
from inspector.core.errors import InspectorError
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.models.normalize import Normalized
from inspector.core.saliency import (
    attribute,
    colormap,
    concentration,
    edge_alignment,
    gradcam_available,
    model_concentration,
    object_masks,
    resolve_target,
    to_display,
)
from inspector.render import saliency_figure as fig

MEAN, STD = (0.2, 0.5, 0.4), (0.25, 0.5, 0.125)
SHAPE = (3, 4, 4)


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    """A 4-class affine model on 3×4×4, exported with a per-channel mean/std sidecar."""
    module, x, _ = linear_problem(seed=3, n=12, classes=4, shape=SHAPE)
    path = tmp_path_factory.mktemp("saliency") / "linear.pt2"
    export_pt2(module, path, SHAPE, mean=list(MEAN), std=list(STD), input_shape=list(SHAPE))
    weight = module[1].weight.detach().numpy()
    return load_model(path, device="cpu"), x, weight


@cache
def demo(name: str) -> LoadedModel:
    return load_model(DEMO_DIR / name, device="cpu")


@cache
def digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    ds = open_dataset("digits")
    return ds.load(np.arange(n)), np.array(ds.labels[:n])


# --- the methods --------------------------------------------------------------------------


def test_gradient_of_a_linear_model_is_its_weight_row_over_std(linear) -> None:
    model, x, weight = linear
    std = np.asarray(STD, dtype=np.float32).reshape(3, 1, 1)
    for k in range(4):
        result = attribute(model, x, np.full(len(x), k), "gradient")
        expected = weight[k].reshape(SHAPE) / std
        assert result.maps.shape == (len(x), *SHAPE)
        for single in result.maps:  # the same for every input: the model is affine
            np.testing.assert_allclose(single, expected, rtol=0, atol=1e-6)
    assert result.delta is None and result.signed


def test_integrated_gradients_is_complete_on_a_cnn() -> None:
    """Σ map = f(x) − f(black): the reported delta is that gap, and it is small."""
    model, (x, y) = demo("digits_standard.pt2"), digits(20)
    with torch.no_grad():
        logits = model.module(torch.from_numpy(x)).numpy()
        black = model.module(torch.zeros(1, *x.shape[1:])).numpy()
    gain = logits[np.arange(len(y)), y] - black[0, y]
    result = attribute(model, x, y, "integrated_gradients")
    assert result.options["steps"] == 50
    sums = result.maps.sum(axis=(1, 2, 3)).astype(np.float64)
    np.testing.assert_allclose(result.delta, sums - gain, atol=1e-4)
    relative = np.abs(sums - gain) / np.abs(gain)
    # 50 Gauss-Legendre steps on a ReLU network: most examples within 1 %, a few kinks above
    assert np.median(relative) < 0.01 and np.mean(relative < 0.01) >= 0.85
    finer = attribute(model, x, y, "integrated_gradients", steps=400, internal_batch_size=8000)
    fine_sums = finer.maps.sum(axis=(1, 2, 3)).astype(np.float64)
    assert np.all(np.abs(fine_sums - gain) <= 0.01 * np.abs(gain))


def test_smoothgrad_with_vanishing_noise_is_the_gradient() -> None:
    """At σ → 0 SmoothGrad averages copies of one gradient.

    The digits have many exactly equal (black) pixels, whose max-pool ties any noise breaks
    one way or the other; a small fixed jitter makes the inputs generic points.
    """
    model, (x, y) = demo("digits_pgd.pt2"), digits(10)
    x = np.clip(x + np.random.default_rng(0).uniform(0, 0.02, x.shape), 0, 1).astype(np.float32)
    plain = attribute(model, x, y, "gradient").maps
    for sigma, close in ((1e-2, False), (1e-6, True)):
        smooth = attribute(model, x, y, "smoothgrad", sigma=sigma, samples=4).maps
        assert np.allclose(smooth, plain, rtol=0, atol=1e-5) is close
    noisy = [attribute(model, x, y, "smoothgrad", samples=8, seed=s).maps for s in (1, 1, 2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])  # seeded
    assert not np.allclose(noisy[0], noisy[2])


def test_onnx_gradient_matches_the_exported_model() -> None:
    (x, y) = digits(10)
    exported = attribute(demo("digits_standard.pt2"), x, y).maps
    converted = attribute(demo("digits_standard.onnx"), x, y).maps
    np.testing.assert_allclose(converted, exported, rtol=1e-4, atol=1e-5)


def _eager_digits_net() -> torch.nn.Module:
    """The demo architecture with the shipped weights, as a plain nn.Sequential."""
    script = DEMO_DIR / "build_demo_models.py"
    spec = importlib.util.spec_from_file_location("build_demo_models", script)
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, builder)  # its dataclasses look themselves up there
    spec.loader.exec_module(builder)
    net = builder.digits_net()
    program = torch.export.load(str(DEMO_DIR / "digits_standard.pt2"))
    net.load_state_dict(program.state_dict)
    model = demo("digits_standard.pt2")
    return Normalized(net, model.info.mean, model.info.std).eval()


def test_gradcam_reads_the_last_conv_of_exported_and_onnx_models() -> None:
    from captum.attr import LayerAttribution, LayerGradCam

    (x, y) = digits(10)
    eager = _eager_digits_net()
    cam = LayerGradCam(eager, eager.inner[3]).attribute(
        torch.from_numpy(x), target=torch.from_numpy(y), relu_attributions=True
    )
    expected = LayerAttribution.interpolate(cam, (8, 8), "bilinear").detach().numpy()
    for name in ("digits_standard.pt2", "digits_standard.onnx"):
        model = demo(name)
        assert gradcam_available(model) is None
        result = attribute(model, x, y, "gradcam")
        assert result.maps.shape == (10, 1, 8, 8) and not result.signed
        assert "conv" in result.options["layer"]
        np.testing.assert_allclose(result.maps, expected, rtol=1e-4, atol=1e-5)
    assert not any(
        isinstance(m, torch.nn.Identity) for m in demo("digits_standard.pt2").module.modules()
    )


def test_gradcam_is_absent_with_a_reason_where_no_conv_can_be_hooked(linear) -> None:
    model, x, _ = linear
    reason = gradcam_available(model)
    assert reason is not None and "no 2-D convolution" in reason
    with pytest.raises(InspectorError, match="Grad-CAM is not available"):
        attribute(model, x, np.zeros(len(x)), "gradcam")
    assert "TorchScript" in (gradcam_available(demo("digits_pgd.ts")) or "")


def test_user_errors_are_inspector_errors(linear) -> None:
    model, x, _ = linear
    target = np.zeros(len(x))
    with pytest.raises(InspectorError, match="unknown saliency method"):
        attribute(model, x, target, "lime")
    with pytest.raises(InspectorError, match="has no option"):
        attribute(model, x, target, "gradient", steps=3)
    with pytest.raises(InspectorError, match="target classes"):
        attribute(model, x, np.full(len(x), 4))
    with pytest.raises(InspectorError, match="do not fit"):
        attribute(model, x[:, :1], target)
    blind = LoadedModel(model.info, None, model.reference_logits, "onnx2torch failed: Foo op")
    with pytest.raises(InspectorError, match=r"need gradients.*onnx2torch failed: Foo op"):
        attribute(blind, x, target)


def test_cancel_is_checked_between_batches(linear) -> None:
    model, x, _ = linear
    cancel = CancelAfter(2)
    with pytest.raises(Cancelled):
        attribute(model, x, np.zeros(len(x)), batch_size=4, cancel=cancel)
    assert cancel.calls == 3  # two batches ran, the third was refused


def test_target_choices() -> None:
    labels, clean, adv = np.array([1, 2]), np.array([1, 0]), np.array([3, 0])
    kw = {"num_classes": 4, "clean_pred": clean, "adv_pred": adv}
    np.testing.assert_array_equal(resolve_target("true", labels, **kw), labels)
    np.testing.assert_array_equal(resolve_target("clean", labels, **kw), clean)
    np.testing.assert_array_equal(resolve_target("adversarial", labels, **kw), adv)
    np.testing.assert_array_equal(resolve_target("3", labels, **kw), [3, 3])
    with pytest.raises(InspectorError, match="does not exist"):
        resolve_target(4, labels, **kw)
    with pytest.raises(InspectorError, match="needs the adversarial predictions"):
        resolve_target("adversarial", labels, num_classes=4)


# --- display and the number ---------------------------------------------------------------


def test_to_display_reduces_channels_and_scales_by_the_99th_percentile() -> None:
    maps = np.zeros((1, 2, 10, 10), dtype=np.float32)
    maps[0, 0] = np.arange(100).reshape(10, 10) - 50  # -50 .. 49
    maps[0, 1] = 1.0
    signed = to_display(maps, signed=True)
    summed = maps.sum(axis=1)
    assert signed.scale == pytest.approx(np.percentile(np.abs(summed), 99))
    np.testing.assert_allclose(signed.values, np.clip(summed / signed.scale, -1, 1), atol=1e-6)
    absolute = to_display(maps, signed=False, scale=10.0)
    np.testing.assert_allclose(absolute.values, np.clip(np.abs(maps).sum(axis=1) / 10, 0, 1))
    assert to_display(np.zeros((1, 1, 2, 2)), signed=False).scale == 1.0
    ends = colormap(np.array([-1.0, 0.0, 1.0]), signed=True)
    assert ends.tolist() == [[0x4D, 0x92, 0x21], [0xF7, 0xF7, 0xF7], [0xC5, 0x1B, 0x7D]]  # PiYG


def test_concentration_on_a_hand_built_mask() -> None:
    maps = np.zeros((2, 2, 2, 2), dtype=np.float32)
    maps[0, 0] = [[1, -2], [0, 3]]
    maps[0, 1] = [[1, 0], [0, -1]]  # |a| summed over channels: [[2, 2], [0, 4]], total 8
    masks = np.array([[[True, False], [False, True]]] * 2)
    share = concentration(maps, masks)
    assert share[0] == pytest.approx(6 / 8) and np.isnan(share[1])  # an all-zero map: NaN


def test_object_masks_follow_the_documented_rule() -> None:
    images = np.array([[[[0.0, 0.2], [0.21, 1.0]]]], dtype=np.float32)
    np.testing.assert_array_equal(object_masks(images, "digits"), [[[False, False], [True, True]]])
    assert object_masks(images, "cifar10") is None
    aligned = edge_alignment(np.abs(np.random.default_rng(0).normal(size=(1, 1, 2, 2))), images)
    assert 0.0 <= aligned[0] <= 1.0


def test_robust_demo_models_put_more_gradient_on_the_digit() -> None:
    ds = open_dataset("digits")
    indices = np.arange(0, 360, 6)  # 60 examples
    standard = model_concentration(demo("digits_standard.pt2"), ds, indices)
    robust = model_concentration(demo("digits_pgd.pt2"), ds, indices)
    assert standard is not None and robust is not None
    assert standard.n == robust.n == 60 and standard.uniform == robust.uniform
    assert standard.ci_low <= standard.mean <= standard.ci_high
    assert robust.ci_low > standard.ci_high  # the gap is clear, not a bootstrap wobble
    assert standard.mean > standard.uniform  # both look at the digit more than chance
    assert "not a proof of robustness" in robust.caveat
    tsipras = open_dataset("tsipras:n=20")
    assert model_concentration(demo("tsipras_standard.pt2"), tsipras, np.arange(5)) is None


# --- the command line ---------------------------------------------------------------------


def test_cli_writes_a_png_of_the_expected_size(tmp_path: Path, capsys) -> None:
    out = tmp_path / "saliency.png"
    model = str(DEMO_DIR / "digits_standard.pt2")
    args = ["saliency", "--model", model, "--data", "digits", "--index", "7"]
    assert main([*args, "--eps", "0.1", "--device", "cpu", "--out", str(out)]) == 0
    image = Image.open(out)
    cell = fig.cell_size(8, 8)
    assert cell == 128
    width = 2 * fig.MARGIN + fig.LABEL_WIDTH + 4 * (cell + fig.GAP) + fig.BAR_WIDTH + fig.BAR_TEXT
    assert image.size[0] == width and cell + fig.GAP < image.size[1] < 2 * cell + 250
    assert "digits_standard: clean" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--index", "360"], "--index 360 is out of range: digits has 360 examples (0..359)"),
        (["--index", "0", "--method", "lime"], "invalid choice: 'lime'"),
        (["--index", "0", "--target", "adversarial"], "--target adversarial needs an attack"),
    ],
)
def test_cli_exits_2_with_one_line(tmp_path: Path, capsys, extra, message) -> None:
    model = str(DEMO_DIR / "digits_standard.pt2")
    args = ["saliency", "--model", model, "--data", "digits", "--out", str(tmp_path / "a.png")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "a.png").exists()


def test_cli_exits_2_for_a_model_without_gradients(tmp_path: Path, capsys, monkeypatch) -> None:
    from inspector.core.models import onnx_loader

    def refuse(*_args):
        raise NotImplementedError("op Foo is not implemented")

    monkeypatch.setattr(onnx_loader, "OnnxGraph", refuse)
    model = str(DEMO_DIR / "digits_standard.onnx")
    args = ["saliency", "--model", model, "--data", "digits", "--index", "0"]
    assert main([*args, "--out", str(tmp_path / "a.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "saliency maps need gradients, which digits_standard cannot give" in err
    assert "Foo" in err and len(err.splitlines()) == 1


@pytest.mark.slow  # a fresh interpreter importing torch and captum: several seconds
def test_saliency_core_loads_no_qt() -> None:
    """captum pulls in matplotlib; neither it nor the core may bring a Qt binding along."""
    code = (
        "import sys, numpy as np\n"
        "from inspector.core.models import load_model\n"
        "from inspector.core.saliency import attribute\n"
        f"m = load_model({str(DEMO_DIR / 'digits_standard.pt2')!r}, device='cpu')\n"
        "attribute(m, np.zeros((1, 1, 8, 8), np.float32), np.array([0]), 'gradcam')\n"
        "qt = ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'superqt')\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in qt))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_saliency_command_gives_each_attack_its_default_restarts():
    """The ensemble's default is 2 restarts per APGD member, as in `evaluate`."""
    from argparse import Namespace

    from inspector.cli.saliency_command import _threat
    from inspector.core.attacks.registry import spec

    args = Namespace(norm="linf", attack="ensemble", steps=None, restarts=None, seed=0)
    assert _threat(args, 0.1).restarts == spec("ensemble").restarts == 2
    assert _threat(Namespace(**{**vars(args), "attack": "pgd"}), 0.1).restarts == 1
    assert _threat(Namespace(**{**vars(args), "restarts": 3}), 0.1).restarts == 3
