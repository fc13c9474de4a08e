"""The fast audit: APGD-CE, APGD-T on MALT-ranked targets, then Square (issue 18).

MALT (Melamed et al., NeurIPS 2024) ranks the target classes of a point by a linear estimate
of the distance to each class's decision boundary, (z_y − z_t) / ‖∇ₓ(z_y − z_t)‖_*, with
‖·‖_* the dual norm (L1 for L∞, L2 for L2), and runs targeted APGD only on the few best.
The ensemble's APGD-T runs on the 9 most likely classes; here it runs on 3 ranked ones, and
each APGD member runs once (restarts still only touch the points left robust). The audit's
members, in order, are its entry in registry.py.
"""

from __future__ import annotations

import torch

from inspector.core.attacks.apgd import APGDT

CANDIDATES = 20  # classes ranked per point: the most likely others, one backward each


class MaltAPGDT(APGDT):
    """APGD-T whose targets are ranked by MALT's linear boundary-distance estimate."""

    name = "apgd-t"

    def _target_order(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Per row, the `targets` candidate classes with the smallest estimated distance."""
        others = logits.clone()
        others.scatter_(1, y[:, None], float("-inf"))
        m = min(CANDIDATES, others.shape[1] - 1)
        candidates = others.argsort(dim=1, descending=True)[:, :m]
        scores = torch.empty(candidates.shape, dtype=torch.float64, device=x.device)
        rows = torch.arange(x.shape[0], device=x.device)
        point = x.detach().requires_grad_(True)
        with torch.enable_grad():
            z = self.model(point)
            for j in range(m):
                gap = z[rows, y] - z[rows, candidates[:, j]]
                (grad,) = torch.autograd.grad(gap.sum(), point, retain_graph=j < m - 1)
                dual = 1 if self.norm == "linf" else 2
                size = grad.flatten(1).norm(p=dual, dim=1).double().clamp_min(1e-12)
                scores[:, j] = gap.detach().double() / size
        k = min(self.targets, m)
        best = scores.argsort(dim=1)[:, :k]
        return candidates.gather(1, best)
