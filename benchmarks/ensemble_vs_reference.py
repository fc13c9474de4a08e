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
`--fast` instead compares the fast audit (APGD-CE, APGD-T on 3 MALT-ranked targets, Square;
one run each) with AutoAttack standard on each model given, interleaved (issue 18).
Run:
    .venv/bin/python benchmarks/ensemble_vs_reference.py [--repeats 3] [--eps 0.1]
    .venv/bin/python benchmarks/ensemble_vs_reference.py --fast --examples 360 --repeats 1
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


def ours(
    module, x, y, eps: float, steps: int, queries: int, restarts: int
) -> tuple[float, float]:
    """Seconds and robust accuracy of our ensemble on the batch."""
    start = time.perf_counter()
    attack = make_attack("ensemble", module, "linf", steps, restarts, queries=queries)
    result = attack.perturb(x, y, eps, generator=torch.Generator().manual_seed(0))
    seconds = time.perf_counter() - start
    return seconds, float((~result.found).float().mean())


class _Timed:
    """An ensemble member that adds its seconds to a shared tally."""

    def __init__(self, attack, name: str, tally: dict[str, float]) -> None:
        self.attack, self.name, self.tally = attack, name, tally

    def perturb(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.attack.perturb(*args, **kwargs)
        finally:
            self.tally[self.name] = self.tally.get(self.name, 0.0) + time.perf_counter() - start


def fast(module, x, y, eps: float, tally: dict[str, float]) -> tuple[float, float]:
    """Seconds and robust accuracy of the fast audit at its defaults; members' seconds in tally."""
    start = time.perf_counter()
    audit = make_attack("fast", module, "linf", 100, 1)
    audit.members = [(n, _Timed(a, n, tally)) for n, a in audit.members]
    result = audit.perturb(x, y, eps, generator=torch.Generator().manual_seed(0))
    return time.perf_counter() - start, float((~result.found).float().mean())


def compare_fast(models: list[str], x, y, eps: float, repeats: int, aa100: bool) -> None:
    """Fast audit versus AutoAttack standard per model, interleaved; times are medians."""
    for name in models:
        module = load_model(str(DEMO_DIR / name), device="cpu").module
        assert module is not None
        runs: dict[str, list[tuple[float, float]]] = {"fast": [], "aa": []}
        tally: dict[str, float] = {}
        for _ in range(repeats):
            runs["fast"].append(fast(module, x, y, eps, tally))
            runs["aa"].append(reference(module, x, y, eps))
        ours_s = statistics.median(t for t, _ in runs["fast"])
        ref_s = statistics.median(t for t, _ in runs["aa"])
        members = ", ".join(f"{n} {t / repeats:.1f} s" for n, t in tally.items())
        print(
            f"  {name:<20} fast audit {ours_s:6.1f} s robust {runs['fast'][-1][1]:.4f}   "
            f"AutoAttack standard {ref_s:6.1f} s robust {runs['aa'][-1][1]:.4f}   "
            f"ratio {ours_s / ref_s:.2f}   (fast: {members})",
            flush=True,
        )
        if aa100:
            seconds, robust = reference(module, x, y, eps, steps=100)
            print(f"  {name:<20} AutoAttack, 100 iterations {seconds:6.1f} s robust {robust:.4f}")


def reference(module, x, y, eps: float, steps: int | None = None) -> tuple[float, float]:
    """Seconds and robust accuracy of torchattacks' standard AutoAttack on the batch; with
    `steps`, its gradient attacks (APGD-CE, APGD-T, FAB-T) run that many iterations (AA-100)."""
    start = time.perf_counter()
    attack = torchattacks.AutoAttack(module, norm="Linf", eps=eps, version="standard", seed=0)
    for member in attack._autoattack.attacks if steps else ():
        if hasattr(member, "steps"):
            member.steps = steps
    adv = attack(x, y)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        return seconds, float((module(adv).argmax(1) == y).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits_pgd.pt2", help="a file in resources/demo")
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fast", action="store_true", help="the fast audit on three models")
    parser.add_argument("--aa100", action="store_true", help="with --fast: also AA-100")
    parser.add_argument(
        "--models", default="digits_standard.pt2,digits_pgd.pt2,digits_trades.pt2"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = open_dataset("digits")
    indices = stratified_subset(dataset.labels, args.examples, 0)
    x = torch.from_numpy(dataset.load(indices))
    y = torch.from_numpy(dataset.labels[indices].astype(np.int64))
    if args.fast:
        print(
            f"torch {torch.__version__}, torchattacks {torchattacks.__version__}, 1 thread, "
            f"{args.examples} digits, L∞ ε={args.eps:g}, {args.repeats} repeats"
        )
        compare_fast(args.models.split(","), x, y, args.eps, args.repeats, args.aa100)
        return
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
