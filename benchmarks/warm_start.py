"""Warm starts across the ε grid (issue 18): does the best point at one ε pay at the next?

The sweep attacks, at each grid ε, the examples still robust at the one below. Here the
fast audit runs that loop three ways on the same digits, interleaved per model in one run:
`cold` (every APGD run from a random start, what the sweep does), `warm` (APGD-CE's run
begins at the example's best point at the ε below, its lowest-margin point) and `scaled`
(that point's perturbation stretched by ε_k / ε_{k−1}, the exact optimum's move on a linear
model). Printed per variant: seconds per ε, robust accuracy per ε, and the whole sweep's.
The streams are the sweep's (per example, per grid index, seed 0). Run under `nice`:
    .venv/bin/python benchmarks/warm_start.py [--models digits_pgd] [--norm l2]
"""

from __future__ import annotations

import argparse
import time

import torch
from fast_audit import digits

from inspector.core.attacks.fast import fast_audit
from inspector.core.attacks.streams import Streams
from inspector.core.demo import DEMO_DIR
from inspector.core.models import load_model

GRIDS = {"linf": (0.0, 0.05, 0.1, 0.15, 0.2), "l2": (0.0, 0.25, 0.5, 0.75, 1.0)}
VARIANTS = ("cold", "warm", "scaled")


def swept(module, x, y, indices, norm: str, grid, variant: str):
    """Seconds and robust accuracy per grid ε of one variant of the sweep's loop."""
    with torch.no_grad():
        robust = module(x).argmax(1) == y
    best = x.clone()  # per example, the point the ε below left (the clean point at first)
    seconds, accuracy, previous = [], [], 0.0
    for k, eps in enumerate(grid):
        if eps <= 0:
            seconds.append(0.0)
            accuracy.append(float(robust.float().mean()))
            continue
        rows = torch.nonzero(robust).flatten()
        start = None
        if variant != "cold" and previous > 0:
            stretch = eps / previous if variant == "scaled" else 1.0
            start = x[rows] + (best[rows] - x[rows]) * stretch
        audit = fast_audit(module, norm, warm=variant != "cold")
        streams = Streams.for_examples(0, indices[rows.cpu().numpy()], x.device, k)
        started = time.perf_counter()
        out = audit.perturb(x[rows], y[rows], eps, generator=streams, start=start)
        seconds.append(time.perf_counter() - started)
        robust[rows[out.found]] = False
        best[rows] = out.x_adv
        accuracy.append(float(robust.float().mean()))
        previous = eps
    return seconds, accuracy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="digits_standard,digits_pgd,digits_trades")
    parser.add_argument("--norm", default="linf", choices=sorted(GRIDS))
    parser.add_argument("--digits", type=int, default=360)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    grid = GRIDS[args.norm]
    indices, x, y = digits("cpu", args.digits)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.digits} digits, "
          f"{args.norm} grid {grid}")  # fmt: skip
    for name in args.models.split(","):
        module = load_model(str(DEMO_DIR / f"{name}.pt2"), device="cpu").module
        for variant in VARIANTS:
            seconds, accuracy = swept(module, x, y, indices, args.norm, grid, variant)
            per_eps = "  ".join(
                f"{e:g}: {s:5.1f} s {a:.4f}"
                for e, s, a in zip(grid[1:], seconds[1:], accuracy[1:], strict=True)
            )
            print(f"  {name:<16} {variant:<6} {sum(seconds):6.1f} s   {per_eps}", flush=True)


if __name__ == "__main__":
    main()
