"""How far a whole run is: "model k of n", this model's rate and ETA, and the run's ETA.

Qt-free, so the window's status line is tested without a screen. A model's clock starts
when its first progress event arrives; models not started yet are assumed to take as long
as the one running (the demo's models and most audits compare models of one size).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from inspector.core.sweep import Progress


@dataclass(frozen=True)
class RunEstimate:
    model: int  # 1-based
    models: int
    rate: float  # example-evaluations per second, this model
    eta: float  # seconds left, this model
    total_eta: float  # seconds left, the whole run

    def text(self) -> str:
        return (
            f"model {self.model} of {self.models} · ETA {clock(self.eta)} · "
            f"run ETA {clock(self.total_eta)}"
        )


def clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class RunClock:
    """Turns a run's progress events into estimates."""

    def __init__(self, models: int, now: Callable[[], float] = time.perf_counter) -> None:
        self.models, self._now = models, now
        self.started = now()
        self._model, self._model_started = 0, self.started

    @property
    def elapsed(self) -> float:
        return self._now() - self.started

    def update(self, event: Progress) -> RunEstimate:
        now = self._now()
        if event.model_index != self._model:
            self._model, self._model_started = event.model_index, now
        elapsed = max(now - self._model_started, 1e-6)
        rate = event.done / elapsed  # per model: the clock restarts when a model starts
        eta = (event.total - event.done) / rate if rate > 0 else 0.0
        after = max(0, self.models - 1 - event.model_index)
        total = eta + after * (elapsed + eta)
        return RunEstimate(event.model_index + 1, self.models, rate, eta, total)
