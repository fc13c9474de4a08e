"""The printout after the summary table: each model's sanity checks and certified curve."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from inspector.cli.hints import CLI_WORDS
from inspector.core.smoothing_spec import SmoothingSpec

if TYPE_CHECKING:  # the results module imports torch: not for building the parser
    from inspector.core.results import EvaluationResults

MARKS = {
    "passed": "✓ passed",
    "warning": "! warning",
    "not informative": "○ not informative",
    "skipped": "– skipped",
}


def add_trust_arguments(p: argparse.ArgumentParser) -> None:
    """`--no-checks` and the randomized-smoothing flags of `evaluate`."""
    p.add_argument(
        "--no-checks",
        action="store_true",
        help="skip the automatic sanity checks run after each model's sweep",
    )
    p.add_argument(
        "--smoothing-sigma",
        type=float,
        default=None,
        metavar="S",
        help="also certify with randomized smoothing at noise σ=S (L2, pixel units); the "
        "certificate is for the smoothed classifier, a lower bound",
    )
    p.add_argument(
        "--smoothing-samples",
        type=int,
        default=SmoothingSpec.n,
        metavar="N",
        help=f"noise samples per example for the estimate (default {SmoothingSpec.n})",
    )
    p.add_argument(
        "--smoothing-alpha",
        type=float,
        default=SmoothingSpec.alpha,
        metavar="A",
        help=f"failure probability of each certificate (default {SmoothingSpec.alpha})",
    )


def smoothing_from_args(args: argparse.Namespace) -> SmoothingSpec | None:
    if getattr(args, "smoothing_sigma", None) is None:
        return None
    return SmoothingSpec(
        sigma=args.smoothing_sigma, n=args.smoothing_samples, alpha=args.smoothing_alpha
    )


def trust_lines(results: EvaluationResults) -> str:
    """Checks as "✓ passed / ! warning / ○ not informative / – skipped: explanation (time)",
    then the certified curve."""
    lines: list[str] = []
    for m in results.models:
        if m.checks:
            lines += ["", f"Sanity checks, {m.info.name}:"]
            lines += [
                f"  {MARKS.get(c.status, c.status)} {c.name}: {c.worded(CLI_WORDS)}"
                + ("" if c.seconds is None else f" ({c.seconds:.2f} s)")
                for c in m.checks
            ]
        if m.smoothing:
            lines += ["", f"{m.info.name}: {m.smoothing['description']}"]
            lines.append(
                "  for g(x) = argmax_c P(f(x + δ) = c), δ ~ N(0, σ²I), not for the model f "
                "itself; abstentions count as errors"
            )
            lines.append(f"  {'L2 radius':>9}  certified accuracy")
            lines += [
                f"  {p['radius']:9.3f}  {p['certified_accuracy']:.3f}" for p in m.smoothing["curve"]
            ]
    return "\n".join(lines)
