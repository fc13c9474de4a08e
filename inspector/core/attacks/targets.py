"""MALT's target ranking (Melamed et al., NeurIPS 2024): nearest decision boundaries first.

A linear estimate of the distance from x to the boundary between its class y and class t,
(z_y − z_t) / ‖∇ₓ(z_y − z_t)‖_*, with ‖·‖_* the dual norm (L1 for L∞, L2 for L2), over the
most likely other classes (one backward each). Targeted attacks then run only on the few
classes with the smallest estimate, not on the 9 largest logits.
"""

from __future__ import annotations

import torch

CANDIDATES = 20  # classes ranked per point: the most likely others, one backward each
DUAL = {"linf": 1, "l2": 2}


def malt_targets(
    model: torch.nn.Module,
    norm: str,
    x: torch.Tensor,
    y: torch.Tensor,
    logits: torch.Tensor,
    count: int,
    skip: int = 0,
) -> torch.Tensor:
    """Per row, the candidate classes ranked `skip` to `skip + count` by estimated distance
    (fewer where the model has fewer classes: at most classes − 1 in all)."""
    others = logits.clone()
    others.scatter_(1, y[:, None], float("-inf"))
    m = min(CANDIDATES, others.shape[1] - 1)
    candidates = others.argsort(dim=1, descending=True)[:, :m]
    scores = torch.empty(candidates.shape, dtype=torch.float64, device=x.device)
    rows = torch.arange(x.shape[0], device=x.device)
    point = x.detach().requires_grad_(True)
    with torch.enable_grad():
        z = model(point)
        for j in range(m):
            gap = z[rows, y] - z[rows, candidates[:, j]]
            (grad,) = torch.autograd.grad(gap.sum(), point, retain_graph=j < m - 1)
            size = grad.flatten(1).norm(p=DUAL[norm], dim=1).double().clamp_min(1e-12)
            scores[:, j] = gap.detach().double() / size
    best = scores.argsort(dim=1)[:, skip : skip + count]
    return candidates.gather(1, best)
