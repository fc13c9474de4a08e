"""The attack ensemble for audits: APGD-CE, then APGD-T, then Square (Croce & Hein 2020).

Each member attacks only the points the members before it left robust, and the ensemble
reports the point-wise worst case: per example the first adversarial point any member
found, else the point of lowest true-class margin seen; and which member broke it. Three
kinds of attack in a row (gradient with two losses, then gradient-free) make a number that
gradient masking or a badly scaled loss cannot inflate unnoticed. Which attacks an ensemble
runs is its entry in registry.py (`ensemble`, `fast`); this module only runs them.
"""

from __future__ import annotations

import torch

from inspector.core.attacks.base import Attack, AttackResult, CancelCheck
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.attacks.tracking import true_class_margin


class Ensemble:
    """Named attacks run one after another on the points still robust."""

    name = "ensemble"

    def __init__(self, members: list[tuple[str, Attack]]) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one attack")
        self.members = members

    @property
    def member_names(self) -> list[str]:
        return [name for name, _ in self.members]

    def perturb(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        generator: torch.Generator | Streams | None = None,
        cancel: CancelCheck | None = None,
    ) -> AttackResult:
        """Every member in turn on the rows still robust; the point-wise worst case."""
        n = x.shape[0]
        x_adv = x.clone()
        found = torch.zeros(n, dtype=torch.bool, device=x.device)
        margin = torch.full((n,), float("inf"), dtype=torch.float64, device=x.device)
        logits: torch.Tensor | None = None
        broken_by: list[str | None] = [None] * n
        streams = as_streams(generator, n, x.device)
        for member, (name, attack) in enumerate(self.members):
            rows = torch.nonzero(~found).flatten()
            if rows.numel() == 0:
                break
            own = streams.rows(rows)  # the first member draws as it would alone, the others
            own = own.child(member) if member else own  # each from streams of its own
            out = attack.perturb(x[rows], y[rows], eps, generator=own, cancel=cancel)
            out_logits = out.logits.to(device=x.device)
            if logits is None:
                logits = out_logits.new_zeros((n, out_logits.shape[1]))
            out_margin = true_class_margin(out_logits, y[rows]).double()
            take = out.found.to(x.device) | (out_margin < margin[rows])
            chosen = rows[take]
            x_adv[chosen] = out.x_adv.to(x.device, x.dtype)[take]
            logits[chosen] = out_logits[take].to(logits.dtype)
            margin[chosen] = out_margin[take]
            newly = rows[out.found.to(x.device)]
            found[newly] = True
            for i in newly.tolist():
                broken_by[i] = name
        assert logits is not None
        return AttackResult(x_adv, found, logits, broken_by)
