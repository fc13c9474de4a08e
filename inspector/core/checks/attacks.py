"""Checks of the attack: it breaks everything at a huge ε, and FGSM, Square or more budget
do not find much that it missed (signs of masked gradients or of an attack too weak).

Each runs on a sample sized to its share of the budget (budget.py), at the probe ε, and
says "not informative" when the evaluation left nothing robust there to test.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from inspector.core.attacks.fgsm import FGSM
from inspector.core.attacks.pgd import PGD
from inspector.core.attacks.registry import spec
from inspector.core.attacks.square import Square
from inspector.core.attacks.step_size import pgd_step_size
from inspector.core.checks.budget import per_example
from inspector.core.checks.context import (
    Context,
    Kept,
    no_gradients,
    preconditions,
    square_breaks,
    stronger,
)
from inspector.core.checks.result import CheckResult, not_informative, verdict
from inspector.core.models.base import forward_from_loaded
from inspector.core.threat import ThreatModel, format_eps

LARGE_EPS_LINF = 0.5  # L∞ 0.5 reaches the all-grey image from every input in [0, 1]
LARGE_EPS_L2_PER_SQRT_D = 0.5  # L2 0.5·√d: the same grey image, in L2
LARGE_EPS_FIRST_STEPS = 2  # a short PGD first: at that ε it settles the usual case
LARGE_EPS_STEPS = 20  # then the full PGD on what survived it, only if too much did
LARGE_EPS_MAX_ACCURACY = 0.05  # robust accuracy above this at the huge ε is a warning
# How much a second attack may find that the evaluated one missed, in points of robust accuracy
# (and always more than one example): FGSM beating PGD at all is a strong sign, so 1 point;
# Square's margin loss often beats cross-entropy PGD by a little on sound models, so 2 points.
FGSM_EXTRA_SHARE = 0.01
GRADIENT_FREE_EXTRA_SHARE = 0.02
MORE_STEPS_MAX_DROP = 0.02  # robust accuracy may drop by 2 points with 2× steps, +1 restart
# Each is judged on a sample: a finding must be more than one example (each is a proof that
# the evaluation missed it, so two rule out a fluke of one odd image) and its estimated share
# of the evaluation must exceed the limit; the texts add a one-sided 90 % Wilson lower bound.
WILSON_Z = 1.2816
SQUARE_FIRST_QUERIES = 20  # Square's first, timed run; the rest fits its share of the time,
SQUARE_LADDER = (20, 50, 100, 200, 500, 1000, 2000, 5000)  # rounded down to one of these


def large_eps(threat: ThreatModel, shape: tuple[int, ...]) -> float:
    """An ε whose ball holds the all-grey image around every input: no model is robust there."""
    if threat.norm == "linf":
        return LARGE_EPS_LINF
    return LARGE_EPS_L2_PER_SQRT_D * math.sqrt(int(np.prod(shape)))


def check_large_eps(ctx: Context, name: str) -> CheckResult:
    """PGD at a huge ε (every ball contains the grey image) must break nearly everything: a
    short PGD first, the full PGD-20 only on what survived it when that is too much."""
    if (early := no_gradients(ctx, name)) is not None:
        return early
    eps = large_eps(ctx.threat, ctx.x.shape[1:])
    rows = np.flatnonzero(ctx.correct)
    rows = rows[: ctx.budget.examples("large", LARGE_EPS_FIRST_STEPS)]
    n = len(rows)
    left, steps = rows, 0
    for stream, count in ((2, LARGE_EPS_FIRST_STEPS), (7, LARGE_EPS_STEPS)):
        if len(left) <= LARGE_EPS_MAX_ACCURACY * max(n, 1):
            break  # settled: the attack breaks (nearly) everything
        pgd = PGD(ctx.model.module, ctx.threat.norm, steps=count, restarts=1)
        step = pgd_step_size(eps, count)
        found = ctx.attack(pgd, eps, ctx.x[left], ctx.labels[left], stream, step_size=step)
        left, steps = left[~found], count
    if n == 0:
        return not_informative(
            name,
            f"None of the {ctx.n} sampled examples is classified correctly, so there is "
            "nothing to break at a huge ε; it becomes informative on data the model gets right.",
            eps=eps,
        )
    accuracy = float(ctx.correct.mean()) * len(left) / n  # the sample stands for the correct
    said = (
        f"PGD-{steps} at ε={format_eps(eps)}, where every ε-ball holds the same grey "
        f"image, leaves {len(left)} of {n} correctly classified examples robust "
        f"(robust accuracy {accuracy:.1%})"
    )
    warn = accuracy > LARGE_EPS_MAX_ACCURACY
    if warn:
        text = (
            f"{said}, expected about 0: the attack is not working on this model (masked "
            "gradients, or images outside the range the model was built for: see the input "
            "range check), so do not trust its robust accuracy; try a gradient-free attack."
        )
    else:
        text = f"{said}: the attack can break the model when the budget allows it."
    return verdict(name, warn, text, eps=eps, robust_accuracy=accuracy, attacked=n)


def _too_many(count: int, attacked: int, robust: float, max_share: float) -> bool:
    """More than one example, and a sample of `attacked` standing for the `robust` share of
    the evaluation puts their share above `max_share`."""
    return count > 1 and count / max(attacked, 1) * robust > max_share


def _finding(
    name: str,
    counted: tuple[int, int, float, float],
    said: str,
    warning: str,
    fine: str,
    **figures: Any,
) -> CheckResult:
    """A second attack's finding judged the one way (`_too_many` on (count, attacked,
    robust, max_share)): `said` then the warning's words or the all-clear's."""
    warn = _too_many(*counted)
    return verdict(name, warn, said + (warning if warn else fine), **figures)


def _at_least(count: int, attacked: int, robust: float) -> str:
    """", at least 1.2 % with 90 % confidence" (nothing when nothing was found)."""
    if count == 0:
        return ""
    return f", at least {wilson_lower(count, attacked) * robust:.1%} with 90 % confidence"


def _nothing_left(name: str, kept: Kept, what: str) -> CheckResult:
    text = (
        f"{kept.source[0].upper()}{kept.source[1:]} left no example robust at any ε > 0 of "
        f"the grid, so there was nothing for {what} to find: this says nothing either way; "
        "it becomes informative with smaller ε values in the grid (or a more robust model)."
    )
    return not_informative(name, text, eps=kept.eps, attacked=0)


def check_fgsm_vs_pgd(ctx: Context, name: str) -> CheckResult:
    """At the probe ε, FGSM should not break examples that PGD keeps (beyond chance)."""
    if (early := preconditions(ctx, name)) is not None:
        return early
    kept = ctx.kept()
    if len(kept) == 0:
        return _nothing_left(name, kept, "FGSM")
    x, y = kept.sample(ctx.budget.examples("fgsm", 1.0), ctx.threat.seed)
    fgsm = FGSM(ctx.model.module, ctx.threat.norm)
    count = int(ctx.attack(fgsm, kept.eps, x, y, 3).sum())
    share = count / len(x) * kept.robust
    said = (
        f"At ε={format_eps(kept.eps)} FGSM breaks {count} of {len(x)} sampled examples "
        f"that {kept.source} left robust ({share:.1%} of the evaluation"
        f"{_at_least(count, len(x), kept.robust)})"
    )
    return _finding(
        name,
        (count, len(x), kept.robust, FGSM_EXTRA_SHARE),
        said,
        ": a one-step attack beating the iterative one is a sign of masked or noisy "
        "gradients; use more steps and restarts or a stronger attack (APGD, Square).",
        ": PGD is at least as strong, as it should be.",
        eps=kept.eps,
        attacked=len(x),
        fgsm_only=count,
        share=share,
    )


def _square_in_ensemble(ctx: Context) -> tuple[int, int] | None:
    """With the ensemble: (examples its Square broke, examples attacked), from the sweep when
    there is one, else from the ensemble's run on the subset; None for other attacks."""
    attack = spec(ctx.threat.attack)
    if not attack.is_ensemble or attack.backstop:  # a backstop Square (the fast audit) runs
        return None  # only where gradients look masked: its own Square on a sample says more
    s = ctx.sweep
    by = None if s is None else s.broken_by
    if by is not None and len(by):
        names = np.asarray(by, dtype=object)[~np.isnan(s.breaking_eps)]
        return square_breaks(names), len(by)
    return ctx.kept().square_broke


