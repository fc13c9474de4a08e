"""Saliency for one example on each demo model: vanilla gradient and Integrated Gradients.

What a click in the window costs: `inspector.core.saliency.attribute` on one digit (batch
of one), through the loaded model (normalisation wrapper included), on the CPU. Targets
(issue 4): vanilla gradient ≤ 200 ms, Integrated Gradients with 50 steps ≤ 1 s.
One warm-up call per model and method first (captum's import and torch's first-call
set-up are paid once per process, not per click); then medians over repeats, methods
interleaved, and the minimum (the cost on a quiet machine: on this shared 2-core box other
processes inflate the median). Also SmoothGrad (25 samples) and Grad-CAM, for the record. Run:
    .venv/bin/python benchmarks/saliency_speed.py [--repeats 21]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from inspector.core.data import open_dataset
from inspector.core.demo import demo_model_paths
from inspector.core.models import load_model
from inspector.core.saliency import attribute

TARGETS_MS = {"gradient": 200.0, "integrated_gradients": 1000.0}
METHODS = ("gradient", "integrated_gradients", "smoothgrad", "gradcam")


def time_once(model, x: np.ndarray, y: np.ndarray, method: str) -> float:
    start = time.perf_counter()
    attribute(model, x, y, method)
    return (time.perf_counter() - start) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--index", type=int, default=0)
    args = parser.parse_args()
    dataset = open_dataset("digits")
    x = dataset.load(np.array([args.index]))
    y = np.array(dataset.labels[args.index : args.index + 1])
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, one 1×8×8 digit "
        f"(index {args.index}), {args.repeats} repeats after one warm-up, median (min)"
    )
    for path in demo_model_paths():
        model = load_model(path, device="cpu")
        times: dict[str, list[float]] = {m: [] for m in METHODS}
        for method in METHODS:
            time_once(model, x, y, method)  # warm-up
        for _ in range(args.repeats):
            for method in METHODS:
                times[method].append(time_once(model, x, y, method))
        parts = []
        for method in METHODS:
            median, best = statistics.median(times[method]), min(times[method])
            target = TARGETS_MS.get(method)
            verdict = "" if target is None else (" ok" if median <= target else " MISSED")
            parts.append(f"{method:22s} {median:6.1f} ms (min {best:5.1f}){verdict}")
        print(f"  {model.info.name}")
        for part in parts:
            print(f"    {part}")
    print("targets: gradient ≤ 200 ms, integrated_gradients (50 steps) ≤ 1000 ms")


if __name__ == "__main__":
    main()
