"""What an attack returns, and the small protocol every attack follows (captum's shape)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch

from inspector.core.attacks.streams import Streams


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
    # Per example, the name of the attack that found x_adv (None where none did); None when
    # the attack does not say (single attacks may fill their own name, the ensemble must).
    broken_by: list[str | None] | None = field(default=None)


class Attack(Protocol):
    """`Attack(model, norm, ...).perturb(x, y, eps)`: one call, one batch, one ε."""

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult: ...


Forward = Callable[[torch.Tensor], torch.Tensor]  # a batch in [0, 1] → logits, no gradients


def module_forward(model: torch.nn.Module) -> Forward:
    """A torch module as a gradient-free forward function (for Square)."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(x)

    return forward
