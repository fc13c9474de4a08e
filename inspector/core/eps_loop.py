"""The one ε loop: grid point after grid point, attack only the examples not broken yet.

Both a sweep (every column in order, from where a checkpoint stopped) and a refine (only the
new columns of a finer grid, `refine.py`) run it. At column k the attack runs on the
clean-correct examples not broken at or below ε_k; an example it breaks gets ε_k as its
breaking ε and, at every later column that already holds a result (a refine's old ones),
that adversarial point (the balls are nested, so curves stay monotone). An example it does
not break keeps the breaking ε it had (a refine: broken only at a larger old ε).

The record is the working state: the loop writes into it in place, column k only, and
hands out `ModelSweep.snapshot()`s fenced by `eps_done`, the first column without a result.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import numpy as np

from inspector.core.adversarial import AdversarialPass
from inspector.core.attacks.base import CancelCheck, Cancelled
from inspector.core.models.base import LoadedModel
from inspector.core.sweep_events import BatchDone, EpsFinished, Progress
from inspector.core.sweep_passes import ImageCache, batches
from inspector.core.sweep_record import ModelSweep
from inspector.core.sweep_resume import Resumed
from inspector.core.threat import ThreatModel

Event = Progress | BatchDone | EpsFinished
NONE = np.array([], dtype=np.int64)


@dataclass
class Tally:
    """Example-evaluations done and to do, for the Progress events."""

    done: int
    total: int


class EpsLoop:
    """One model's attack over columns of its grid, writing into `record`.

    `filled`: the columns that hold a result already (a refine's old grid points, a
    checkpoint's finished ones); `checkpointed`: also yield a `BatchDone` after each batch.
    """

    def __init__(
        self,
        model: LoadedModel,
        threat: ThreatModel,
        record: ModelSweep,
        images: ImageCache,
        batch_size: int,
        *,
        model_index: int = 0,
        cancel: CancelCheck | None = None,
        filled: np.ndarray | None = None,
        checkpointed: bool = False,
    ) -> None:
        self.attack = AdversarialPass(model, threat, record)
        self.name, self.record, self.images = model.info.name, record, images
        self.batch_size, self.model_index, self.cancel = batch_size, model_index, cancel
        self.filled = np.zeros(len(record.eps), bool) if filled is None else filled.copy()
        self.checkpointed = checkpointed

    def targets(self, k: int) -> np.ndarray:
        """Positions of the clean-correct examples not broken at or below ε_k (none at 0)."""
        r, eps = self.record, self.record.eps[k]
        if eps <= 0:
            return NONE
        with np.errstate(invalid="ignore"):
            open_ = np.isnan(r.breaking_eps) | (r.breaking_eps > eps)
        return np.flatnonzero(r.clean_correct & open_)

    def carry_forward(self, k: int) -> None:
        """Column k starts as column k − 1 (the clean point at k = 0): the examples not
        attacked there keep the point they had below."""
        r = self.record
        if k == 0:
            r.adv_pred[:, 0], r.adv_conf[:, 0] = r.clean_pred, r.clean_conf
            if r.adv_probs is not None and r.clean_probs is not None:
                r.adv_probs[:, 0] = r.clean_probs
            return
        r.adv_pred[:, k], r.adv_conf[:, k] = r.adv_pred[:, k - 1], r.adv_conf[:, k - 1]
        if r.adv_probs is not None:
            r.adv_probs[:, k] = r.adv_probs[:, k - 1]
        if r.adv_images is not None:
            r.adv_images[:, k] = r.adv_images[:, k - 1]

    def propagate(self, k: int, positions: np.ndarray) -> None:
        """Examples broken at column k report that point at every later filled column."""
        r = self.record
        for j in np.flatnonzero(self.filled[k + 1 :]) + k + 1:
            r.adv_pred[positions, j] = r.adv_pred[positions, k]
            r.adv_conf[positions, j] = r.adv_conf[positions, k]
            if r.adv_probs is not None:
                r.adv_probs[positions, j] = r.adv_probs[positions, k]
            if r.adv_images is not None:
                r.adv_images[positions, j] = r.adv_images[positions, k]

    def run(
        self, columns: Sequence[int], tally: Tally, resumed: Resumed | None = None
    ) -> Generator[Event, None, bool]:
        """Attack `columns` in order; False when cancelled (the unfinished ε is dropped)."""
        for k in columns:
            finished = yield from self._column(k, tally, resumed)
            if not finished:
                return False
        return True

    def _column(
        self, k: int, tally: Tally, resumed: Resumed | None
    ) -> Generator[Event, None, bool]:
        r, eps = self.record, self.record.eps[k]
        self.carry_forward(k)
        targets, attacked = self.targets(k), [NONE]
        if resumed is not None and k == resumed.start:
            resumed.restore_column(r)
            attacked = [resumed.done]
            targets = np.setdiff1d(targets, resumed.done)
        if eps > 0:
            tally.done += int(r.clean_correct.sum()) - len(targets)  # skipped or done before
        before = r.breaking_eps[targets].copy()
        r.breaking_eps[targets] = np.nan  # the attack sets it where it breaks the example
        started = time.perf_counter()
        try:
            for positions in batches(targets, self.batch_size):
                if self.cancel is not None and self.cancel():
                    raise Cancelled()
                self.attack.batch(k, positions, self.images.get(positions), self.cancel)
                tally.done += len(positions)
                attacked.append(positions)
                if self.checkpointed:
                    done = np.concatenate(attacked)
                    yield BatchDone(self.model_index, k, done, self._in_flight_snapshot)
                yield Progress(self.model_index, self.name, "attack", eps, tally.done, tally.total)
        except Cancelled:
            r.breaking_eps[targets] = before
            r.drop_from(eps)  # the unfinished ε
            return False
        unbroken = np.isnan(r.breaking_eps[targets])
        r.breaking_eps[targets[unbroken]] = before[unbroken]
        self.propagate(k, targets[~unbroken])
        r.timings[f"attack_seconds@{eps:.6g}"] = time.perf_counter() - started
        self.filled[k] = True
        r.eps_done = int(np.argmin(self.filled)) if not self.filled.all() else len(r.eps)
        yield Progress(self.model_index, self.name, "attack", eps, tally.done, tally.total)
        yield EpsFinished(self.model_index, self.name, k, r.snapshot())
        return True

    def _in_flight_snapshot(self) -> ModelSweep:
        return self.record.snapshot(fence=False)
