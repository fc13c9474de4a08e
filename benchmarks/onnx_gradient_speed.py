"""A PGD step through the ONNX gradient path versus the same model's .pt2 (torch.export).

torchvision resnet18 (random init, seed 0, 10 classes) at 3×32×32, batch 64, saved as .pt2
and as ONNX (legacy exporter, opset 17, and dynamo exporter, its default opset); each file
loaded with `load_model` as the inspector does. One "step" is what PGD does per iteration:
forward, cross-entropy, input gradient. Medians of interleaved repeats, ratio of medians
and median of paired ratios. Optionally onnx2torch on the legacy file, for comparison.
Run:
    .venv/bin/python benchmarks/onnx_gradient_speed.py [--repeats 9] [--device cpu]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F


def export_all(folder: Path, batch: int) -> dict[str, Path]:
    import torchvision

    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=10).eval()
    x = torch.rand(batch, 3, 32, 32)
    paths = {"pt2": folder / "r18.pt2", "legacy": folder / "r18_l.onnx"}
    paths["dynamo"] = folder / "r18_d.onnx"
    dim = torch.export.Dim("batch")
    torch.export.save(torch.export.export(net, (x,), dynamic_shapes=({0: dim},)), paths["pt2"])
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), paths["legacy"], opset_version=17, dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "n"}})
        torch.onnx.export(net, (x,), paths["dynamo"], dynamo=True,
                          dynamic_shapes=({0: dim},))
    return paths


def step_seconds(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    start = time.perf_counter()
    xr = x.clone().requires_grad_(True)
    loss = F.cross_entropy(module(xr), y)
    (grad,) = torch.autograd.grad(loss, xr)
    if x.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start + 0 * float(grad.flatten()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--onnx2torch", action="store_true", help="also time onnx2torch")
    args = parser.parse_args()
    from inspector.core.models import load_model

    with tempfile.TemporaryDirectory() as tmp:
        paths = export_all(Path(tmp), args.batch)
        meta = {"input_shape": [3, 32, 32], "class_names": [str(i) for i in range(10)]}
        loaded = {k: load_model(p, device=args.device, overrides=meta) for k, p in paths.items()}
        modules = {k: m.module for k, m in loaded.items()}
        if args.onnx2torch:
            import onnx
            from onnx2torch import convert

            for key in ("legacy", "dynamo"):
                try:
                    converted = convert(onnx.load(str(paths[key]))).eval()
                except Exception as exc:  # its KeyError on aliased weights, missing opsets
                    print(f"onnx2torch cannot convert the {key} export: {exc!r:.120}")
                    continue
                modules[f"o2t-{key}"] = converted.to(args.device).requires_grad_(False)
        providers = loaded["legacy"].info.providers
    device = torch.device(args.device)
    x = torch.rand(args.batch, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    times: dict[str, list[float]] = {k: [] for k in modules}
    for module in modules.values():
        step_seconds(module, x, y)  # warm-up
    for _ in range(args.repeats):
        for key, module in modules.items():
            times[key].append(step_seconds(module, x, y))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}, "
          f"onnxruntime providers {list(providers)}, batch {args.batch}, "
          f"{args.repeats} repeats, medians")
    base = statistics.median(times["pt2"])
    for key, values in times.items():
        paired = statistics.median(v / b for v, b in zip(values, times["pt2"], strict=True))
        print(f"  PGD step, {key:10s}: {1000 * statistics.median(values):8.1f} ms   "
              f"ratio of medians {statistics.median(values) / base:.3f}, "
              f"median paired ratio {paired:.3f}")


if __name__ == "__main__":
    main()
