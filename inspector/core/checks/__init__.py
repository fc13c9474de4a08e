"""Automatic sanity checks: is the model fit to be attacked, and was the attack strong enough?

An attack-based robust accuracy is only an upper bound, and a broken evaluation can make it
a meaningless one. These checks look for the signs of that listed in the primer (Athalye et
al. 2018; Carlini et al. 2019): a nondeterministic model, probabilities instead of logits,
images outside the range the model was built for, zero or non-finite input gradients,
robust accuracy that does not fall to ~0 at a huge ε, FGSM or a gradient-free attack
beating PGD, results that still move with more steps or restarts, adversarial points
outside the threat model. Each check runs on a small stratified subset, sized so that all
of them together cost about 15 % of the evaluation they judge (budget.py); they reuse what
the sweep found rather than attacking again where they can. Each ends as "passed",
"warning", "not informative" (nothing to test) or "skipped" (could not run), with plain
sentences saying what was measured, what it means and what to do, and with its time in
seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from inspector.core.attacks.base import CancelCheck, Cancelled
from inspector.core.checks.attacks import (
    check_fgsm_vs_pgd,
    check_gradient_free,
    check_large_eps,
    check_more_steps,
    large_eps,
)
from inspector.core.checks.context import Context
from inspector.core.checks.input_range import check_input_range
from inspector.core.checks.inside import (
    check_in_threat_model,
    float32_slack,
    judge,
    sweep_points,
)
from inspector.core.checks.model import check_deterministic, check_gradients, check_logits
from inspector.core.checks.result import (
    NOT_INFORMATIVE,
    PASSED,
    SKIPPED,
    STATUSES,
    WARNING,
    CheckResult,
    skipped,
)
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel

Check = Callable[[Context, str], CheckResult]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("deterministic", check_deterministic),
    ("logits, not probabilities", check_logits),
    ("input range", check_input_range),
    ("input gradients", check_gradients),
    ("very large ε", check_large_eps),
    ("FGSM not stronger than PGD", check_fgsm_vs_pgd),
    ("gradient-free attack", check_gradient_free),
    ("more steps and restarts", check_more_steps),
    ("inside the ε-ball and the box", check_in_threat_model),  # last: judges the others' points
)
INSIDE = CHECKS[-1][0]
DEFAULT_SUBSET = 64


def _run_check(check: Check, ctx: Context, name: str) -> CheckResult:
    """One check's verdict; one the model or threat cannot support is skipped, with why."""
    try:
        return check(ctx, name)
    except InspectorError as exc:
        return skipped(name, str(exc))


def iter_checks(
    model: LoadedModel,
    dataset: ImageDataset,
    indices: np.ndarray,
    threat: ThreatModel,
    sweep: ModelSweep | None,
    *,
    subset: int = DEFAULT_SUBSET,
    cancel: CancelCheck | None = None,
) -> Iterator[CheckResult]:
    """Run the checks one after another, yielding each verdict; `Cancelled` stops them.

    A check the model or the threat model cannot support (an `InspectorError`, e.g. an
    attack refused) is reported as skipped with that message rather than ending the run.
    """
    started = time.perf_counter()  # the shared subset's cost goes to the first check
    ctx = Context(model, dataset, np.asarray(indices), threat, sweep, subset, cancel)
    for name, check in CHECKS:
        if cancel is not None and cancel():
            raise Cancelled()
        result = _run_check(check, ctx, name)
        now = time.perf_counter()
        yield replace(result, seconds=now - started)
        started = now


def refresh_checks(
    model: LoadedModel,
    dataset: ImageDataset,
    threat: ThreatModel,
    sweep: ModelSweep,
    old: list[CheckResult],
    new_columns: list[int],
    *,
    cancel: CancelCheck | None = None,
) -> list[CheckResult]:
    """The checks after a refined grid: the ones that had nothing to test run again (a new ε
    may give them something), the inside check also judges the new grid points, the rest
    stand as they were (each names the ε it judged). Same order; nothing is dropped."""
    if not old:
        return []  # the checks were off for this run
    rerun = {c.name for c in old if c.status == NOT_INFORMATIVE}
    ctx = Context(model, dataset, sweep.indices, threat, sweep, DEFAULT_SUBSET, cancel)
    by_name = dict(CHECKS)
    fresh: list[CheckResult] = []
    for c in old:
        started = time.perf_counter()
        if c.name in rerun and c.name in by_name:
            c = replace(_run_check(by_name[c.name], ctx, c.name), seconds=None)
        elif c.name == INSIDE and c.status != SKIPPED:
            own = [(e, x, a, float32_slack(x, a)) for e, x, a in ctx.adversarial]
            points = (*own, *sweep_points(dataset, sweep, new_columns))
            c = replace(judge(c.name, threat.norm, points, c.figures), seconds=c.seconds)
        else:
            fresh.append(c)
            continue
        fresh.append(replace(c, seconds=(c.seconds or 0.0) + time.perf_counter() - started))
    return fresh


def run_checks(
    model: LoadedModel,
    dataset: ImageDataset,
    indices: np.ndarray,
    threat: ThreatModel,
    sweep: ModelSweep | None,
    *,
    subset: int = DEFAULT_SUBSET,
    cancel: CancelCheck | None = None,
) -> list[CheckResult]:
    """Every check on a stratified subset of `indices` (dataset = the model's view of it)."""
    return list(iter_checks(model, dataset, indices, threat, sweep, subset=subset, cancel=cancel))


__all__ = [
    "CHECKS",
    "NOT_INFORMATIVE",
    "PASSED",
    "SKIPPED",
    "STATUSES",
    "WARNING",
    "CheckResult",
    "iter_checks",
    "large_eps",
    "refresh_checks",
    "run_checks",
]
