"""Checks of the attack: it breaks everything at a huge ε, and FGSM, Square or more budget
do not find much that it missed (signs of masked gradients or of an attack too weak)."""

from __future__ import annotations

import math

import numpy as np

from inspector.core.attacks.fgsm import FGSM
from inspector.core.attacks.pgd import PGD
from inspector.core.attacks.square import Square, forward_from_loaded
from inspector.core.checks.context import (
    Context,
    Kept,
    no_gradients,
    preconditions,
    stronger,
)
from inspector.core.checks.result import CheckResult, verdict
from inspector.core.threat import DEFAULT_STEP_FACTOR, ThreatModel, format_eps

LARGE_EPS_LINF = 0.5  # L∞ 0.5 reaches the all-grey image from every input in [0, 1]
LARGE_EPS_L2_PER_SQRT_D = 0.5  # L2 0.5·√d: the same grey image, in L2
LARGE_EPS_STEPS = 20
LARGE_EPS_MAX_ACCURACY = 0.05  # robust accuracy above this at the huge ε is a warning
# How much a second attack may find that the evaluated one missed, in points of robust accuracy
# (and always one example): FGSM beating PGD at all is a strong sign, so 1 point; Square's
# margin loss often beats cross-entropy PGD by a little on sound models, so 2 points, as for
# more steps and restarts.
FGSM_EXTRA_SHARE = 0.01
GRADIENT_FREE_EXTRA_SHARE = 0.02
MORE_STEPS_MAX_DROP = 0.02  # robust accuracy may drop by 2 points with 2× steps, +1 restart


def large_eps(threat: ThreatModel, shape: tuple[int, ...]) -> float:
    """An ε whose ball holds the all-grey image around every input: no model is robust there."""
    if threat.norm == "linf":
        return LARGE_EPS_LINF
    return LARGE_EPS_L2_PER_SQRT_D * math.sqrt(int(np.prod(shape)))


def check_large_eps(ctx: Context, name: str) -> CheckResult:
    """PGD-20 at a huge ε (every ball contains the grey image) must break nearly everything."""
    if (early := no_gradients(ctx, name)) is not None:
        return early
    eps = large_eps(ctx.threat, ctx.x.shape[1:])
    rows = np.flatnonzero(ctx.correct)
    pgd = PGD(ctx.model.module, ctx.threat.norm, steps=LARGE_EPS_STEPS, restarts=1)
    step = DEFAULT_STEP_FACTOR * eps / LARGE_EPS_STEPS
    found = ctx.attack(pgd, eps, ctx.x[rows], ctx.labels[rows], 2, step_size=step)
    accuracy = float(len(rows) - found.sum()) / ctx.n
    said = (
        f"PGD-{LARGE_EPS_STEPS} at ε={format_eps(eps)}, where every ε-ball holds the same grey "
        f"image, leaves robust accuracy {accuracy:.1%} on {ctx.n} examples"
    )
    if accuracy > LARGE_EPS_MAX_ACCURACY:
        text = (
            f"{said} (expected about 0): the attack is not working on this model (masked "
            "gradients, or images outside the range the model was built for: see the input "
            "range check), so do not trust its robust accuracy; try a gradient-free attack."
        )
    else:
        text = f"{said}: the attack can break the model when the budget allows it."
    return verdict(name, accuracy > LARGE_EPS_MAX_ACCURACY, text, eps=eps, robust_accuracy=accuracy)


def _too_many(count: int, share: float, max_share: float) -> bool:
    """More than one example and more than `max_share` of the evaluation: not chance."""
    return count > 1 and share > max_share


def _nothing_left(ctx: Context, name: str, kept: Kept, what: str) -> CheckResult:
    text = (
        f"At ε={format_eps(ctx.eps_max)}, {kept.source} left no example robust: there is "
        f"nothing for {what} to find."
    )
    return verdict(name, False, text, eps=ctx.eps_max, attacked=0)