def check_gradient_free(ctx: Context, name: str) -> CheckResult:
    """Square (no gradients) should not break what the gradient attacks left robust."""
    if (early := preconditions(ctx, name)) is not None:
        return early
    if (counted := _square_in_ensemble(ctx)) is not None:
        count, n = counted
        said = f"In the ensemble, Square broke {count} of {n} examples that APGD left robust"
        return _gradient_free_result(name, count, n, 1.0, said, False)
    kept = ctx.kept()
    if len(kept) == 0:
        return _nothing_left(name, kept, "Square")
    m, queries = ctx.budget.square(ctx.threat.queries)
    x, y = kept.sample(m, ctx.threat.seed)
    count, queries = _timed_square(ctx, kept.eps, x, y, queries)
    said = (
        f"At ε={format_eps(kept.eps)} Square ({queries} queries) broke {count} of {len(x)} "
        f"sampled examples that {kept.source} left robust"
    )
    more = {"eps": kept.eps, "queries": queries}
    return _gradient_free_result(name, count, len(x), kept.robust, said, True, **more)


def _timed_square(ctx: Context, eps: float, x, y, queries: int) -> tuple[int, int]:
    """Square on the sample: a few queries first, timed, then as many more on what survived
    as fit in the check's share of the sweep's time (a Square query costs far more than a
    forward pass on small models); (examples broken, queries per example at most)."""
    forward = forward_from_loaded(ctx.model)
    seconds = ctx.budget.share_seconds("square")
    first = queries if seconds is None else min(queries, SQUARE_FIRST_QUERIES)
    started = time.perf_counter()
    found = ctx.attack(Square(forward, ctx.threat.norm, queries=first), eps, x, y, 4)
    if first == queries or found.all():
        return int(found.sum()), first
    per_query = (time.perf_counter() - started) / first
    fits = min(queries, int(seconds / max(per_query, 1e-9)))
    total = max((q for q in SQUARE_LADDER if q <= fits), default=first)  # noise rarely moves it
    more = min(queries, total) - first
    if more <= 0:
        return int(found.sum()), first
    left = np.flatnonzero(~found)
    square = Square(forward, ctx.threat.norm, queries=more)
    found[left[ctx.attack(square, eps, x[left], y[left], 8)]] = True
    return int(found.sum()), first + more


