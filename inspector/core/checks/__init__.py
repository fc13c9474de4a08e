"""Automatic sanity checks: is the model fit to be attacked, and was the attack strong enough?

An attack-based robust accuracy is only an upper bound, and a broken evaluation can make it
a meaningless one. These checks look for the signs of that listed in the primer (Athalye et
al. 2018; Carlini et al. 2019): a nondeterministic model, probabilities instead of logits,
images outside the range the model was built for, zero or non-finite input gradients,
robust accuracy that does not fall to ~0 at a huge ε, FGSM or a gradient-free attack
beating PGD, results that still move with more steps or restarts, adversarial points
outside the threat model. Each check runs on a small stratified
subset of the evaluated examples, so the whole set costs seconds; each ends as "passed",
"warning" or "skipped" with one or two plain sentences saying what was measured, what it
means and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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
from inspector.core.checks.inside import check_in_threat_model
from inspector.core.checks.model import check_deterministic, check_gradients, check_logits
from inspector.core.checks.result import (
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
from inspector.core.sweep import ModelSweep
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
DEFAULT_SUBSET = 64


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
    ctx = Context(model, dataset, np.asarray(indices), threat, sweep, subset, cancel)
    for name, check in CHECKS:
        if cancel is not None and cancel():
            raise Cancelled()
        try:
            yield check(ctx, name)
        except InspectorError as exc:
            yield skipped(name, str(exc))


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
    "PASSED",
    "SKIPPED",
    "STATUSES",
    "WARNING",
    "CheckResult",
    "iter_checks",
    "large_eps",
    "run_checks",
]
