"""What an attack returns, and the small protocol every attack follows (captum's shape)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch

from inspector.core.attacks.streams import Streams
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


def make_attack(
    name: str,
    model: torch.nn.Module | None,
    norm: str,
    steps: int,
    restarts: int,
    *,
    queries: int = 1000,
    forward: Forward | None = None,
) -> Attack:
    """Build the attack a threat model names.

    `model` is the differentiable module, or None when the model has no gradient path; then
    only the gradient-free attacks can run, through `forward` (e.g. onnxruntime): `square`,
    and `ensemble`, which is then Square alone. `forward` defaults to the module itself.
    """
    from inspector.core.threat import ATTACKS, ENSEMBLES

    if name not in ATTACKS:
        raise InspectorError(f"unknown attack {name!r}: choose one of {', '.join(ATTACKS)}")
    if forward is None and model is not None:
        forward = module_forward(model)
    if name == "square" or (name in ENSEMBLES and model is None):
        if forward is None:
            raise InspectorError(f"{name} needs the model's forward pass or its module")
        from inspector.core.attacks.ensemble import Ensemble
        from inspector.core.attacks.square import Square

        square = Square(forward, norm, queries=queries)
        if name == "square":
            return square
        gradient_free = Ensemble([("square", square)])
        gradient_free.name = name  # "fast" or "ensemble", reduced to Square: say which
        return gradient_free
    if model is None:
        raise InspectorError(f"{name} needs gradients, which this model cannot give")
    return _gradient_attack(name, model, norm, steps, restarts, queries, forward)


def _gradient_attack(name, model, norm, steps, restarts, queries, forward) -> Attack:
    from inspector.core.attacks.apgd import APGD, APGDT
    from inspector.core.attacks.fgsm import FGSM
    from inspector.core.attacks.pgd import PGD

    if name == "fgsm":
        return FGSM(model, norm)
    if name == "pgd":
        return PGD(model, norm, steps=steps, restarts=restarts)
    if name == "apgd-ce":
        return APGD(model, norm, steps=steps, restarts=restarts)
    if name == "apgd-t":
        return APGDT(model, norm, steps=steps, restarts=restarts)
    if name == "fmn":
        from inspector.core.attacks.fmn import FMN

        return FMN(model, norm, steps=steps)
    if name == "fast":
        from inspector.core.attacks.fast import fast_audit

        return fast_audit(model, norm, steps, restarts, queries, forward)
    from inspector.core.attacks.ensemble import Ensemble

    return Ensemble.standard(model, norm, steps, restarts, queries, forward)
