"""The compatibility matrix (issue 11): real architectures, every format, both exporters.

torchvision resnet18, mobilenet_v3_small, efficientnet_b0 and a small VisionTransformer,
random init with a fixed seed (BatchNorm statistics calibrated on noise and the classifier
scaled so that logits are O(10), not 1e-14), 3×32×32, saved as .pt2, TorchScript (trace),
and ONNX from the legacy and the dynamo exporter, at opset 17 and at each exporter's
default. Per cell: the file loads, its clean logits equal the torch model's within 1e-4
relative, ONNX has a gradient path the loader found faithful, and PGD-5 at ε = 2/255 on 16
images gives the same robust accuracy as the .pt2. Files are exported once per session,
on first use, and shared with the allowlist matrix (torchvision_nets.py); the cells whose
exports take longest on a 2-core CPU are marked slow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import save_npz
from torch import nn
from torchvision_nets import ARCHS, SHAPE, NetworkFiles, shared_exports

from inspector.core.evaluate import EvaluationRequest, ModelRequest, run_to_end
from inspector.core.models import load_model
from inspector.core.threat import ThreatModel

META = {"input_shape": list(SHAPE), "class_names": [f"c{i}" for i in range(10)]}
FORMATS = ("pt2", "torchscript", "onnx-legacy-17", "onnx-legacy", "onnx-dynamo-17", "onnx-dynamo")
SLOW_ARCHS = {"mobilenet_v3_small", "efficientnet_b0"}  # 5-11 s per dynamo export here
N_IMAGES = 16
# up to the 2/255: at 2/255 alone random-init nets are all broken, which would make
# equal robust accuracy a weak test; the smaller ε give each cell a whole curve to match
GRID = (0.0, 0.125 / 255, 0.25 / 255, 0.5 / 255, 1 / 255, 2 / 255)


class Exports:
    """The session's shared networks and files (torchvision_nets.py), with this matrix's
    data and reference curves, built on first use and kept for the session."""

    def __init__(self, shared: NetworkFiles, folder: Path) -> None:
        self.shared, self.folder = shared, folder
        self.data: dict[str, Path] = {}
        self.robust: dict[str, tuple[float, ...]] = {}

    def net(self, arch: str) -> nn.Module:
        return self.shared.net(arch)

    def file(self, arch: str, fmt: str) -> Path:
        return self.shared.file(arch, fmt)

    def images(self) -> np.ndarray:
        return np.random.default_rng(3).random((N_IMAGES, *SHAPE), dtype=np.float32)

    def dataset(self, arch: str) -> Path:
        """16 noise images labelled with the model's own predictions (clean accuracy 1)."""
        if arch not in self.data:
            x = self.images()
            with torch.no_grad():
                labels = self.net(arch)(torch.from_numpy(x)).argmax(1).numpy()
            self.data[arch] = save_npz(self.folder / f"{arch}.npz", x, labels)
        return self.data[arch]

    def robust_accuracy(self, arch: str, fmt: str) -> tuple[float, ...]:
        threat = ThreatModel(eps=GRID, attack="pgd", steps=5, seed=0)
        model = ModelRequest(str(self.file(arch, fmt)), overrides=META)
        request = EvaluationRequest(
            (model,), str(self.dataset(arch)), threat, device="cpu", checks=False
        )
        sweep = run_to_end(request).models[0].sweep
        assert sweep.clean_correct.all()  # labels are the torch model's predictions
        return tuple(r.robust_accuracy for r in sweep.curve())

    def pt2_robust_accuracy(self, arch: str) -> tuple[float, ...]:
        if arch not in self.robust:
            self.robust[arch] = self.robust_accuracy(arch, "pt2")
        return self.robust[arch]


@pytest.fixture(scope="session")
def exports(tmp_path_factory) -> Exports:
    return Exports(shared_exports(tmp_path_factory), tmp_path_factory.mktemp("onnx-matrix"))


def cells() -> list:
    return [
        pytest.param(
            arch, fmt, marks=[pytest.mark.slow] if arch in SLOW_ARCHS else [], id=f"{arch}-{fmt}"
        )
        for arch in ARCHS
        for fmt in FORMATS
    ]


@pytest.mark.parametrize(("arch", "fmt"), cells())
def test_matrix_cell(exports: Exports, arch: str, fmt: str) -> None:
    path = exports.file(arch, fmt)
    loaded = load_model(path, device="cpu", overrides=META)
    x = exports.images()
    with torch.no_grad():
        expected = exports.net(arch)(torch.from_numpy(x)).numpy()
    got = loaded.reference_logits(x)
    gap = np.abs(got - expected).max() / max(1.0, np.abs(expected).max())
    assert gap < 1e-4, f"clean logits differ by {gap:.2g} (relative)"
    assert loaded.differentiable, loaded.gradient_unavailable_reason
    if fmt.startswith("onnx"):
        assert loaded.info.backend == "onnx" and loaded.conversion is not None
        assert loaded.check_conversion(x) < 1e-4
    robust = exports.robust_accuracy(arch, fmt)
    opset = (
        {e.domain: e.version for e in __import__("onnx").load(str(path)).opset_import}.get("", "-")
        if fmt.startswith("onnx")
        else "-"
    )
    print(
        f"\nMATRIX {arch} {fmt} opset={opset} gap={gap:.1e} robust={robust} "
        f"pt2={exports.pt2_robust_accuracy(arch)}"
    )  # the README's table, with -s
    assert robust == exports.pt2_robust_accuracy(arch)


def test_a_dynamo_export_from_the_command_line(exports: Exports, tmp_path, capsys) -> None:
    """The CLI on the dynamo exporter's default-opset resnet18: gradients, exit 0, the same
    robust accuracy curve as the .pt2, and the conversion gap in the results file."""
    import json

    from inspector.cli.main import main

    path = exports.file("resnet18", "onnx-dynamo")
    for source in path.parent.glob(f"{path.name}*"):  # the .onnx and its external weights
        (tmp_path / source.name).write_bytes(source.read_bytes())
    model_path = tmp_path / path.name
    (tmp_path / f"{path.name}.json").write_text(json.dumps(META))
    out = tmp_path / "r.json"
    eps = ",".join(f"{e:.10f}" for e in GRID)
    argv = ["evaluate", "--model", str(model_path), "--data"]
    argv += [str(exports.dataset("resnet18")), "--attack", "pgd", "--steps", "5", "--eps", eps]
    assert main([*argv, "--device", "cpu", "--no-checks", "--out", str(out)]) == 0
    capsys.readouterr()
    model = json.loads(out.read_text())["models"][0]
    curve = tuple(point["robust_accuracy"] for point in model["curve"])
    assert curve == exports.pt2_robust_accuracy("resnet18")
    assert model["onnx_conversion_max_rel_diff"] < 1e-4
