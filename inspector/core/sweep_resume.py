"""A sweep continued from a checkpoint: the saved ε values taken as they are.

A checkpoint (checkpoint.py) holds the ε values a sweep finished and, for the ε in flight,
the examples already attacked there (with their points and predictions). Every example
draws from its own random stream, so attacking only the others gives the results of an
uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inspector.core.attacks.registry import spec
from inspector.core.errors import InspectorError

if TYPE_CHECKING:
    from inspector.core.sweep_record import ModelSweep
    from inspector.core.threat import ThreatModel


@dataclass
class Resumed:
    """Where the sweep goes on: grid point `start`, whose examples `done` need no attack."""

    start: int
    done: np.ndarray  # positions attacked at `start` before the interruption
    saved: ModelSweep | None = None

    def restore_column(self, result: ModelSweep) -> None:
        """After the sweep carried column `start` forward: put back the attacked rows."""
        if self.saved is None or len(self.done) == 0:
            return
        k, rows, saved = self.start, self.done, self.saved
        result.adv_pred[rows, k] = saved.adv_pred[rows, k]
        result.adv_conf[rows, k] = saved.adv_conf[rows, k]
        if saved.adv_probs is not None and result.adv_probs is not None:
            result.adv_probs[rows, k] = saved.adv_probs[rows, k]
        if saved.adv_images is not None and result.adv_images is not None:
            result.adv_images[rows, k] = saved.adv_images[rows, k]


def take_finished(
    result: ModelSweep, saved: ModelSweep, threat: ThreatModel, done: np.ndarray | None
) -> Resumed:
    """Copy a checkpoint's finished ε values into `result`; where and how to go on.

    FMN keeps its search state in memory only: it starts again (it is deterministic, so
    the result is the same). The clean pass was recomputed and must agree with the saved one.
    """
    anew = spec(threat.attack).minimum_norm  # FMN's search state is not checkpointed
    k = 0 if anew else saved.eps_done
    if k == 0 and (done is None or len(done) == 0 or anew):
        return Resumed(0, np.array([], dtype=np.int64))
    if not np.array_equal(saved.clean_pred, result.clean_pred):
        raise InspectorError(
            "the checkpoint's clean predictions differ from this run's: the model or the "
            "data changed since; give another checkpoint folder"
        )
    upto = min(k + 1, len(result.eps))  # column k: rows attacked before the interruption
    result.breaking_eps[:] = saved.breaking_eps
    result.adv_pred[:, :k], result.adv_conf[:, :k] = saved.adv_pred[:, :k], saved.adv_conf[:, :k]
    result.broken_by = None if saved.broken_by is None else saved.broken_by.copy()
    if saved.adv_probs is not None and result.adv_probs is not None:
        result.adv_probs[:, :k] = saved.adv_probs[:, :k]
    if saved.adv_images is not None and result.adv_images is not None:
        result.adv_images[:, :k] = saved.adv_images[:, :k]
    else:
        result.adv_images = None  # not saved: none rather than some
    for key, value in saved.timings.items():
        if key.startswith("attack_seconds@"):
            result.timings[key] = value
    result.eps_done = k
    rows = np.array([], dtype=np.int64) if done is None or upto == k else done
    if k < len(result.eps):  # broken at the ε in flight: attacked already, whatever `done` says
        with np.errstate(invalid="ignore"):
            broken_here = np.flatnonzero(result.breaking_eps == result.eps[k])
        rows = np.union1d(rows, broken_here).astype(np.int64)
    return Resumed(k, rows, saved)
