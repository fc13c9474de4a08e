"""torchvision networks built and exported once per test run, shared by two matrices.

The ONNX compatibility matrix (test_onnx_matrix.py) and the allowlist architecture matrix
(hostile/test_hostile_torch_models.py) both need resnet18, mobilenet_v3_small,
efficientnet_b0 and a small VisionTransformer, traced and exported: `shared_exports` gives
both the one `NetworkFiles` of the session, so each network is built, and each file
exported, once per run.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import pytest
import torch
from helpers import tiny_vit
from torch import nn

SHAPE = (3, 32, 32)
ARCHS = ("resnet18", "mobilenet_v3_small", "efficientnet_b0", "vit")


def build(arch: str) -> nn.Module:
    """The architecture at a fixed seed, with logits of a usable scale."""
    import torchvision

    torch.manual_seed(0)
    net = tiny_vit() if arch == "vit" else getattr(torchvision.models, arch)(num_classes=10)
    generator = torch.Generator().manual_seed(1)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average over the calibration batch
    net.train()
    with torch.no_grad():
        net(torch.rand(32, *SHAPE, generator=generator))
    net.eval()
    last = [m for m in net.modules() if isinstance(m, nn.Linear)][-1]
    probe = torch.rand(16, *SHAPE, generator=generator)
    with torch.no_grad():
        last.weight.normal_(0, 1, generator=generator)
        last.bias.zero_()
        last.weight.mul_(2 / net(probe).std())
    # parameters keep requires_grad: with none, nn.MultiheadAttention takes its inference fast
    # path (aten::_native_multi_head_attention), which has no derivative and no ONNX export
    return net


def export(net: nn.Module, fmt: str, path: Path) -> Path:
    example = torch.rand(2, *SHAPE)
    batch = torch.export.Dim("batch")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if fmt == "pt2":
            program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
            torch.export.save(program, path)
        elif fmt == "torchscript":
            torch.jit.save(torch.jit.trace(net, example, check_trace=False), path)
        else:
            kwargs: dict = {"input_names": ["image"], "output_names": ["logits"]}
            if fmt.endswith("-17"):
                kwargs["opset_version"] = 17
            if "dynamo" in fmt:
                kwargs.update(dynamo=True, dynamic_shapes=({0: batch},))
            else:
                kwargs.update(dynamo=False, dynamic_axes={"image": {0: "n"}})
            torch.onnx.export(net, (example,), path, **kwargs)
    return path


class NetworkFiles:
    """Networks and their files, built on first use and kept for the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.nets: dict[str, nn.Module] = {}
        self.files: dict[tuple[str, str], Path] = {}

    def net(self, arch: str) -> nn.Module:
        if arch not in self.nets:
            self.nets[arch] = build(arch)
        return self.nets[arch]

    def file(self, arch: str, fmt: str) -> Path:
        if (arch, fmt) not in self.files:
            suffix = {"pt2": ".pt2", "torchscript": ".pt"}.get(fmt, ".onnx")
            path = self.folder / f"{arch}-{fmt}{suffix}"
            self.files[arch, fmt] = export(self.net(arch), fmt, path)
        return self.files[arch, fmt]


_SHARED: list[NetworkFiles] = []


def shared_exports(factory: pytest.TempPathFactory) -> NetworkFiles:
    """The session's one NetworkFiles (in a folder of pytest's temporary tree)."""
    if not _SHARED:
        _SHARED.append(NetworkFiles(factory.mktemp("torchvision-nets")))
    return _SHARED[0]
