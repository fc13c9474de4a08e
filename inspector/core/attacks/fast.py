"""The fast audit (issue 18): AutoAttack's strength in a fraction of its time, in stages.

1. APGD-CE, one run of 100 steps, on every point.
2. APGD-T on the 3 classes MALT (Melamed et al., NeurIPS 2024; targets.py) puts nearest,
   not on the 9 largest logits, on the points left robust.
3. A second look only where the answer is still open: points whose relative margin
   (margin / (z_π1 − z_π3)) is below 0.1 get APGD on the cross-entropy and on 9 ranked
   targets, all copies in one batch (multi.py), then FMN (minimum-norm, deterministic).
4. Square only as a gradient-masking backstop: on the points whose input gradient is zero
   or not finite, or whose margin the gradient stages lowered by less than 10 %.
Measured against torchattacks' AutoAttack standard and AA-100: README, Benchmarks.
"""

from __future__ import annotations

import torch

from inspector.core.attacks.apgd import APGD, APGDT
from inspector.core.attacks.base import Forward, module_forward
from inspector.core.attacks.fmn import FMN
from inspector.core.attacks.multi import MultiAPGD
from inspector.core.attacks.square import Square
from inspector.core.attacks.staged import Select, Stage, Staged, StageState, relative_margin
from inspector.core.attacks.targets import malt_targets
from inspector.core.attacks.tracking import true_class_margin

NEAR = 0.1  # relative margin under which a point left robust gets the second look
MORE_TARGETS = 6  # the second look's APGD-T: MALT-ranked targets 1 to 3 again, and 4 to 9
MOVED = 0.1  # Square runs where the gradient stages lowered the margin by less than this


class MaltAPGDT(APGDT):
    """APGD-T whose targets are ranked by MALT's linear boundary-distance estimate."""

    name = "apgd-t"

    def __init__(
        self, model, norm: str, steps: int = 100, restarts: int = 1, targets: int = 3, skip: int = 0
    ) -> None:
        super().__init__(model, norm, steps, restarts, targets)
        self.skip = skip  # ranked targets to pass over (a first stage already ran them)

    def _target_order(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Per row, the `targets` candidate classes with the smallest estimated distance."""
        return malt_targets(self.model, self.norm, x, y, logits, self.targets, self.skip)


def near_boundary(limit: float) -> Select:
    """Rows whose relative margin (margin / (z_π1 − z_π3)) is below `limit`: undecided."""

    def select(state: StageState) -> torch.Tensor:
        return relative_margin(state) < limit

    return select


def suspicious(model: torch.nn.Module, share: float) -> Select:
    """Rows that look gradient-masked, the points Square is kept for: the input gradient of
    the true-class margin at the clean point is zero or not finite, or the gradient stages
    lowered the margin by less than `share` of the clean margin."""

    def select(state: StageState) -> torch.Tensor:
        pick = (state.margin >= (1 - share) * state.clean_margin) | ~torch.isfinite(state.margin)
        rows = torch.nonzero(~state.found & ~pick).flatten()
        if rows.numel():
            point = state.x[rows].detach().requires_grad_(True)
            with torch.enable_grad():
                margin = true_class_margin(model(point), state.y[rows])
                (grad,) = torch.autograd.grad(margin.sum(), point)
            size = grad.flatten(1).abs().sum(dim=1)
            pick[rows] = ~torch.isfinite(size) | (size <= 1e-12)
        return pick

    return select


def fast_audit(
    model: torch.nn.Module,
    norm: str,
    steps: int = 100,
    restarts: int = 1,
    queries: int = 1000,
    forward: Forward | None = None,
    *,
    near: float = NEAR,
    moved: float = MOVED,
    targets: int = 3,
    warm: bool = False,
) -> Staged:
    """APGD-CE; APGD-T on 3 MALT-ranked targets; near the boundary a second look (APGD on
    the cross-entropy and 9 ranked targets at once, then FMN); Square where the gradient
    stages could not move the margin."""
    forward = forward or module_forward(model)
    rank = targets  # the registry's FAST_TARGETS
    stages = [
        Stage("apgd-ce", APGD(model, norm, steps=steps, restarts=restarts), 0, warm=warm),
        Stage("apgd-t", MaltAPGDT(model, norm, steps=steps, restarts=restarts, targets=rank), 1),
    ]
    if near > 0:
        look = MultiAPGD(model, norm, steps, rank + MORE_TARGETS, with_ce=True)
        stages.append(Stage("apgd-t", look, 3, near_boundary(near), second_look=True))
        fmn = FMN(model, norm, steps=steps)
        stages.append(Stage("fmn", fmn, 4, near_boundary(near), second_look=True))
    if queries > 0:
        stages.append(
            Stage("square", Square(forward, norm, queries=queries), 2, suspicious(model, moved))
        )
    audit = Staged(stages, forward)
    audit.name = "fast"
    return audit
