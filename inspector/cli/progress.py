"""A progress line on stderr: phase, percentage, examples per second, ETA."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from inspector.core.threat import format_eps

if TYPE_CHECKING:  # the sweep imports torch: not for building the parser
    from inspector.core.sweep import Progress


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressLine:
    """Redraws one line at most ten times a second on a terminal; prints phase ends otherwise."""

    def __init__(self, models: int, stream: TextIO = sys.stderr) -> None:
        self.models, self.stream = models, stream
        self.tty = stream.isatty()
        self._model, self._start, self._last_draw = -1, 0.0, 0.0
        self._reported: set[int] = set()

    def update(self, event: Progress) -> None:
        now = time.perf_counter()
        if event.model_index != self._model:
            self._model, self._start = event.model_index, now
        finished = event.phase == "attack" and event.done >= event.total
        if not self.tty:  # a log, not an animation: one line per finished model
            if finished and event.model_index not in self._reported:
                self._reported.add(event.model_index)
                self.stream.write(self._text(event, now) + "\n")
            return
        if finished and event.model_index in self._reported:
            return
        if finished or now - self._last_draw >= 0.1:
            self.stream.write("\r\033[K" + self._text(event, now))
            if finished:
                self._reported.add(event.model_index)
                self.stream.write("\n")
            self.stream.flush()
            self._last_draw = now

    def _text(self, e: Progress, now: float) -> str:
        elapsed = now - self._start
        rate = e.done / elapsed if elapsed > 0 else 0.0
        eta = (e.total - e.done) / rate if rate > 0 else 0.0
        what = {"clean": "clean pass", "checks": "sanity checks", "smoothing": "smoothing"}.get(
            e.phase, f"attack ε={format_eps(e.eps or 0.0)}"
        )
        pct = 100.0 * e.done / max(1, e.total)
        return (
            f"[{e.model_index + 1}/{self.models}] {e.model_name}: {what:<18} {pct:5.1f}% "
            f"{rate:8.0f} ex/s  ETA {_clock(eta)}"
        )
