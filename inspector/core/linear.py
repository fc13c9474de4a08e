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
MAX_AFFINE_INPUTS = 4096  # probing costs one forward pass per input dimension


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


def extract_affine(
    module: torch.nn.Module, input_shape: tuple[int, ...], device: torch.device | str = "cpu"
) -> AffineModel | None:
    """Read W and b off a module by probing f(0) and f(eᵢ); None when the input is too large.

    The result is only a candidate: `is_affine_on` must confirm it on real data.
    """
    d = int(np.prod(input_shape))
    if d > MAX_AFFINE_INPUTS:
        return None
    with torch.inference_mode():
        zero = torch.zeros((1, *input_shape), device=device)
        bias = module(zero).double().cpu()
        rows = []
        for start in range(0, d, 512):
            eye = torch.eye(d, device=device)[start : start + 512].reshape(-1, *input_shape)
            rows.append(module(eye).double().cpu() - bias)
    weight = torch.cat(rows).T.numpy()
    return AffineModel(weight=weight, bias=bias[0].numpy())


def is_affine_on(
    candidate: AffineModel, module_logits: np.ndarray, x: np.ndarray, rtol: float = 1e-4
) -> bool:
    """True when the probed affine map reproduces the module's logits on these inputs."""
    predicted = candidate.logits(x.astype(np.float64))
    scale = max(1.0, float(np.abs(module_logits).max()))
    return bool(np.abs(predicted - module_logits).max() <= rtol * scale)
