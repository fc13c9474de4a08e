"""The events a sweep (or a refine) yields while it runs: small, immutable, Qt-free."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inspector.core.memory import BatchChoice
from inspector.core.sweep_record import ModelSweep


@dataclass(frozen=True)
class Progress:
    """How far one model's sweep is; `done`/`total` count example-evaluations."""

    model_index: int
    model_name: str
    phase: str  # "clean" or "attack"
    eps: float | None
    done: int
    total: int


@dataclass(frozen=True)
class BatchChosen:
    """The batch size one model's sweep runs at (memory.py), before any example is done."""

    model_index: int
    model_name: str
    choice: BatchChoice


@dataclass(frozen=True)
class EpsFinished:
    """One more ε is done for one model: a read-only snapshot of its results so far, fenced
    by the ε finished (ModelSweep.snapshot), safe to hand to another thread."""

    model_index: int
    model_name: str
    eps_index: int
    snapshot: ModelSweep


@dataclass(frozen=True)
class BatchDone:
    """One more batch attacked at grid point `eps_index`: `done` are all the positions
    attacked there so far; `snapshot()` gives the results as they stand, the rows of the ε
    in flight included (for checkpoints, written while the worker waits)."""

    model_index: int
    eps_index: int
    done: np.ndarray
    snapshot: Callable[[], ModelSweep]
