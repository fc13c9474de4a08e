"""What the checks share: the subset, the budget, the attacks they run, what PGD kept.

The checks that compare a second attack with the evaluated one (FGSM, Square, more steps)
run it only on examples the evaluated attack left robust at the probe ε (a mid-curve grid
point, `budget.probe_index`): taken from the sweep when there is one (so the verdict is
about the reported numbers), else from a run of a PGD baseline on the subset. Each check
attacks a stratified sample of them sized to its share of the budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from inspector.core.attacks.base import AttackResult, CancelCheck, Cancelled
from inspector.core.attacks.registry import build_attack, spec, step_options
from inspector.core.checks.budget import (
    CHECKS_SHARE,
    FORWARD,
    Budget,
    probe_index,
)
from inspector.core.checks.result import CheckResult, skipped
from inspector.core.data import stratified_subset
from inspector.core.data.base import ImageDataset
from inspector.core.models.base import LoadedModel
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel

BASE_COST = 2 * FORWARD + 1  # per example: the logits, one repeat and one input gradient
TIME_SHARE = 0.2  # of the sweep's time: the optional parts stop here (the limit is 0.25)


@dataclass
class Kept:
    """The examples the gradient attack left robust at the probe ε, to be sampled.

    `robust` is the robust accuracy they make up: a share of a sample (`sample(m)`) newly
    broken, times `robust`, is points of robust accuracy.
    """

    load: Callable[[np.ndarray], np.ndarray]  # candidate rows → images
    labels: np.ndarray
    total: int  # evaluated examples the candidates come from
    eps: float
    source: str  # which attack left them robust, on which examples
    square_broke: tuple[int, int] | None = None  # ensemble only: (Square's breaks, examples)

    @property
    def robust(self) -> float:
        return len(self.labels) / max(1, self.total)

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of a class-stratified sample of at most m candidates."""
        rows = stratified_subset(self.labels, m, seed)
        return np.ascontiguousarray(self.load(rows), dtype=np.float32), self.labels[rows]


