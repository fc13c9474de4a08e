"""The minimum-norm attack (FMN) in the ε sweep: one search per example, then lookups.

FMN gives each example the smallest perturbation it found that flips the prediction. The
sweep searches once per example, at the first ε > 0 it reaches, keeps that radius and point
(confirmed by the model's own prediction there, by onnxruntime for ONNX), and then every
grid ε is a lookup: broken at ε iff radius ≤ ε. The radius also gives the robust accuracy at
any ε between grid points (`metrics.rates_at` with the radii as breaking ε).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from inspector.core.attacks.base import CancelCheck
from inspector.core.logits import softmax

Judge = Callable[[torch.Tensor], np.ndarray]  # adversarial points → logits (float64, numpy)


class MinimumNormPass:
    """Per example: FMN's radius and point, searched once, read at every grid ε.

    `result` is the sweep's ModelSweep: its `min_norm_radius` is filled here (inf where no
    confirmed flip was found, 0 for natural errors), and at each ε the examples with radius
    ≤ ε get that ε as breaking ε, "fmn" as the attack that broke them and the point's
    prediction as their adversarial prediction.
    """

    def __init__(self, attack, judge: Judge, result) -> None:
        self.attack, self.judge, self.result = attack, judge, result
        n, classes = result.adv_probs.shape[0], result.adv_probs.shape[2]
        self.done = np.zeros(n, dtype=bool)
        self.pred = np.zeros(n, dtype=np.int64)
        self.conf = np.zeros(n)
        self.probs = np.zeros((n, classes), dtype=np.float32)
        self.images: np.ndarray | None = None
        if result.adv_images is not None:
            self.images = np.zeros((n, *result.adv_images.shape[2:]), dtype=np.float16)
        result.min_norm_radius = np.where(result.clean_correct, np.inf, 0.0)

    def batch(
        self,
        k: int,
        positions: np.ndarray,
        x: torch.Tensor,
        y: torch.Tensor,
        generator: torch.Generator | None,
        cancel: CancelCheck | None,
    ) -> None:
        """Search the examples not searched yet, then mark those with radius ≤ ε_k broken."""
        todo = ~self.done[positions]
        if todo.any():
            mask = torch.from_numpy(todo).to(x.device)
            self._search(positions[todo], x[mask], y[mask], generator, cancel)
        r, eps = self.result, self.result.eps[k]
        broken = positions[r.min_norm_radius[positions] <= eps]
        if len(broken) == 0:
            return
        r.adv_pred[broken, k], r.adv_conf[broken, k] = self.pred[broken], self.conf[broken]
        r.adv_probs[broken, k] = self.probs[broken]
        if r.adv_images is not None and self.images is not None:
            r.adv_images[broken, k] = self.images[broken]
        r.breaking_eps[broken] = eps
        r.broken_by[broken] = "fmn"

    def _search(self, positions, x, y, generator, cancel) -> None:
        radius, x_adv = self.attack.minimal_norm(x, y, generator=generator, cancel=cancel)
        probs = softmax(np.asarray(self.judge(x_adv), dtype=np.float64))
        pred = probs.argmax(axis=1)
        radius = radius.detach().double().cpu().numpy()
        confirmed = (pred != self.result.labels[positions]) & np.isfinite(radius)
        self.result.min_norm_radius[positions] = np.where(confirmed, radius, np.inf)
        self.pred[positions], self.conf[positions] = pred, probs.max(axis=1)
        self.probs[positions] = probs
        if self.images is not None:
            self.images[positions] = x_adv.detach().cpu().numpy().astype(np.float16)
        self.done[positions] = True
