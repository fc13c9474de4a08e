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
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.threat import DEFAULT_STEP_FACTOR


def true_class_margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Logit of the true class minus the best other logit: negative means misclassified."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.clone()
    others.scatter_(1, y[:, None], float("-inf"))
    return true - others.amax(dim=1)


class _Tracker:
    """Per example, the point to report: first adversarial found, else lowest margin seen.

    Starts empty (margin +inf) so that the first step of restart 0, which evaluates the
    clean point anyway, fills it without an extra forward pass.
    """

    def __init__(self, x: torch.Tensor) -> None:
        self.x = x.clone()
        self.logits: torch.Tensor | None = None
        self.margin = torch.full((x.shape[0],), float("inf"), device=x.device, dtype=torch.float64)
        self.found = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)

    def update(self, rows: torch.Tensor, x: torch.Tensor, logits: torch.Tensor, margin) -> None:
        """Offer candidate points for examples `rows` (indices into the batch)."""
        if self.logits is None:
            self.logits = torch.zeros(
                (self.x.shape[0], logits.shape[1]), dtype=logits.dtype, device=logits.device
            )
        better = (~self.found[rows]) & ((margin < 0) | (margin < self.margin[rows]))
        if bool(better.any()):
            chosen = rows[better]
            self.x[chosen] = x[better]
            self.logits[chosen] = logits[better]
            self.margin[chosen] = margin[better].double()
            self.found[chosen] = margin[better] < 0

    def result(self) -> AttackResult:
        assert self.logits is not None, "no point was evaluated"
        return AttackResult(self.x, self.found, self.logits)


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
        tracker = _Tracker(x)
        all_rows = torch.arange(x.shape[0], device=x.device)
        if eps <= 0:
            with torch.no_grad():
                logits = self.model(x)
            tracker.update(all_rows, x, logits, true_class_margin(logits, y))
            return tracker.result()
        alpha = step_size if step_size is not None else DEFAULT_STEP_FACTOR * eps / self.steps
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
