"""Square attack (Andriushchenko et al. 2020): query-efficient black-box random search.

Needs only logits, never gradients, so it runs on ONNX models through onnxruntime alone and
is blind to gradient masking. Each step changes one random square of every image still
searched (L∞: to a vertex of the ε-ball, signs drawn per example; L2: the paper's centred
bump update) and keeps the change where the margin loss (true logit minus best other)
drops. Rows leave the batch once broken, so queries are spent only on points still robust.
Budget: at most `queries` forward passes per example, counting the clean check and the
starting point.
"""

from __future__ import annotations

import torch

from inspector.core.attacks.base import AttackResult, CancelCheck, Cancelled, Forward
from inspector.core.attacks.pgd import true_class_margin
from inspector.core.attacks.square_steps import (
    l2_proposal,
    l2_start,
    linf_proposal,
    linf_start,
    p_fraction,
    square_side,
)
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.errors import InspectorError


class _Search:
    """Every example's current point (`x_full`, `logits_full`, `margin_full`) and the rows
    still searched (`rows`). A broken row leaves `rows`, so its first adversarial point is
    never overwritten.
    """

    def __init__(self, x: torch.Tensor, logits: torch.Tensor, margin: torch.Tensor) -> None:
        self.x_full, self.logits_full, self.margin_full = x.clone(), logits.clone(), margin.clone()
        self.rows = torch.nonzero(margin >= 0).flatten()

    def offer(self, rows: torch.Tensor, x: torch.Tensor, logits: torch.Tensor, margin) -> None:
        """Keep each candidate whose margin is lower than the row's current one."""
        better = margin < self.margin_full[rows]
        if bool(better.any()):
            chosen = rows[better]
            self.x_full[chosen] = x[better]
            self.logits_full[chosen] = logits[better].to(self.logits_full.dtype)
            self.margin_full[chosen] = margin[better].to(self.margin_full.dtype)
        self.rows = rows[self.margin_full[rows] >= 0]


class Square:
    """`Square(forward, norm, queries, p_init).perturb(x, y, eps)`: random search in the ε-ball."""

    def __init__(
        self, forward: Forward, norm: str, queries: int = 1000, p_init: float = 0.8
    ) -> None:
        if norm not in ("linf", "l2"):
            raise InspectorError(f"unknown norm {norm!r} for the Square attack: choose linf or l2")
        if queries < 1 or not 0 < p_init <= 1:
            raise InspectorError("Square needs queries ≥ 1 and 0 < p_init ≤ 1")
        self.forward, self.norm, self.queries, self.p_init = forward, norm, queries, p_init
        self.queries_used: torch.Tensor | None = None  # per example, after perturb

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        if x.dim() != 4:
            raise InspectorError("the Square attack needs NCHW image batches")
        with torch.no_grad():
            return self._run(x, y, eps, generator, cancel)

    def _margin(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.forward(x)
        return logits, true_class_margin(logits, y)

    def _run(self, x, y, eps, gen, cancel) -> AttackResult:
        _check(cancel)
        streams = as_streams(gen, x.shape[0], x.device)
        clean_logits, clean_margin = self._margin(x, y)
        search = _Search(x, clean_logits, clean_margin)
        used = torch.ones(x.shape[0], dtype=torch.long, device=x.device)
        if eps > 0 and self.queries >= 2 and search.rows.numel() > 0:
            rows = search.rows
            start_streams = streams.rows(rows).child(0)
            start = (linf_start if self.norm == "linf" else l2_start)(x[rows], eps, start_streams)
            logits, margin = self._margin(start, y[rows])
            used[rows] += 1
            # the search walks from the starting point even where the clean margin is lower
            search.x_full[rows], search.logits_full[rows] = start, logits.to(clean_logits.dtype)
            search.margin_full[rows] = margin.to(clean_margin.dtype)
            search.rows = rows[margin >= 0]
            self._search(search, x, y, eps, streams, cancel, used)
        self.queries_used = used
        return _report(x, clean_logits, clean_margin, search)

    def _search(self, search: _Search, x, y, eps, streams: Streams, cancel, used) -> None:
        iterations = self.queries - 2
        shape = tuple(x.shape[1:])
        for i in range(iterations):
            _check(cancel)
            rows = search.rows
            if rows.numel() == 0:
                return
            p = p_fraction(self.p_init, i, iterations)
            step = streams.rows(rows).child(1, i)  # each row's own draw for iteration i
            if self.norm == "linf":
                s = square_side(p, shape)
                proposal = linf_proposal(x[rows], search.x_full[rows], eps, s, step)
            else:
                s = square_side(p, shape, minimum=3, odd=True)
                proposal = l2_proposal(x[rows], search.x_full[rows], eps, s, step)
            logits, margin = self._margin(proposal, y[rows])
            used[rows] += 1
            search.offer(rows, proposal, logits, margin)


def _check(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled()


def _report(x, clean_logits, clean_margin, search: _Search) -> AttackResult:
    """First adversarial point found, else the lower-margin of the clean and searched points."""
    use_clean = clean_margin < search.margin_full
    keep = use_clean.view(-1, *([1] * (x.dim() - 1)))
    x_adv = torch.where(keep, x, search.x_full)
    logits = torch.where(use_clean[:, None], clean_logits, search.logits_full)
    margin = torch.where(use_clean, clean_margin, search.margin_full)
    return AttackResult(x_adv, margin < 0, logits)
