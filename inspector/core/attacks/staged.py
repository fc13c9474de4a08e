"""Attacks run in stages, each on the rows a rule picks from what the stages before it found.

The ensemble runs every member on every point still robust. A staged attack spends its
budget where it can change the answer: a stage's `select` sees, per example, whether it is
broken, the lowest true-class margin seen, the logits there and at the clean point, and
names the rows the stage should attack (e.g. only points near the boundary, or only points
whose margin the gradient attacks could not move). The point-wise worst case is kept as in
the ensemble: the first adversarial point any stage found, else the lowest margin seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from inspector.core.attacks.base import Attack, AttackResult, CancelCheck
from inspector.core.attacks.streams import Streams, as_streams
from inspector.core.attacks.tracking import true_class_margin


@dataclass
class StageState:
    """What the stages so far left, per example of the batch (read-only for `select`)."""

    found: torch.Tensor  # bool [n]
    margin: torch.Tensor  # float64 [n]: lowest true-class margin seen (clean point included)
    logits: torch.Tensor  # [n, classes] at the kept point
    clean_margin: torch.Tensor  # float64 [n]
    x: torch.Tensor  # the clean batch
    y: torch.Tensor


Select = Callable[[StageState], torch.Tensor]  # → bool [n]: rows this stage attacks


def still_robust(state: StageState) -> torch.Tensor:
    """Every row no stage has broken yet (the ensemble's rule)."""
    return ~state.found


@dataclass
class Stage:
    """One attack under a name (what `broken_by` says), on the rows `select` picks.

    `tag` keeps the stage's random streams apart from every other stage's; a `second_look`
    stage re-examines a few points and is not listed among the members; a `warm` stage takes
    the caller's warm start (`perturb(..., start=)`, an attack that accepts one).
    """

    name: str
    attack: Attack
    tag: int
    select: Select = still_robust
    second_look: bool = False
    warm: bool = False


def relative_margin(state: StageState) -> torch.Tensor:
    """Margin over the spread of the top logits, z_π1 − z_π3 (DLR's scale; ≥ 3 classes),
    so one threshold means the same on a model whose logits are 10× larger."""
    margin, logits = state.margin, state.logits
    if logits.shape[1] < 3:
        return margin
    ordered = logits.sort(dim=1, descending=True).values.double()
    return margin / (ordered[:, 0] - ordered[:, 2]).clamp_min(1e-12)


class Staged:
    """Stages run in order, each on the rows its rule selects among those still robust."""

    name = "staged"

    def __init__(self, stages: list[Stage], model_logits: Callable[[torch.Tensor], torch.Tensor]):
        if not stages:
            raise ValueError("a staged attack needs at least one stage")
        self.stages, self.model_logits = stages, model_logits
        # per stage (its name, "(second look)" added for those), in the last call:
        self.last_rows: dict[str, int] = {}  # rows it attacked
        self.last_seconds: dict[str, float] = {}  # its seconds

    @property
    def members(self) -> list[tuple[str, Attack]]:
        """The first stage of each name but the second looks', in order (the members)."""
        first: dict[str, Attack] = {}
        for stage in self.stages:
            if not stage.second_look:
                first.setdefault(stage.name, stage.attack)
        return list(first.items())

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
        start: torch.Tensor | None = None,
    ) -> AttackResult:
        """Every stage in turn on its rows; the point-wise worst case. `start`: per example,
        a point to begin from (e.g. the best one at a smaller ε), for the `warm` stages."""
        n = x.shape[0]
        clean_logits = self.model_logits(x)
        clean_margin = true_class_margin(clean_logits, y).double()
        # misclassified clean: adversarial as they are, and no stage broke them
        state = StageState(
            clean_margin < 0, clean_margin.clone(), clean_logits.clone(), clean_margin, x, y
        )
        x_adv = x.clone()
        broken_by: list[str | None] = [None] * n
        streams = as_streams(generator, n, x.device)
        self.last_rows, self.last_seconds = {}, {}
        for stage in self.stages if eps > 0 else ():
            rows = torch.nonzero(stage.select(state) & ~state.found).flatten()
            label = f"{stage.name} (second look)" if stage.second_look else stage.name
            self.last_rows[label] = self.last_rows.get(label, 0) + int(rows.numel())
            if rows.numel() == 0:
                continue
            own = streams.rows(rows)
            own = own.child(stage.tag) if stage.tag else own
            started = time.perf_counter()
            extra = {"start": start[rows]} if stage.warm and start is not None else {}
            out = stage.attack.perturb(x[rows], y[rows], eps, generator=own, cancel=cancel, **extra)
            spent = time.perf_counter() - started
            self.last_seconds[label] = self.last_seconds.get(label, 0.0) + spent
            out_logits = out.logits.to(device=x.device, dtype=state.logits.dtype)
            out_margin = true_class_margin(out_logits, y[rows]).double()
            found = out.found.to(x.device)
            take = found | (out_margin < state.margin[rows])
            kept = rows[take]
            x_adv[kept] = out.x_adv.to(x.device, x.dtype)[take]
            state.logits[kept] = out_logits[take]
            state.margin[kept] = out_margin[take]
            state.found[rows[found]] = True
            said = out.broken_by or [None] * len(rows)  # a stage may name its own part
            for j in torch.nonzero(found).flatten().tolist():
                broken_by[int(rows[j])] = said[j] or stage.name
        return AttackResult(x_adv, state.found, state.logits, broken_by)
