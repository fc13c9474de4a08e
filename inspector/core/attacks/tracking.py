"""What every attack keeps per example: the first adversarial point found, else the best one.

Shared by PGD, APGD (both losses), the ensemble and Square, so that "a found adversarial
example is never lost" is written once: the true-class margin decides, and a point with a
negative margin is kept as soon as it is seen.
"""

from __future__ import annotations

import torch

from inspector.core.attacks.base import AttackResult


def true_class_margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Logit of the true class minus the best other logit: negative means misclassified."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.clone()
    others.scatter_(1, y[:, None], float("-inf"))
    return true - others.amax(dim=1)


class Tracker:
    """Per example, the point to report: first adversarial found, else lowest margin seen.

    Starts empty (margin +inf) so that the first step of restart 0, which evaluates the
    clean point anyway, fills it without an extra forward pass.
    """

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x.clone()
        self.logits: torch.Tensor | None = None
        self.margin = torch.full((x.shape[0],), float("inf"), device=x.device, dtype=torch.float64)
        self.found = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)

    def update(self, rows: torch.Tensor, x: torch.Tensor, logits: torch.Tensor, margin) -> None:
        """Offer candidate points for examples `rows` (indices into the batch)."""
        if self.logits is None:
            self.logits = torch.zeros(
                (self.x.shape[0], logits.shape[1]), dtype=logits.dtype, device=logits.device
            )
        better = (~self.found[rows]) & ((margin < 0) | (margin < self.margin[rows]))
        if bool(better.any()):
            chosen = rows[better]
            self.x[chosen] = x[better]
            self.logits[chosen] = logits[better]
            self.margin[chosen] = margin[better].double()
            self.found[chosen] = margin[better] < 0

    def result(self) -> AttackResult:
        assert self.logits is not None, "no point was evaluated"
        return AttackResult(self.x, self.found, self.logits)
