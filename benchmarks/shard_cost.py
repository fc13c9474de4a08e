"""Per-example cost of the audit default (the ensemble, 100 steps, 2 restarts, Square 1000
queries) at one ε, for an example that stays robust (every member runs its whole budget):
the figure an ImageNet-scale estimate multiplies. Also Square's speed with per-example
streams. The demo's digits MLP and the CIFAR-sized CNN of attack_speed.py, this CPU, one
thread. Run:
    .venv/bin/python benchmarks/shard_cost.py [--examples 8]
"""

from __future__ import annotations

import argparse
import time

import torch
from attack_speed import cifar_cnn

from inspector.core.attacks.registry import make_attack
from inspector.core.attacks.streams import Streams
from inspector.core.demo import demo_model_paths
from inspector.core.models import load_model


def per_example_seconds(model: torch.nn.Module, shape, examples: int) -> float:
    """Seconds per example of one ensemble call at a tiny ε (nothing breaks: whole budget)."""
    x = torch.rand(examples, *shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = model(x).argmax(1)  # every example "correct", so every member attacks it
    attack = make_attack("ensemble", model, "linf", steps=100, restarts=2, queries=1000)
    streams = Streams.for_examples(0, range(examples), "cpu", 1)
    started = time.perf_counter()
    result = attack.perturb(x, y, 1e-5, generator=streams)
    seconds = time.perf_counter() - started
    assert not bool(result.found.any()), "something broke: not the whole budget"
    return seconds / examples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--models", default="demo,cifar", help="which: demo, cifar or both")
    args = parser.parse_args()
    torch.set_num_threads(1)
    demo = load_model(demo_model_paths()[0], device="cpu").module
    cnn = cifar_cnn().eval()
    for p in cnn.parameters():
        p.requires_grad_(False)
    cases = {"demo": ("digits demo", demo, (1, 8, 8)), "cifar": ("CIFAR CNN", cnn, (3, 32, 32))}
    for key in args.models.split(","):
        name, model, shape = cases[key]
        s = per_example_seconds(model, shape, args.examples)
        print(f"{name}: {s:.2f} s per example per ε (audit default, whole budget, "
              f"batch {args.examples})")


if __name__ == "__main__":
    main()