def _gradient_free_result(
    name: str, count: int, attacked: int, robust: float, said: str, sampled: bool, **more
) -> CheckResult:
    """`attacked` examples stand for the `robust` share of the evaluation."""
    share = count / max(attacked, 1) * robust
    bound = _at_least(count, attacked, robust) if sampled else ""  # else an exact count
    said += f" ({share:.1%} of the evaluation{bound})"
    return _finding(
        name,
        (count, attacked, robust, GRADIENT_FREE_EXTRA_SHARE),
        said,
        ": a gradient-free attack beating the gradient attacks means their gradients are "
        "masked or they are too weak; trust only the worst case over all attacks (the "
        "ensemble), and treat the robust accuracy with suspicion.",
        ": the gradient attacks are not beaten by the gradient-free one.",
        extra_broken=count,
        attacked=attacked,
        share=share,
        **more,
    )


def wilson_lower(count: int, n: int, z: float = WILSON_Z) -> float:
    """One-sided lower confidence bound of a binomial proportion (Wilson score)."""
    if n == 0:
        return 0.0
    p, z2 = count / n, z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z2 / n))


def _stronger_cost(ctx: Context) -> float:
    """Passes per example of the stronger attacks (at most: each stops on what it breaks)."""
    return sum(per_example(t) for t in stronger(ctx.baseline_threat()))


def _more_pgd(ctx: Context, kept: Kept, x, y, left: np.ndarray) -> list[str]:
    """PGD with twice the steps and the evaluation's restarts, then the one extra random
    restart on what survived, unless the warning is already settled or the checks' share of
    the sweep's time does not allow it (on small models each step's overhead, not the
    examples, is the cost); clears `left` where broken."""
    eps = kept.eps
    threat = ctx.baseline_threat()
    more = replace(threat, steps=2 * threat.steps)
    started = time.perf_counter()
    attack, label, kwargs = ctx.gradient_attack(more)
    left[ctx.attack(attack, eps, x, y, 5, **kwargs)] = False
    elapsed, labels = time.perf_counter() - started, [label]
    if _too_many(int((~left).sum()), len(x), kept.robust, MORE_STEPS_MAX_DROP):
        return labels  # settled: not converged
    left_time = ctx.time_left()
    if left_time is not None and elapsed / threat.restarts > left_time:
        return labels  # the extra restart would overrun: said in the text
    rows = np.flatnonzero(left)
    extra = PGD(ctx.model.module, threat.norm, more.steps, 1, first_restart=threat.restarts)
    left[rows[ctx.attack(extra, eps, x[rows], y[rows], 6, **kwargs)]] = False
    return [f"{label} + 1 random restart"]


def check_more_steps(ctx: Context, name: str) -> CheckResult:
    """Twice the steps and one more restart, at the probe ε, on what the evaluation left
    robust there: not converged when more than one example breaks and robust accuracy
    drops by more than 2 points."""
    if (early := preconditions(ctx, name)) is not None:
        return early
    kept = ctx.kept()
    if len(kept) == 0:
        return _nothing_left(name, kept, "a stronger attack")
    x, y = kept.sample(ctx.budget.examples("steps", _stronger_cost(ctx)), ctx.threat.seed)
    left = np.ones(len(x), dtype=bool)
    if ctx.baseline_threat().attack == "pgd":
        labels = _more_pgd(ctx, kept, x, y, left)
    else:
        labels = []
        for stream, threat in enumerate(stronger(ctx.baseline_threat()), start=5):
            attack, label, kwargs = ctx.gradient_attack(threat)
            rows = np.flatnonzero(left)
            found = ctx.attack(attack, kept.eps, x[rows], y[rows], stream, **kwargs)
            left[rows[found]] = False
            labels.append(label)
    count = int((~left).sum())
    drop = count / len(x) * kept.robust
    said = (
        f"At ε={format_eps(kept.eps)}, {' then '.join(labels)} breaks {count} of "
        f"{len(x)} sampled examples that {kept.source} left robust: robust accuracy "
        f"{kept.robust:.1%} → about {kept.robust - drop:.1%} (a drop of {drop:.1%}"
        f"{_at_least(count, len(x), kept.robust)})"
    )
    return _finding(
        name,
        (count, len(x), kept.robust, MORE_STEPS_MAX_DROP),
        said,
        ". The attack has not converged, so the reported robust accuracy is too high; raise "
        "the steps and restarts (or use the ensemble) until it stops moving.",
        ". More budget changes little: the attack has converged.",
        before=kept.robust,
        after=kept.robust - drop,
        eps=kept.eps,
        attacked=len(x),
        broken=count,
    )
