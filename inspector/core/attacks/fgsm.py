"""FGSM (Goodfellow et al. 2015): one step of size ε from the clean point."""

from __future__ import annotations

import torch

from inspector.core.attacks.base import AttackResult, CancelCheck
from inspector.core.attacks.pgd import PGD
from inspector.core.attacks.streams import Streams


class FGSM:
    """Fast gradient (sign) method: PGD with one step of length ε and no random start."""

    def __init__(self, model: torch.nn.Module, norm: str) -> None:
        self._pgd = PGD(model, norm, steps=1, restarts=1)

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        return self._pgd.perturb(x, y, eps, step_size=eps, generator=generator, cancel=cancel)
