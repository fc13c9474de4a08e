"""The fast audit: APGD-CE, APGD-T on MALT-ranked targets, then Square (issue 18).

MALT (Melamed et al., NeurIPS 2024) ranks the target classes of a point by a linear estimate
of the distance to each class's decision boundary, (z_y − z_t) / ‖∇ₓ(z_y − z_t)‖_*, with
‖·‖_* the dual norm (L1 for L∞, L2 for L2), and runs targeted APGD only on the few best.
The ensemble's APGD-T runs on the 9 most likely classes; here it runs on 3 ranked ones, and
each APGD member runs once (restarts still only touch the points left robust).
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
from inspector.core.threat import FAST_TARGETS

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


def unmoved(share: float) -> Select:
    """Rows whose margin the gradient stages lowered by less than `share` of the clean one
    (or not at all): what gradient masking looks like, the points Square is kept for."""

    def select(state: StageState) -> torch.Tensor:
        kept = state.margin >= (1 - share) * state.clean_margin
        return kept | ~torch.isfinite(state.margin)

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
) -> Staged:
    """APGD-CE; APGD-T on 3 MALT-ranked targets; near the boundary a second look (APGD on
    the cross-entropy and 9 ranked targets at once, then FMN); Square where the gradient
    stages could not move the margin."""
    forward = forward or module_forward(model)
    rank = FAST_TARGETS
    stages = [
        Stage("apgd-ce", APGD(model, norm, steps=steps, restarts=restarts), 0),
        Stage("apgd-t", MaltAPGDT(model, norm, steps=steps, restarts=restarts, targets=rank), 1),
    ]
    if near > 0:
        look = MultiAPGD(model, norm, steps, rank + MORE_TARGETS, with_ce=True)
        stages.append(Stage("apgd-t", look, 3, near_boundary(near)))
        stages.append(Stage("fmn", FMN(model, norm, steps=steps), 4, near_boundary(near)))
    if queries > 0:
        stages.append(Stage("square", Square(forward, norm, queries=queries), 2, unmoved(moved)))
    audit = Staged(stages, forward)
    audit.name = "fast"
    return audit
