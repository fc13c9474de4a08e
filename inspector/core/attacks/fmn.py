"""FMN (Pintor et al. 2021): fast minimum-norm adversarial examples, L∞ and L2.

Gives each example a continuous robustness radius (the norm of the smallest adversarial
perturbation found), so robust accuracy can be read at any ε, not only on a grid. Each step
moves δ along the normalised gradient of the logit margin, then projects it onto an ε-ball
whose radius adapts: it jumps to the linearised distance to the boundary until a first
adversarial point is found, then shrinks by (1 − γ) while adversarial and grows by (1 + γ)
while not. Step size α and γ are cosine-annealed; δ stays in [0, 1] − x. Deterministic: it
starts at the clean point and draws no random numbers.
"""

from __future__ import annotations

import math

import torch

from inspector.core.attacks.base import AttackResult, CancelCheck, Cancelled
from inspector.core.attacks.geometry import clip_to_box, perturbation_size
from inspector.core.attacks.tracking import true_class_margin
from inspector.core.errors import InspectorError

_TINY = 1e-12
DUAL_ORD = {"linf": 1, "l2": 2}
# the first step length along the L2-normalised gradient (annealed to 1/100 of it)
DEFAULT_ALPHA = {"linf": 10.0, "l2": 1.0}


def _view(t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return t.view(-1, *([1] * (like.dim() - 1)))


def _project(delta: torch.Tensor, norm: str, radius: torch.Tensor) -> torch.Tensor:
    """Project each δ onto its own ε-ball (a radius per example)."""
    if norm == "linf":
        r = _view(radius, delta)
        return torch.maximum(torch.minimum(delta, r), -r)
    size = delta.flatten(1).norm(dim=1).clamp_min(_TINY)
    return delta * _view((radius / size).clamp(max=1.0), delta)


class _Best:
    """Per example, the smallest-norm adversarial point seen (norm inf while none)."""

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x.clone()
        self.norm = torch.full((x.shape[0],), math.inf, device=x.device, dtype=torch.float64)

    def offer(self, x_adv: torch.Tensor, size: torch.Tensor, margin: torch.Tensor) -> torch.Tensor:
        """Keep adversarial candidates smaller than the best; returns which were adversarial."""
        adversarial = margin < 0
        better = adversarial & (size.double() < self.norm)
        self.norm = torch.where(better, size.double(), self.norm)
        self.x = torch.where(_view(better, x_adv), x_adv, self.x)
        return adversarial


class FMN:
    """`FMN(model, norm, steps).minimal_norm(x, y)`: smallest adversarial perturbation found."""

    def __init__(
        self,
        model: torch.nn.Module,
        norm: str,
        steps: int = 100,
        alpha_init: float | None = None,
        gamma_init: float = 0.05,
        gamma_final: float = 0.001,
    ) -> None:
        if norm not in DUAL_ORD:
            raise InspectorError(f"unknown norm {norm!r} for FMN: choose linf or l2")
        if steps < 1:
            raise InspectorError("FMN needs at least one step")
        self.model, self.norm, self.steps = model, norm, steps
        self.alpha_init = DEFAULT_ALPHA[norm] if alpha_init is None else alpha_init
        self.alpha_final = self.alpha_init / 100
        self.gamma_init, self.gamma_final = gamma_init, gamma_final

    def minimal_norm(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        generator: torch.Generator | None = None,
        cancel: CancelCheck | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per example: ‖x_adv − x‖ of the smallest adversarial point found (inf if none; 0 for
        a clean error) and that point (x where none). `generator` is unused: FMN is deterministic.
        """
        best = _Best(x)
        worst = perturbation_size(torch.maximum(x, 1 - x), self.norm).double()
        delta = torch.zeros_like(x)
        radius = torch.zeros_like(worst)
        found = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        for k in range(self.steps):
            if cancel is not None and cancel():
                raise Cancelled()
            margin, grad = self._margin_and_grad(x, y, delta)
            size = perturbation_size(delta, self.norm).double()
            adversarial = best.offer((x + delta).detach(), size, margin)
            found |= adversarial
            radius = self._next_radius(k, radius, size, margin, grad, adversarial, found, best)
            radius = torch.minimum(radius, worst)
            alpha = self._anneal(self.alpha_init, self.alpha_final, k)
            step = grad / _view(grad.flatten(1).norm(dim=1).clamp_min(_TINY), grad)
            delta = clip_to_box(x, _project(delta - alpha * step, self.norm, radius.to(x.dtype)))
        with torch.no_grad():
            margin = true_class_margin(self.model(x + delta), y)
        best.offer(x + delta, perturbation_size(delta, self.norm).double(), margin)
        return self._confirmed(x, y, best)

    def _margin_and_grad(self, x, y, delta) -> tuple[torch.Tensor, torch.Tensor]:
        point = (x + delta).detach().requires_grad_(True)
        with torch.enable_grad():
            margin = true_class_margin(self.model(point), y)
            (grad,) = torch.autograd.grad(margin.sum(), point)
        return margin.detach(), grad

    def _anneal(self, start: float, end: float, k: int) -> float:
        return end + (start - end) * (1 + math.cos(math.pi * k / self.steps)) / 2

    def _next_radius(self, k, radius, size, margin, grad, adversarial, found, best):
        """Shrink while adversarial, grow once one was found, else jump to the boundary.

        The jump (‖δ‖ plus the linearised distance to the boundary) is never smaller than
        ε(1 + γ): on a locally linear model it lands exactly on the boundary, where float
        rounding may never read as adversarial, and the run would stall there.
        """
        gamma = self._anneal(self.gamma_init, self.gamma_final, k)
        dual = grad.flatten(1).norm(p=DUAL_ORD[self.norm], dim=1).double().clamp_min(_TINY)
        to_boundary = torch.maximum(size + margin.double().abs() / dual, radius * (1 + gamma))
        grown = torch.where(found, radius * (1 + gamma), to_boundary)
        return torch.where(adversarial, torch.minimum(radius * (1 - gamma), best.norm), grown)

    def _confirmed(self, x, y, best: _Best) -> tuple[torch.Tensor, torch.Tensor]:
        """Re-judge the kept points in one batch; a point on the boundary that now reads as
        correct (float noise) is dropped rather than reported as adversarial."""
        with torch.no_grad():
            margin = true_class_margin(self.model(best.x), y)
        holds = torch.isfinite(best.norm) & (margin < 0)
        keep = _view(holds, x)
        points = torch.where(keep, best.x, x)
        norms = torch.where(holds, perturbation_size(points - x, self.norm).double(), math.inf)
        return norms, points

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        """Adversarial iff the minimal norm found is ≤ ε; otherwise the found point projected
        onto the ε-ball (or x when none was found)."""
        norms, points = self.minimal_norm(x, y, generator, cancel)
        within = norms <= eps
        radius = torch.full_like(norms, eps)
        projected = x + clip_to_box(x, _project(points - x, self.norm, radius.to(x.dtype)))
        x_adv = torch.where(_view(within, x), points, projected)
        with torch.no_grad():
            logits = self.model(x_adv)
        found = within & (true_class_margin(logits, y) < 0)
        return AttackResult(x_adv.detach(), found, logits.detach())
