"""APGD on several losses of each point at once: one batch of (point, target) copies.

Targeted APGD over k targets is k runs of 100 steps one after another; on a small model
each step costs about the same for 20 rows as for 200 (the per-call overhead dominates on a
CPU, and a GPU is far from full), so k sequential runs cost about k times one. Here every
point is copied once per target (and once for the cross-entropy, when asked), all copies
run one APGD together, and each point keeps its best copy: the first adversarial one, else
the lowest margin. Work spent on copies of a point another copy already broke is the price.

Uses apgd.py's iteration (`_APGDBase._run`) and tracking.py's `Tracker`.
"""

from __future__ import annotations

import torch

from inspector.core.attacks.apgd import _APGDBase, ce_loss, dlr_targeted_loss
from inspector.core.attacks.base import AttackResult, CancelCheck
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.attacks.targets import malt_targets
from inspector.core.attacks.tracking import Tracker, true_class_margin

CE = -1  # the "target" of a cross-entropy copy


def mixed_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy where the target is CE, targeted DLR elsewhere (one batch, two losses)."""
    assert target is not None
    is_ce = target == CE
    dlr = dlr_targeted_loss(logits, y, torch.where(is_ce, y, target))
    return torch.where(is_ce, ce_loss(logits, y, None), dlr)


class MultiAPGD(_APGDBase):
    """APGD on `targets` MALT-ranked targets (after the first `skip`), plus the cross-entropy
    when `with_ce`, all copies of every point in one run."""

    name = "apgd-t"

    def __init__(
        self,
        model: torch.nn.Module,
        norm: str,
        steps: int = 100,
        targets: int = 3,
        skip: int = 0,
        with_ce: bool = False,
    ) -> None:
        super().__init__(model, norm, steps, 1)
        self.targets, self.skip, self.with_ce = targets, skip, with_ce

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        n = x.shape[0]
        with torch.no_grad():
            clean = self.model(x)
        order = malt_targets(self.model, self.norm, x, y, clean, self.targets, self.skip)
        columns = ([torch.full((n,), CE, device=x.device)] if self.with_ce else []) + list(order.T)
        if eps <= 0 or not columns:
            return _clean_result(x, y, clean)
        copies = len(columns)
        streams = as_streams(generator, n, x.device)
        keys = torch.cat([streams.child(c).bits(1)[:, 0] for c in range(copies)])
        big_x, big_y = x.repeat(copies, *([1] * (x.dim() - 1))), y.repeat(copies)
        target = torch.cat(columns)
        tracker = Tracker(big_x)
        tracker.update(
            torch.arange(n * copies, device=x.device),
            big_x,
            clean.repeat(copies, 1),
            true_class_margin(clean, y).repeat(copies),
        )
        rows = torch.nonzero(~tracker.found).flatten()
        self._run(
            tracker,
            rows,
            big_x[rows],
            big_y[rows],
            target[rows],
            eps,
            mixed_loss,
            Streams(keys[rows]),
            cancel,
        )
        return self._best_copy(tracker.result(), y, copies, target)

    @staticmethod
    def _best_copy(big: AttackResult, y: torch.Tensor, copies: int, target) -> AttackResult:
        """Per point, its first adversarial copy, else its copy of lowest margin."""
        n = y.shape[0]
        found = big.found.view(copies, n)
        margin = true_class_margin(big.logits, y.repeat(copies)).double().view(copies, n)
        best = torch.where(found, -torch.inf, margin).argmin(dim=0)
        pick = best * n + torch.arange(n, device=best.device)
        any_found = found.any(dim=0)
        names = ["apgd-ce" if int(target[p]) == CE else "apgd-t" for p in pick.tolist()]
        broken_by = [m if f else None for m, f in zip(names, any_found.tolist(), strict=True)]
        return AttackResult(big.x_adv[pick], any_found, big.logits[pick], broken_by)


def _clean_result(x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> AttackResult:
    found = true_class_margin(logits, y) < 0
    return AttackResult(x.clone(), found, logits, [None] * x.shape[0])
