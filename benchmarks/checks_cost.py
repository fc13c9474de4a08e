"""What the sanity checks cost next to the evaluation they judge (issue 12: ratio ≤ 1.25).

Two cases, each evaluated with the default checks and with them off, the two runs
interleaved in one process (same models, same data, same seeds) so that load from other
work on the machine hits both alike:

- the issue's CNN: 3 conv layers on CIFAR-sized random images (512, labels = the model's own
  predictions), PGD-10 at ε = 1e-5, batch 128: nothing breaks, so every example runs every
  step (the case that cost 703 s with checks against 73 s without);
- the demo: its three digit models on all 360 digits, PGD-10 over its 13-point ε grid.

Times are whole `evaluate_models` calls (clean pass, sweep, checks). Prints, per case, the
medians of the repeats, the ratio of medians and the median of the per-repeat ratios, the
checks' own recorded time over the evaluation without them (less noisy than a difference of
two noisy totals), and which checks warned. Run:
    .venv/bin/python benchmarks/checks_cost.py [--repeats 3] [--images 512]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from inspector.core.data import open_dataset
from inspector.core.demo import DEMO_DATA, DEMO_THREAT, demo_model_paths
from inspector.core.evaluate import EvaluationRequest, ModelRequest, evaluate_models
from inspector.core.models import LoadedModel, ModelInfo, load_model
from inspector.core.results import EvaluationResults
from inspector.core.threat import ThreatModel


def three_conv_cnn() -> nn.Module:
    """A small CIFAR-10 CNN: 3 conv layers (32, 64, 128 channels), each pooled, then 10."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for c_in, c_out in ((3, 32), (32, 64), (64, 128)):
        layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10)).eval()


def cnn_case(folder: Path, images: int):
    """The CNN as a loaded model, and random images labelled with its predictions."""
    net = three_conv_cnn()
    for p in net.parameters():
        p.requires_grad_(False)
    x = np.random.default_rng(0).random((images, 3, 32, 32), dtype=np.float32)
    with torch.no_grad():
        y = net(torch.from_numpy(x)).argmax(1).numpy()
    np.savez(folder / "cifar_like.npz", x=x, y=y)
    dataset = open_dataset(str(folder / "cifar_like.npz"))

    def reference(a: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(a)).double().numpy()

    names = tuple(f"class {i}" for i in range(10))
    info = ModelInfo("cnn", "cnn", "", "state_dict", "cpu", (3, 32, 32), names, None, None)
    threat = ThreatModel(eps=(0.0, 1e-5), attack="pgd", steps=10)
    return [LoadedModel(info, net, reference)], dataset, threat


def demo_case():
    models = [load_model(p, device="cpu") for p in demo_model_paths()]
    return models, open_dataset(DEMO_DATA), DEMO_THREAT


def run(models, dataset, threat: ThreatModel, checks: bool) -> tuple[float, EvaluationResults]:
    request = EvaluationRequest(
        tuple(ModelRequest(m.info.path, m.info.name) for m in models),
        dataset.info.spec,
        threat,
        batch_size=128,
        checks=checks,
    )
    started = time.perf_counter()
    *_, results = evaluate_models(models, dataset, request)
    return time.perf_counter() - started, results


def measure(label: str, case, repeats: int) -> None:
    models, dataset, threat = case
    run(models, dataset, replace(threat, eps=threat.eps[:2]), False)  # warm-up
    with_checks, without, ratios = [], [], []
    for r in range(repeats):  # interleaved, the order alternating
        order = (True, False) if r % 2 == 0 else (False, True)
        times = {}
        for checks in order:
            times[checks], results = run(models, dataset, threat, checks)
            if checks:
                last = results
        with_checks.append(times[True])
        without.append(times[False])
        ratios.append(times[True] / times[False])
    on, off = statistics.median(with_checks), statistics.median(without)
    print(f"{label}")
    print(f"  without checks {off:8.2f} s   with checks {on:8.2f} s   (medians of {repeats})")
    print(
        f"  ratio of medians {on / off:.3f}   median paired ratio {statistics.median(ratios):.3f}"
        f"   paired ratios {', '.join(f'{x:.3f}' for x in ratios)}"
    )
    own = sum(c.seconds or 0.0 for m in last.models for c in m.checks)
    print(f"  the checks' own recorded time / evaluation without checks: {own / off:.3f}")
    for m in last.models:
        spent = sum(c.seconds or 0.0 for c in m.checks)
        warned = [c.name for c in m.checks if c.status == "warning"]
        print(f"  {m.info.name}: checks {spent:.2f} s; warnings: {', '.join(warned) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=512)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {time.ctime()}")
    with tempfile.TemporaryDirectory() as folder:
        case = cnn_case(Path(folder), args.images)
        measure(f"3-conv CNN, {args.images} images, PGD-10, ε = 1e-5", case, args.repeats)
    measure("demo: 3 digit models, 360 digits, PGD-10, 13 ε", demo_case(), args.repeats)


if __name__ == "__main__":
    main()