def check_fgsm_vs_pgd(ctx: Context, name: str) -> CheckResult:
    """At the largest ε, FGSM should not break examples that PGD keeps (beyond chance)."""
    if (early := preconditions(ctx, name)) is not None:
        return early
    kept = ctx.kept()
    if len(kept.x) == 0:
        return _nothing_left(ctx, name, kept, "FGSM")
    fgsm = FGSM(ctx.model.module, ctx.threat.norm)
    count = int(ctx.attack(fgsm, ctx.eps_max, kept.x, kept.labels, 3).sum())
    share = count * kept.weight
    said = (
        f"At ε={format_eps(ctx.eps_max)} FGSM breaks {count} of the {len(kept.x)} examples "
        f"that {kept.source} left robust ({share:.1%} of the evaluation)"
    )
    warn = _too_many(count, share, FGSM_EXTRA_SHARE)
    if warn:
        text = (
            f"{said}: a one-step attack beating the iterative one is a sign of masked or noisy "
            "gradients; use more steps and restarts or a stronger attack (APGD, Square)."
        )
    else:
        text = f"{said}: PGD is at least as strong, as it should be."
    return verdict(name, warn, text, eps=ctx.eps_max, fgsm_only=count, share=share)


def _square_in_ensemble(ctx: Context) -> tuple[int, int] | None:
    """With the ensemble: (examples its Square broke, examples attacked), from the sweep when
    there is one, else from the ensemble's run on the subset; None for other attacks."""
    if ctx.threat.attack != "ensemble":
        return None
    s = ctx.sweep
    by = None if s is None else s.broken_by
    if by is not None and len(by):
        names = np.asarray(by, dtype=object)[~np.isnan(s.breaking_eps)]
        return sum("square" in str(b).lower() for b in names), len(by)
    return ctx.kept().square_broke


def check_gradient_free(ctx: Context, name: str) -> CheckResult:
    """Square (no gradients) should not break what the gradient attacks left robust."""
    if (early := preconditions(ctx, name)) is not None:
        return early
    if (counted := _square_in_ensemble(ctx)) is not None:
        count, n = counted
        said = f"In the ensemble, Square broke {count} of {n} examples that APGD left robust"
        return _gradient_free_result(name, count, count / n, said)
    kept = ctx.kept()
    if len(kept.x) == 0:
        return _nothing_left(ctx, name, kept, "Square")
    queries = ctx.threat.queries
    square = Square(forward_from_loaded(ctx.model), ctx.threat.norm, queries=queries)
    count = int(ctx.attack(square, ctx.eps_max, kept.x, kept.labels, 4).sum())
    said = (
        f"At ε={format_eps(ctx.eps_max)} Square ({queries} queries) broke {count} of the "
        f"{len(kept.x)} examples that {kept.source} left robust"
    )
    return _gradient_free_result(name, count, count * kept.weight, said)


def _gradient_free_result(name: str, count: int, share: float, said: str) -> CheckResult:
    said += f" ({share:.1%} of the evaluation)"
    warn = _too_many(count, share, GRADIENT_FREE_EXTRA_SHARE)
    if warn:
        text = (
            f"{said}: a gradient-free attack beating the gradient attacks means their "
            "gradients are masked or they are too weak; trust only the worst case over all "
            "attacks (the ensemble), and treat the robust accuracy with suspicion."
        )
    else:
        text = f"{said}: the gradient attacks are not beaten by the gradient-free one."
    return verdict(name, warn, text, extra_broken=count, share=share)


def check_more_steps(ctx: Context, name: str) -> CheckResult:
    """Doubling the steps and adding a restart should not lower robust accuracy by > 2 points."""
    if (early := preconditions(ctx, name)) is not None:
        return early
    kept = ctx.kept()
    if len(kept.x) == 0:
        return _nothing_left(ctx, name, kept, "a stronger attack")
    left, labels = np.ones(len(kept.x), dtype=bool), []
    for stream, threat in enumerate(stronger(ctx.baseline_threat()), start=5):
        attack, label, kwargs = ctx.gradient_attack(threat)
        rows = np.flatnonzero(left)
        found = ctx.attack(attack, ctx.eps_max, kept.x[rows], kept.labels[rows], stream, **kwargs)
        left[rows[found]] = False
        labels.append(label)
    count = int((~left).sum())
    drop = count * kept.weight
    said = (
        f"At ε={format_eps(ctx.eps_max)}, {' then '.join(labels)} breaks {count} of "
        f"the {len(kept.x)} examples that {kept.source} left robust: robust accuracy "
        f"{kept.robust:.1%} → {kept.robust - drop:.1%}"
    )
    warn = drop > MORE_STEPS_MAX_DROP
    if warn:
        text = (
            f"{said}. The attack has not converged, so the reported robust accuracy is too "
            "high; raise --steps and --restarts (or use the ensemble) until it stops moving."
        )
    else:
        text = f"{said}. More budget changes little: the attack has converged."
    return verdict(name, warn, text, eps=ctx.eps_max, before=kept.robust, after=kept.robust - drop)
