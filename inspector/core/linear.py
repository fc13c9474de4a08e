"""Exact robustness of linear (affine) classifiers: the dual-norm rule of the primer.

A multi-class affine model f(x) = Wx + b is robust at (x, y) within radius ε iff for every
j ≠ y: (w_y − w_j)ᵀx + (b_y − b_j) > ε ‖w_y − w_j‖_*, with ‖·‖_* = ‖·‖₁ for an L∞ ball and
‖·‖₂ for an L2 ball. Ignoring the [0, 1] box only enlarges the adversary, so this is a
certified lower bound on robust accuracy (exact when the box does not bind). It is the
ground truth every attack is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DUAL_ORD = {"linf": 1, "l2": 2}
MAX_AFFINE_VALUES = 1 << 24  # classes × input values of W (128 MiB as float64)
JACOBIAN_BATCH_VALUES = 1 << 22  # input values per backward pass of the Jacobian


@dataclass(frozen=True)
class AffineModel:
    """Logits = weight @ x.flatten() + bias."""

    weight: np.ndarray  # [classes, d]
    bias: np.ndarray  # [classes]

    def logits(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1) @ self.weight.T + self.bias


def robustness_radius(model: AffineModel, x: np.ndarray, y: np.ndarray, norm: str) -> np.ndarray:
    """Largest ε at which each example stays correct; 0 for a clean error (ties count as errors)."""
    logits = model.logits(x)
    true = logits[np.arange(len(y)), y]
    radius = np.full(len(y), np.inf)
    for j in range(model.weight.shape[0]):
        diff_w = model.weight[y] - model.weight[j]  # [n, d]
        margin = true - logits[:, j]
        dual = np.linalg.norm(diff_w, ord=DUAL_ORD[norm], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(dual > 0, margin / dual, np.where(margin > 0, np.inf, 0.0))
        r = np.where(j == y, np.inf, r)
        radius = np.minimum(radius, r)
    return np.maximum(radius, 0.0)


def certified_robust(
    model: AffineModel, x: np.ndarray, y: np.ndarray, eps: float, norm: str
) -> np.ndarray:
    """Per example: correct and provably unflippable inside the ε-ball (strict inequality)."""
    radius = robustness_radius(model, x, y, norm)
    correct = model.logits(x).argmax(axis=1) == y
    return correct & (radius > eps)


def _jacobian(module: torch.nn.Module, x0: torch.Tensor, classes: int) -> np.ndarray:
    """∂ logits / ∂ x at x0, one row per class, from batched backward passes."""
    d = x0.numel()
    chunk = max(1, min(classes, JACOBIAN_BATCH_VALUES // d))
    rows = []
    with torch.enable_grad():
        for start in range(0, classes, chunk):
            cls = torch.arange(start, min(classes, start + chunk), device=x0.device)
            x = x0.expand(len(cls), *x0.shape[1:]).clone().requires_grad_(True)
            picked = module(x).gather(1, cls[:, None]).sum()
            (grad,) = torch.autograd.grad(picked, x)
            rows.append(grad.reshape(len(cls), d).double().cpu())
    return torch.cat(rows).numpy()


def extract_affine(
    module: torch.nn.Module, input_shape: tuple[int, ...], device: torch.device | str = "cpu"
) -> AffineModel | None:
    """W and b of the affine map through f(x0) with f's Jacobian at the box centre x0.

    A few batched backward passes (not one forward per input dimension). The result is
    only a candidate: `is_affine_on` (or `certificate.affine_certificate`) must confirm it.
    None when W would be too large.
    """
    d = int(np.prod(input_shape))
    x0 = torch.full((1, *input_shape), 0.5, device=device)
    with torch.inference_mode():
        f0 = module(x0).double().cpu().numpy()[0]
    if f0.size * d > MAX_AFFINE_VALUES:
        return None
    weight = _jacobian(module, x0, f0.size)
    return AffineModel(weight=weight, bias=f0 - 0.5 * weight.sum(axis=1))


def logit_spread(logits: np.ndarray) -> float:
    """How far the logits move across these inputs: the largest per-class range."""
    return float((logits.max(axis=0) - logits.min(axis=0)).max()) if len(logits) else 0.0


def affine_residual(candidate: AffineModel, module_logits: np.ndarray, x: np.ndarray) -> float:
    """Largest |module logit − affine prediction| on these inputs."""
    predicted = candidate.logits(np.asarray(x, dtype=np.float64))
    return float(np.abs(predicted - module_logits).max())


def is_affine_on(
    candidate: AffineModel | None,
    module_logits: np.ndarray,
    x: np.ndarray,
    tolerance: float | None = None,
    rtol: float = 1e-4,
) -> bool:
    """True when the affine map reproduces the module's logits on these inputs.

    The tolerance is absolute (the certificate's, from its probe), or else `rtol` times the
    spread of these logits: how far they move, not how large they are, so that near-constant
    logits cannot pass for an affine fit.
    """
    if candidate is None:
        return False
    if tolerance is None:
        tolerance = rtol * logit_spread(module_logits)
    return affine_residual(candidate, module_logits, x) <= tolerance
