"""How much the checks may spend, and where they look: a share of the evaluation's own work.

Work is counted in model passes per example: one forward and backward pass (a gradient
step) is 1, a forward pass alone (a Square query) is `FORWARD`. The evaluation's work is
read from its sweep as a lower bound (an example broken at an ε is counted as one pass
there, since PGD drops it as soon as it breaks), so the budget errs on the cheap side.
Each check that runs a second attack gets a fixed share of `CHECKS_SHARE` of that work and
sizes its sample (and Square its queries) to fit. Sizes depend on the results alone, so a
rerun gives the same samples; only the optional parts of two checks (Square's later
queries, the extra restart) are fitted to the checks' share of the sweep's time, since on
small models a call's overhead, not its examples, is what costs.

The second attacks look at a mid-curve ε (`probe_index`): where about half of what is
correct clean is still robust, so there is something to test and the curve is moving
(at the largest ε almost nothing is left, and what is left tells little).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.core.attacks.registry import AttackSpec, spec
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel

FORWARD = 1 / 3  # a forward pass costs about a third of a forward and backward pass
CHECKS_SHARE = 0.15  # of the evaluation's passes; the limit (issue 12) is 0.25 of its time
# Shares of the checks' budget; they sum to 1. The first three are cheap (a few passes per
# example); the two that need many examples and many passes get the rest.
SHARES = {"base": 0.05, "large": 0.05, "fgsm": 0.03, "square": 0.42, "steps": 0.45}
MIN_EXAMPLES = 4  # below this a check tells too little; it may then overrun its share
MAX_EXAMPLES = 64
SQUARE_TARGET_QUERIES = 100  # Square's sample is sized so that it gets about this many
SQUARE_MIN_QUERIES = 10  # fewer queries than this find next to nothing
SQUARE_EXAMPLES = 32


def per_example(threat: ThreatModel) -> float:
    """Passes the threat's attack spends on one example it cannot break, at one ε: an
    ensemble's members' passes added up (its APGD-T on the ensemble's own target count)."""
    whole = spec(threat.attack)
    parts = [spec(name) for name in whole.member_names] or [whole]
    if whole.backstop:  # the fast audit's Square runs only where gradients look masked
        parts = [part for part in parts if not part.gradient_free]
    return sum(_passes(part, whole, threat) for part in parts)


def _passes(part: AttackSpec, whole: AttackSpec, threat: ThreatModel) -> float:
    """One attack's passes: its queries (a third of a pass each), one step, or its steps ×
    restarts (× targets for APGD-T)."""
    if not part.takes_steps:
        return threat.queries * FORWARD if part.uses_queries else 1.0
    gradient = float(threat.steps * threat.restarts)
    return gradient * whole.targets if part.targets and whole.targets else gradient


def evaluation_passes(sweep: ModelSweep | None, threat: ThreatModel, fallback_n: int) -> float:
    """A lower bound of the passes the evaluation spent (the subset's size times the grid's
    ε > 0 when there is no sweep to read)."""
    cost = per_example(threat)
    if sweep is None:
        return fallback_n * cost * max(1, sum(e > 0 for e in threat.eps))
    breaking = np.nan_to_num(sweep.breaking_eps, nan=np.inf)
    correct = sweep.clean_correct
    if spec(threat.attack).minimum_norm:  # one radius search per example, not one per ε
        return float(correct.sum()) * cost
    total = 0.0
    for eps in sweep.eps[: sweep.eps_done]:
        if eps <= 0:
            continue
        attacked = correct & (breaking >= eps)
        survived = attacked & (breaking > eps)
        total += float(survived.sum()) * cost + float((attacked & ~survived).sum())
    return total


@dataclass(frozen=True)
class Budget:
    """The passes the checks may spend; `examples` and `square` size one check's sample to
    its share."""

    passes: float
    seconds: float | None = None  # the same share of the sweep's time, when it was timed

    @classmethod
    def of(cls, sweep: ModelSweep | None, threat: ThreatModel, fallback_n: int) -> Budget:
        timed = None if sweep is None else sweep.timings.get("total_seconds")
        seconds = None if timed is None else CHECKS_SHARE * float(timed)
        return cls(CHECKS_SHARE * evaluation_passes(sweep, threat, fallback_n), seconds)

    def share_seconds(self, part: str) -> float | None:
        return None if self.seconds is None else self.seconds * SHARES[part]

    def share(self, part: str) -> float:
        return self.passes * SHARES[part]

    def examples(self, part: str, calls: float, cap: int = MAX_EXAMPLES) -> int:
        """How many examples a check making `calls` passes over its sample may attack: what
        fits in its share, and at least a few."""
        fits = int(self.share(part) / max(calls, 1e-9))
        return max(MIN_EXAMPLES, min(cap, fits))

    def square(self, queries: int) -> tuple[int, int]:
        """(examples, queries) for Square: a sample that gets about `SQUARE_TARGET_QUERIES`
        in its share, then the threat's queries if they fit, else as many as do."""
        share = self.share("square") / FORWARD
        m = max(MIN_EXAMPLES, min(SQUARE_EXAMPLES, int(share / SQUARE_TARGET_QUERIES)))
        fitted = int(share / m)
        return m, max(1, min(queries, max(SQUARE_MIN_QUERIES, fitted)))


def robust_counts(sweep: ModelSweep) -> np.ndarray:
    """Examples still robust at each finished grid point."""
    breaking = np.nan_to_num(sweep.breaking_eps, nan=np.inf)
    eps = np.asarray(sweep.eps[: sweep.eps_done], dtype=np.float64)
    return (sweep.clean_correct[:, None] & (breaking[:, None] > eps[None, :])).sum(axis=0)


def probe_index(sweep: ModelSweep) -> int | None:
    """The grid point the second attacks judge: the ε > 0 whose count of robust examples is
    closest to half of the clean-correct ones, among those that still have one; the largest
    ε when even there more than half are robust (a flat curve: the biggest ball is the
    hardest test); None when no ε > 0 leaves an example robust."""
    counts, eps = robust_counts(sweep), sweep.eps[: sweep.eps_done]
    positive = [k for k, e in enumerate(eps) if e > 0 and counts[k] > 0]
    if not positive:
        return None
    half = sweep.clean_correct.sum() / 2
    if counts[positive[-1]] > half:
        return positive[-1]
    return min(positive, key=lambda k: (abs(counts[k] - half), k))