class Context:
    """The subset, the model, the budget and the attack runs that several checks share."""

    def __init__(
        self,
        model: LoadedModel,
        dataset: ImageDataset,
        indices: np.ndarray,
        threat: ThreatModel,
        sweep: ModelSweep | None,
        subset: int,
        cancel: CancelCheck | None,
    ) -> None:
        self.model, self.threat, self.sweep, self.cancel = model, threat, sweep, cancel
        self.dataset = dataset
        self.started = time.perf_counter()
        self.budget = Budget.of(sweep, threat, min(subset, len(indices)))
        self.subset = min(subset, self.budget.examples("base", BASE_COST, cap=subset))
        labels = dataset.labels[indices].astype(np.int64)
        self.positions = stratified_subset(labels, self.subset, threat.seed)
        self.x = np.ascontiguousarray(dataset.load(indices[self.positions]), dtype=np.float32)
        self.labels = labels[self.positions]
        self.device = model.info.device
        self.logits = np.asarray(model.reference_logits(self.x), dtype=np.float64)
        self.correct = self.logits.argmax(axis=1) == self.labels
        self.adversarial: list[tuple[float, np.ndarray, np.ndarray]] = []  # (ε, x, x_adv)
        self._kept: Kept | None = None
        self.last_broken_by: list[str | None] | None = None

    def time_left(self) -> float | None:
        """Seconds left of the checks' share of the sweep's time (None: the sweep was not
        timed); the optional parts of a check (Square's later queries, the extra restart)
        run only within it."""
        if self.budget.seconds is None:
            return None
        return TIME_SHARE / CHECKS_SHARE * self.budget.seconds - (
            time.perf_counter() - self.started
        )

    @property
    def n(self) -> int:
        return len(self.positions)

    @property
    def eps_max(self) -> float:
        """The largest ε of the grid that the sweep finished (of the threat model without one)."""
        grid = self.threat.eps
        if self.sweep is not None:
            grid = self.sweep.eps[: self.sweep.eps_done]
        return max(grid, default=0.0)

    @property
    def probe_eps(self) -> float:
        """Where the second attacks look: mid-curve by the sweep, else the largest ε."""
        k = None if self.sweep is None else probe_index(self.sweep)
        return self.eps_max if k is None else float(self.sweep.eps[k])

    def attack(self, attack, eps: float, x: np.ndarray, y: np.ndarray, stream: int, **kw):
        """Run `attack` at ε; returns which examples it broke, and keeps the points it made."""
        if self.cancel is not None and self.cancel():
            raise Cancelled()
        if len(x) == 0:
            return np.zeros(0, dtype=bool)
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64)).to(self.device)
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.threat.seed * 1_000_003 + 104_729 * stream)
        out: AttackResult = attack.perturb(xt, yt, eps, generator=gen, cancel=self.cancel, **kw)
        self.adversarial.append((eps, x, out.x_adv.detach().float().cpu().numpy()))
        self.last_broken_by = out.broken_by
        return out.found.cpu().numpy().astype(bool)

    def kept(self) -> Kept:
        """What the gradient attack left robust at the probe ε: the sweep's own outcome when
        it used a multi-step gradient attack, else a fresh run of the baseline on the subset."""
        if self._kept is None:
            s = self.sweep
            if s is not None and spec(self.threat.attack).multi_step_gradient:
                self._kept = self._kept_by_sweep(s)
            else:
                self._kept = self._kept_by_baseline()
        return self._kept

    def _kept_by_sweep(self, s: ModelSweep) -> Kept:
        eps = self.probe_eps
        breaking = np.nan_to_num(s.breaking_eps, nan=np.inf)
        robust = np.flatnonzero(s.clean_correct & (breaking > eps))
        source = f"the evaluation's {self.threat.attack_label()} on {len(s.indices)} examples"
        return Kept(
            lambda rows: self.dataset.load(s.indices[robust[rows]]),
            s.labels[robust],
            len(s.indices),
            eps,
            source,
        )

    def _kept_by_baseline(self) -> Kept:
        rows = np.flatnonzero(self.correct)
        attack, label, kwargs = self.gradient_attack(self.baseline_threat())
        eps = self.probe_eps
        found = self.attack(attack, eps, self.x[rows], self.labels[rows], 1, **kwargs)
        kept = rows[~found]
        square = None
        if spec(self.threat.attack).is_ensemble and self.last_broken_by is not None:
            square = (square_breaks(self.last_broken_by), self.n)
        x = self.x[kept]
        return Kept(
            lambda r: x[r], self.labels[kept], self.n, eps, f"{label} on {self.n} examples", square
        )

    def baseline_threat(self) -> ThreatModel:
        """The threat's own attack when it is a multi-step gradient attack, else PGD-10."""
        if not spec(self.threat.attack).multi_step_gradient:
            return replace(self.threat, attack="pgd", steps=10, restarts=1, step_size=None)
        return self.threat

    def gradient_attack(self, threat: ThreatModel) -> tuple[Any, str, dict[str, Any]]:
        """The attack a threat model names, its label, and the keywords its `perturb` takes."""
        attack = build_attack(threat, self.model.module)
        return attack, threat.attack_label(), step_options(threat, self.probe_eps)


def square_breaks(broken_by: Iterable[object]) -> int:
    """How many of an ensemble's breaks its Square member made (names as `broken_by` has them)."""
    return sum("square" in str(b).lower() for b in broken_by)


def no_gradients(ctx: Context, name: str) -> CheckResult | None:
    if ctx.model.module is None:
        reason = ctx.model.gradient_unavailable_reason or "the model gives no gradients"
        return skipped(name, reason)
    return None


def preconditions(ctx: Context, name: str) -> CheckResult | None:
    if (skipped := no_gradients(ctx, name)) is not None:
        return skipped
    if ctx.eps_max <= 0:
        return skipped(name, "the ε grid has no ε > 0")
    return None


def stronger(threat: ThreatModel) -> list[ThreatModel]:
    """The same gradient attack with twice the steps and one more restart; for the ensemble,
    its two APGD members so (Square's share is the gradient-free check's business)."""
    more = replace(threat, steps=2 * threat.steps, restarts=threat.restarts + 1)
    members = spec(threat.attack).member_names
    if members:
        return [replace(more, attack=name) for name in members if not spec(name).gradient_free]
    return [more]
