"""What an attack returns, and the small protocol every attack follows (captum's shape)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from inspector.core.errors import InspectorError


class Cancelled(Exception):
    """Raised inside long work when the caller asked to stop; the caller keeps what finished."""


CancelCheck = Callable[[], bool]


@dataclass
class AttackResult:
    """Per example: the point kept, whether it is adversarial, and the logits there.

    For an example the attack broke, `x_adv` is the first adversarial point found (at any
    step or restart); otherwise it is the point of lowest true-class margin seen.
    """

    x_adv: torch.Tensor
    found: torch.Tensor  # bool [n]
    logits: torch.Tensor  # [n, classes] at x_adv


class Attack(Protocol):
    """`Attack(model, norm, ...).perturb(x, y, eps)`: one call, one batch, one ε."""

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult: ...


def make_attack(name: str, model: torch.nn.Module, norm: str, steps: int, restarts: int) -> Attack:
    """Build the attack a threat model names."""
    from inspector.core.attacks.fgsm import FGSM
    from inspector.core.attacks.pgd import PGD

    if name == "fgsm":
        return FGSM(model, norm)
    if name == "pgd":
        return PGD(model, norm, steps=steps, restarts=restarts)
    raise InspectorError(f"unknown attack {name!r}: choose fgsm or pgd")
