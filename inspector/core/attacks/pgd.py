"""PGD (Madry et al. 2018): projected gradient ascent on the cross-entropy, L∞ or L2.

Batched and vectorised on the model's device. Examples leave the batch as soon as they
are broken, so work is spent only on points still robust, and the first adversarial point
found at any step or restart is kept: a found adversarial example is never lost.
Restart 0 starts at the clean point; later restarts start uniformly in the ε-ball, drawn
from each example's own stream (streams.py), so the batch never changes a result.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from inspector.core.attacks.base import AttackResult, CancelCheck, Cancelled
from inspector.core.attacks.geometry import (
    ascent_direction,
    clip_to_box,
    project,
    random_start,
)
from inspector.core.attacks.step_size import pgd_step_size
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.attacks.tracking import Tracker, true_class_margin


class PGD:
    """Projected gradient descent on the negative cross-entropy, with restarts."""

    def __init__(
        self,
        model: torch.nn.Module,
        norm: str,
        steps: int = 10,
        restarts: int = 1,
        first_restart: int = 0,
    ):
        self.model = model
        self.norm = norm
        self.steps = steps
        self.restarts = restarts
        self.first_restart = first_restart  # 1: every restart starts at a random point

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        step_size: float | None = None,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        tracker = Tracker(x)
        all_rows = torch.arange(x.shape[0], device=x.device)
        if eps <= 0:
            with torch.no_grad():
                logits = self.model(x)
            tracker.update(all_rows, x, logits, true_class_margin(logits, y))
            return tracker.result()
        alpha = pgd_step_size(eps, self.steps, step_size)
        streams = as_streams(generator, x.shape[0], x.device)
        for restart in range(self.first_restart, self.first_restart + self.restarts):
            rows = all_rows[~tracker.found]
            if rows.numel() == 0:
                break
            xs, ys = x[rows], y[rows]
            delta = (
                torch.zeros_like(xs)
                if restart == 0
                else random_start(xs, self.norm, eps, streams.rows(rows).child(restart))
            )
            self._ascend(tracker, rows, xs, ys, delta, eps, alpha, cancel)
        return tracker.result()

    def _ascend(self, tracker, rows, xs, ys, delta, eps, alpha, cancel) -> None:
        """Run the steps of one restart on the active rows, dropping rows once broken."""
        for step in range(self.steps + 1):
            if cancel is not None and cancel():
                raise Cancelled()
            x_adv = (xs + delta).detach().requires_grad_(step < self.steps)
            with torch.set_grad_enabled(step < self.steps):
                logits = self.model(x_adv)
                margin = true_class_margin(logits.detach(), ys)
                tracker.update(rows, x_adv.detach(), logits.detach(), margin)
                if step == self.steps:
                    return
                keep = margin >= 0
                if not bool(keep.any()):
                    return
                loss = F.cross_entropy(logits, ys, reduction="sum")
                (grad,) = torch.autograd.grad(loss, x_adv)
            if not bool(keep.all()):
                rows, xs, ys, delta, grad = rows[keep], xs[keep], ys[keep], delta[keep], grad[keep]
            step_delta = delta + alpha * ascent_direction(grad, self.norm)
            delta = clip_to_box(xs, project(step_delta, self.norm, eps))
