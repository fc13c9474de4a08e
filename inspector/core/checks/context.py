"""What the checks share: the stratified subset, the attacks they run, and what PGD kept.

The checks that compare a second attack with the evaluated one (FGSM, Square, more steps)
run it only on the examples the evaluated attack left robust at the largest ε: taken from
the sweep when there is one (so the verdict is about the reported number), else from a run
of the threat's attack on the subset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from inspector.core.attacks.base import AttackResult, CancelCheck, Cancelled, make_attack
from inspector.core.attacks.pgd import PGD
from inspector.core.checks.result import CheckResult, skipped
from inspector.core.data import stratified_subset
from inspector.core.data.base import ImageDataset
from inspector.core.models.base import LoadedModel
from inspector.core.sweep import ModelSweep
from inspector.core.threat import GRADIENT_FREE, ThreatModel


@dataclass
class Kept:
    """A sample of the examples the gradient attack left robust at the largest ε.

    `weight` is the share of the evaluated examples one sampled example stands for, so a
    count of newly broken examples becomes points of robust accuracy.
    """

    x: np.ndarray
    labels: np.ndarray
    robust: float  # robust accuracy at the largest ε that they make up
    weight: float
    source: str  # which attack left them robust, on which examples
    square_broke: tuple[int, int] | None = None  # ensemble only: (Square's breaks, examples)


class Context:
    """The subset, the model and the attack runs that several checks share."""

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
        self.dataset, self.subset = dataset, subset
        labels = dataset.labels[indices].astype(np.int64)
        self.positions = stratified_subset(labels, subset, threat.seed)
        self.x = np.ascontiguousarray(dataset.load(indices[self.positions]), dtype=np.float32)
        self.labels = labels[self.positions]
        self.device = model.info.device
        self.logits = np.asarray(model.reference_logits(self.x), dtype=np.float64)
        self.correct = self.logits.argmax(axis=1) == self.labels
        self.adversarial: list[tuple[float, np.ndarray, np.ndarray]] = []  # (ε, x, x_adv)
        self._kept: Kept | None = None
        self.last_broken_by: list[str | None] | None = None

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
        """What the gradient attack left robust at the largest ε: the sweep's own outcome when
        it used a multi-step gradient attack (sampled down to `subset`), else a fresh run of
        the baseline attack on the subset."""
        if self._kept is None:
            s = self.sweep
            if s is not None and self.threat.attack not in ("fgsm", *GRADIENT_FREE):
                self._kept = self._kept_by_sweep(s)
            else:
                self._kept = self._kept_by_baseline()
        return self._kept

    def _kept_by_sweep(self, s: ModelSweep) -> Kept:
        robust = np.flatnonzero(s.clean_correct & np.isnan(s.breaking_eps))
        sample = robust
        if len(robust) > self.subset:
            rng = np.random.default_rng(self.threat.seed)
            sample = np.sort(rng.choice(robust, self.subset, replace=False))
        x = np.asarray(self.dataset.load(s.indices[sample]), dtype=np.float32)
        total = len(s.indices)
        weight = len(robust) / max(1, len(sample)) / total
        source = f"the evaluation's {self.threat.attack_label()} on {total} examples"
        return Kept(x, s.labels[sample], len(robust) / total, weight, source)

    def _kept_by_baseline(self) -> Kept:
        rows = np.flatnonzero(self.correct)
        attack, label, kwargs = self.gradient_attack(self.baseline_threat())
        found = self.attack(attack, self.eps_max, self.x[rows], self.labels[rows], 1, **kwargs)
        kept = rows[~found]
        source = f"{label} on {self.n} examples"
        square = None
        if self.threat.attack == "ensemble" and self.last_broken_by is not None:
            square = (sum("square" in str(b).lower() for b in self.last_broken_by), self.n)
        robust = len(kept) / self.n
        return Kept(self.x[kept], self.labels[kept], robust, 1 / self.n, source, square)

    def baseline_threat(self) -> ThreatModel:
        """The threat's own attack when it is a multi-step gradient attack, else PGD-10."""
        if self.threat.attack in ("fgsm", *GRADIENT_FREE):
            return replace(self.threat, attack="pgd", steps=10, restarts=1, step_size=None)
        return self.threat

    def gradient_attack(self, threat: ThreatModel) -> tuple[Any, str, dict[str, Any]]:
        """The attack a threat model names, its label, and the keywords its `perturb` takes."""
        module, norm = self.model.module, threat.norm
        if threat.attack == "pgd":
            pgd = PGD(module, norm, steps=threat.steps, restarts=threat.restarts)
            return pgd, threat.attack_label(), {"step_size": threat.step_for(self.eps_max)}
        attack = make_attack(
            threat.attack, module, norm, threat.steps, threat.restarts, queries=threat.queries
        )
        return attack, threat.attack_label(), {}


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
    if threat.attack == "ensemble":
        return [replace(more, attack=name) for name in ("apgd-ce", "apgd-t")]
    return [more]
