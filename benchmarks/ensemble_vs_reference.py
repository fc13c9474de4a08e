"""Our attack ensemble and fast audit versus torchattacks' AutoAttack (standard), same data.

A demo digits model (default: the PGD-trained one, where attacks work hardest), a stratified
subset of the digits test split, L∞ at one ε, every example in one batch, single-threaded
(the box has 2 shared cores). Interleaved repeats; prints the median time of each side, the
ratio of medians, the median of the per-repeat ratios, and both robust accuracies.

The two do not spend the same budget: torchattacks 3.5's standard AutoAttack runs APGD-CE,
APGD-T (9 targets) and FAB-T (9 targets) at 10 iterations each plus Square with 5000
queries; our ensemble runs APGD-CE and APGD-T at 100 steps plus Square with 1000 queries
(the original AutoAttack's APGD budget). A third row runs our ensemble at torchattacks'
budget (10 steps, 5000 queries; no FAB) for a like-for-like look at the implementation.
`--fast` runs benchmarks/fast_audit.py instead (the fast audit against AutoAttack standard and
AA-100 on the demo models and a CIFAR-sized network, L∞ and L2; issue 18); its own options
follow, e.g. `--fast --aa100 --sweep`.
Run:
    .venv/bin/python benchmarks/ensemble_vs_reference.py [--repeats 3] [--eps 0.1]
    .venv/bin/python benchmarks/ensemble_vs_reference.py --fast --aa100 [--sweep] [--cases cifar]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torchattacks

from inspector.core.attacks.registry import make_attack, spec
from inspector.core.data import open_dataset, stratified_subset
from inspector.core.demo import DEMO_DIR
from inspector.core.models import load_model


def ours(module, x, y, eps: float, steps: int, queries: int, restarts: int) -> tuple[float, float]:
    """Seconds and robust accuracy of our ensemble on the batch."""
    start = time.perf_counter()
    attack = make_attack("ensemble", module, "linf", steps, restarts, queries=queries)
    result = attack.perturb(x, y, eps, generator=torch.Generator().manual_seed(0))
    seconds = time.perf_counter() - start
    return seconds, float((~result.found).float().mean())


def reference(module, x, y, eps: float, steps: int | None = None, norm: str = "linf"):
    """Seconds and robust accuracy of torchattacks' standard AutoAttack on the batch; with
    `steps`, its gradient attacks (APGD-CE, APGD-T, FAB-T) run that many iterations (AA-100)."""
    seconds, robust = reference_mask(module, x, y, eps, steps, norm)
    return seconds, float(robust.float().mean())


def reference_mask(module, x, y, eps: float, steps: int | None = None, norm: str = "linf"):
    """Seconds and, per example, whether AutoAttack (standard, or AA-`steps`) left it right."""
    start = time.perf_counter()
    name = {"linf": "Linf", "l2": "L2"}[norm]
    classes = int(module(x[:1]).shape[1])
    attack = torchattacks.AutoAttack(
        module, norm=name, eps=eps, version="standard", n_classes=classes, seed=0
    )
    for member in attack._autoattack.attacks if steps else ():
        if hasattr(member, "steps"):
            member.steps = steps
    adv = attack(x, y)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        return seconds, (module(adv).argmax(1) == y).cpu()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits_pgd.pt2", help="a file in resources/demo")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fast", action="store_true", help="the fast audit: fast_audit.py")
    args, rest = parser.parse_known_args()
    if args.fast:
        from fast_audit import main as fast_main

        fast_main(rest)
        return
    torch.set_num_threads(1)
    dataset = open_dataset("digits")
    indices = stratified_subset(dataset.labels, args.examples, 0)
    x = torch.from_numpy(dataset.load(indices))
    y = torch.from_numpy(dataset.labels[indices].astype(np.int64))
    module = load_model(str(DEMO_DIR / args.model), device="cpu").module
    assert module is not None
    with torch.no_grad():
        clean = float((module(x).argmax(1) == y).float().mean())
    audit = spec("ensemble").restarts
    sides = {
        f"ours, audit default (APGD 100 steps × {audit} restarts, Square 1000)": lambda: ours(
            module, x, y, args.eps, 100, 1000, audit
        ),
        "torchattacks AutoAttack standard": lambda: reference(module, x, y, args.eps),
        "ours, 1 restart": lambda: ours(module, x, y, args.eps, 100, 1000, 1),
        "ours at its budget (10 steps, 5000)": lambda: ours(module, x, y, args.eps, 10, 5000, 1),
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    accuracy: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, run in sides.items():
            seconds, accuracy[name] = run()
            times[name].append(seconds)
    print(
        f"torch {torch.__version__}, torchattacks {torchattacks.__version__}, 1 thread, "
        f"{args.model}, {args.examples} digits, L∞ ε={args.eps:g}, clean accuracy {clean:.3f}, "
        f"{args.repeats} repeats, medians"
    )
    names = list(sides)
    base, ref = times[names[0]], times[names[1]]
    for name in names:
        print(f"  {name:<64} {statistics.median(times[name]):7.1f} s   robust {accuracy[name]:.3f}")
    paired = statistics.median(a / b for a, b in zip(base, ref, strict=True))
    ratio = statistics.median(base) / statistics.median(ref)
    print(f"  time ratio ours / reference: {ratio:.2f} (ratio of medians), {paired:.2f} (paired)")


if __name__ == "__main__":
    main()
