"""APGD (Croce & Hein 2020): PGD that chooses its own step size, with momentum, L∞ or L2.

"Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free
attacks". Each run starts at a random point of the ε-ball and steps with momentum 0.75 from
step size 2ε; at checkpoints (after 22 % of the steps, then at shrinking intervals down to
6 %) the step size of an example halves, and it restarts from its best point so far, when
its loss rose in at most 75 % of the steps since the last checkpoint, or when the best loss
did not improve and the step size was not halved at the last checkpoint.

Two losses: cross-entropy (APGD-CE) and the targeted DLR loss (APGD-T, one run per target
among the most likely other classes). Same protocol as PGD: batched, rows leave the batch
once broken, the first adversarial point found is kept, `cancel` is checked every step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

from inspector.core.attacks.base import AttackResult, CancelCheck, Cancelled
from inspector.core.attacks.geometry import ascent_direction, clip_to_box, project
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.attacks.tracking import Tracker, true_class_margin

RHO = 0.75  # halve the step when the loss rose in at most this share of the steps
MOMENTUM = 0.75
Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], torch.Tensor]


def ce_loss(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """Per-example cross-entropy of the true class (to be maximised)."""
    return F.cross_entropy(logits, y, reduction="none")


def dlr_targeted_loss(
    logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None
) -> torch.Tensor:
    """Targeted DLR: −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2), invariant to logit scale and shift.

    The denominator needs four classes; with fewer there is no scale to remove, and the
    loss is the plain targeted margin z_t − z_y (its sign is the same: > 0 iff t beats y).
    """
    assert target is not None
    rows = torch.arange(len(y), device=y.device)
    margin = logits[rows, target] - logits[rows, y]
    if logits.shape[1] < 4:
        return margin
    ordered = logits.sort(dim=1, descending=True).values
    scale = ordered[:, 0] - 0.5 * (ordered[:, 2] + ordered[:, 3]) + 1e-12
    return margin / scale


def checkpoint_schedule(steps: int) -> tuple[int, int, int]:
    """First interval, its decrease per checkpoint and its minimum (22 %, 3 %, 6 % of steps)."""
    return max(int(0.22 * steps), 1), max(int(0.03 * steps), 1), max(int(0.06 * steps), 1)


def apgd_start(x: torch.Tensor, norm: str, eps: float, generator=None) -> torch.Tensor:
    """The reference's random start: a point on the ε-sphere (L2) or cube face (L∞), in the box.

    Drawn per row from its own stream (`Streams`), or from a torch generator as given.
    """
    streams = as_streams(generator, x.shape[0], x.device)
    if norm == "linf":
        t = 2 * streams.uniform(tuple(x.shape[1:]), x) - 1
        scale = t.flatten(1).abs().amax(dim=1).clamp_min(1e-12)
    else:
        t = streams.normal(tuple(x.shape[1:]), x)
        scale = t.flatten(1).norm(dim=1).clamp_min(1e-12)
    return clip_to_box(x, eps * t / scale.view(-1, *([1] * (x.dim() - 1))))


@dataclass
class _Run:
    """Per-row state of one APGD run; every field is indexed by row, so rows can be dropped."""

    rows: torch.Tensor  # indices into the whole batch
    x: torch.Tensor
    y: torch.Tensor
    target: torch.Tensor | None
    delta: torch.Tensor
    delta_prev: torch.Tensor
    grad: torch.Tensor
    loss: torch.Tensor
    best_delta: torch.Tensor
    best_grad: torch.Tensor
    best_loss: torch.Tensor
    best_at_check: torch.Tensor
    reduced_at_check: torch.Tensor  # bool
    increases: torch.Tensor  # steps since the last checkpoint at which the loss rose
    step: torch.Tensor  # step size, shaped to broadcast over C, H, W

    def keep(self, mask: torch.Tensor) -> _Run:
        if bool(mask.all()):
            return self
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return _Run(**{k: (v if v is None else v[mask]) for k, v in values.items()})


class _APGDBase:
    """The APGD iteration, shared by APGD-CE and APGD-T."""

    name = "apgd"

    def __init__(self, model: torch.nn.Module, norm: str, steps: int = 100, restarts: int = 1):
        self.model, self.norm, self.steps, self.restarts = model, norm, steps, restarts

    def _evaluate(self, x_adv, y, target, loss_fn: Loss, need_grad: bool):
        """Logits, per-example loss and (when asked) its input gradient at x_adv."""
        x_adv = x_adv.detach().requires_grad_(need_grad)
        with torch.set_grad_enabled(need_grad):
            logits = self.model(x_adv)
            loss = loss_fn(logits, y, target)
            grad = torch.autograd.grad(loss.sum(), x_adv)[0] if need_grad else None
        return logits.detach(), loss.detach(), grad

    def _clean(self, tracker: Tracker, x: torch.Tensor, y: torch.Tensor) -> None:
        with torch.no_grad():
            logits = self.model(x)
        rows = torch.arange(x.shape[0], device=x.device)
        tracker.update(rows, x, logits, true_class_margin(logits, y))

    def _result(self, tracker: Tracker) -> AttackResult:
        result = tracker.result()
        result.broken_by = [self.name if f else None for f in result.found.tolist()]
        return result

    def _run(
        self, tracker, rows, x, y, target, eps, loss_fn, streams: Streams, cancel, start=None
    ) -> None:
        """One APGD run (one restart, one target) on the rows given; updates the tracker.

        `streams` are the rows' own, for this run: its random start depends on nothing else.
        `start` (optional, δ per row, in the ε-ball) replaces the random start where it is
        not zero (the random start is drawn either way, so later draws do not shift).
        """
        delta = apgd_start(x, self.norm, eps, streams)
        if start is not None:
            warm = start.flatten(1).abs().amax(dim=1) > 0
            delta = torch.where(warm.view(-1, *[1] * (x.dim() - 1)), start, delta)
        logits, loss, grad = self._evaluate(x + delta, y, target, loss_fn, True)
        margin = true_class_margin(logits, y)
        tracker.update(rows, (x + delta).detach(), logits, margin)
        shape = (-1, *([1] * (x.dim() - 1)))
        run = _Run(
            rows=rows,
            x=x,
            y=y,
            target=target,
            delta=delta,
            delta_prev=delta,
            grad=grad,
            loss=loss,
            best_delta=delta,
            best_grad=grad,
            best_loss=loss,
            best_at_check=loss,
            reduced_at_check=torch.ones_like(loss, dtype=torch.bool),
            increases=torch.zeros_like(loss),
            step=torch.full_like(loss, 2.0 * eps, dtype=x.dtype).view(shape),
        ).keep(margin >= 0)
        interval, decrease, minimum = checkpoint_schedule(self.steps)
        since_check = 0
        for i in range(self.steps):
            if cancel is not None and cancel():
                raise Cancelled()
            if run.rows.numel() == 0:
                return
            new_delta = self._step(run, eps, 1.0 if i == 0 else MOMENTUM)
            run.delta_prev, run.delta = run.delta, new_delta
            x_adv = run.x + new_delta
            need_grad = i < self.steps - 1
            logits, loss, grad = self._evaluate(x_adv, run.y, run.target, loss_fn, need_grad)
            margin = true_class_margin(logits, run.y)
            tracker.update(run.rows, x_adv, logits, margin)
            self._record(run, loss, grad)
            since_check += 1
            if since_check == interval and i < self.steps - 1:
                self._checkpoint(run, interval)
                since_check, interval = 0, max(interval - decrease, minimum)
            run = run.keep(margin >= 0)

    def _step(self, run: _Run, eps: float, momentum: float) -> torch.Tensor:
        """z = P(δ + η·dir ∇), then δ' = P(δ + a(z − δ) + (1 − a)(δ − δ_prev)); P: ball ∩ box."""
        z = run.delta + run.step * ascent_direction(run.grad, self.norm)
        z = clip_to_box(run.x, project(z, self.norm, eps))
        inertia = run.delta - run.delta_prev
        moved = run.delta + momentum * (z - run.delta) + (1 - momentum) * inertia
        return clip_to_box(run.x, project(moved, self.norm, eps))

    @staticmethod
    def _record(run: _Run, loss: torch.Tensor, grad: torch.Tensor | None) -> None:
        run.increases += (loss > run.loss).to(run.increases.dtype)
        run.loss = loss
        if grad is not None:
            run.grad = grad
        better = loss > run.best_loss
        if bool(better.any()):
            run.best_loss = torch.where(better, loss, run.best_loss)
            run.best_delta = run.best_delta.clone()
            run.best_delta[better] = run.delta[better]
            if grad is not None:
                run.best_grad = run.best_grad.clone()
                run.best_grad[better] = grad[better]

    @staticmethod
    def _checkpoint(run: _Run, interval: int) -> None:
        """Halve the step (and go back to the best point) where progress stalled."""
        oscillating = run.increases <= RHO * interval
        stalled = (~run.reduced_at_check) & (run.best_at_check >= run.best_loss)
        reduce = oscillating | stalled
        run.reduced_at_check, run.best_at_check = reduce, run.best_loss.clone()
        run.increases = torch.zeros_like(run.increases)
        if bool(reduce.any()):
            run.step = torch.where(reduce.view_as(run.step), run.step / 2, run.step)
            run.delta = torch.where(reduce.view(run.step.shape), run.best_delta, run.delta)
            run.grad = torch.where(reduce.view(run.step.shape), run.best_grad, run.grad)


