"""PGD-10 through the core versus ten forward+backward passes of the bare model.

A CIFAR-sized CNN (3×32×32 → 10) at batch 128 on this machine's CPU. Both sides use the
same frozen model and compute input gradients only, so the ratio is the attack's own
overhead (projection, bookkeeping, the extra forward pass that checks the last iterate).

Two ε: a tiny one at which nothing breaks (all 128 examples run all 10 steps: the
like-for-like figure) and 8/255 (examples leave the batch once broken: what users see).
Prints medians over interleaved repeats, the ratio of medians and the median of the
per-repeat ratios. Run:
    .venv/bin/python benchmarks/attack_speed.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from inspector.core.attacks import PGD


def cifar_cnn() -> nn.Module:
    """A VGG-style CNN of the size people train on CIFAR-10 on a laptop (~0.3 M params)."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128 * 4 * 4, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def bare_passes(model: nn.Module, x: torch.Tensor, y: torch.Tensor, passes: int) -> float:
    """Seconds for `passes` forward+backward passes w.r.t. the input."""
    start = time.perf_counter()
    for _ in range(passes):
        xi = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(xi), y, reduction="sum")
        torch.autograd.grad(loss, xi)
    return time.perf_counter() - start


def core_pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> tuple[float, int]:
    start = time.perf_counter()
    result = PGD(model, "linf", steps=10, restarts=1).perturb(x, y, eps)
    return time.perf_counter() - start, int(result.found.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.manual_seed(0)
    model = cifar_cnn().eval().requires_grad_(False)
    x = torch.rand(args.batch, 3, 32, 32)
    with torch.no_grad():
        y = model(x).argmax(1)  # every example starts correctly classified
    bare_passes(model, x, y, 3)  # warm-up
    rows: dict[str, list[float]] = {"bare": [], "tiny": [], "8/255": []}
    broken = 0
    for _ in range(args.repeats):
        rows["bare"].append(bare_passes(model, x, y, 10))
        rows["tiny"].append(core_pgd(model, x, y, 1e-6)[0])
        seconds, broken = core_pgd(model, x, y, 8 / 255)
        rows["8/255"].append(seconds)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
        f"{args.repeats} repeats, medians"
    )

    def paired(key: str) -> float:
        """Median of per-repeat ratios: robust to the load drifting on a shared machine."""
        return statistics.median(t / b for t, b in zip(rows[key], rows["bare"], strict=True))

    print(f"10 × forward+backward, bare model : {med['bare'] * 1000:8.1f} ms")
    print(
        f"PGD-10 via core, ε=1e-6 (no exits): {med['tiny'] * 1000:8.1f} ms   "
        f"ratio of medians {med['tiny'] / med['bare']:.3f}, "
        f"median paired ratio {paired('tiny'):.3f}"
    )
    print(
        f"PGD-10 via core, ε=8/255          : {med['8/255'] * 1000:8.1f} ms   "
        f"ratio of medians {med['8/255'] / med['bare']:.3f}, "
        f"median paired ratio {paired('8/255'):.3f}  ({broken}/{args.batch} broken)"
    )


if __name__ == "__main__":
    main()