class APGD(_APGDBase):
    """APGD-CE: APGD on the cross-entropy, `restarts` runs from random starts.

    `perturb(..., start=x0)` (a warm start, e.g. the best point found at a smaller ε) begins
    the first run at x0 instead, projected onto the ε-ball; rows where x0 is the clean point
    keep their random start.
    """

    name = "apgd-ce"

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
        start: torch.Tensor | None = None,
    ) -> AttackResult:
        tracker = Tracker(x)
        self._clean(tracker, x, y)
        if eps <= 0:
            return self._result(tracker)
        all_rows = torch.arange(x.shape[0], device=x.device)
        streams = as_streams(generator, x.shape[0], x.device)
        for restart in range(self.restarts):
            rows = all_rows[~tracker.found]
            if rows.numel() == 0:
                break
            run_streams = streams.rows(rows).child(restart)
            xs, ys = x[rows], y[rows]
            warm = None
            if start is not None and restart == 0:
                warm = clip_to_box(xs, project(start[rows].to(xs.dtype) - xs, self.norm, eps))
            self._run(tracker, rows, xs, ys, None, eps, ce_loss, run_streams, cancel, warm)
        return self._result(tracker)


class APGDT(_APGDBase):
    """APGD-T: APGD on the targeted DLR loss, one run per target class (most likely first).

    Targets are the `targets` other classes with the largest clean logits (9 by default,
    at most classes − 1); each target gets `restarts` runs on the rows still robust.
    """

    name = "apgd-t"

    def __init__(
        self,
        model: torch.nn.Module,
        norm: str,
        steps: int = 100,
        restarts: int = 1,
        targets: int = 9,
    ):
        super().__init__(model, norm, steps, restarts)
        self.targets = targets

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        tracker = Tracker(x)
        self._clean(tracker, x, y)
        if eps <= 0:
            return self._result(tracker)
        assert tracker.logits is not None
        order = self._target_order(x, y, tracker.logits)
        k = order.shape[1]
        all_rows = torch.arange(x.shape[0], device=x.device)
        streams = as_streams(generator, x.shape[0], x.device)
        for j in range(k):
            for restart in range(self.restarts):
                rows = all_rows[~tracker.found]
                if rows.numel() == 0:
                    return self._result(tracker)
                target = order[rows, j]
                xs, ys = x[rows], y[rows]
                run = streams.rows(rows).child(j, restart)
                self._run(tracker, rows, xs, ys, target, eps, dlr_targeted_loss, run, cancel)
        return self._result(tracker)

    def _target_order(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """Per row, the classes to target in turn: the most likely other classes first."""
        others = logits.clone()
        others.scatter_(1, y[:, None], float("-inf"))
        k = min(self.targets, others.shape[1] - 1)
        return others.argsort(dim=1, descending=True)[:, :k]
