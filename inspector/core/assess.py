"""After a model's sweep: the sanity checks and, when asked, the randomized-smoothing certificate.

Kept apart from evaluate.py so that the evaluation loop only says *when* these run. Both
write into the `ModelResult` as they go, so a cancelled run keeps the checks that finished.
After a refined ε grid, `refreshed` carries both over to the refined sweep, recomputing only
what the new ε values need.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from inspector.core.attacks.base import CancelCheck
from inspector.core.checks import CHECKS, CheckResult, iter_checks, refresh_checks
from inspector.core.data.base import ImageDataset
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import with_faithful_gradients
from inspector.core.results import ModelResult
from inspector.core.smoothing import SmoothingSpec, radius_grid, smooth_model, smoothing_curve
from inspector.core.sweep_events import Progress
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel

NOISE_BATCH_FACTOR = 8  # noisy copies per forward pass = this × the attack batch size


@dataclass(frozen=True)
class Assessed:
    """A model's checks and smoothing so far, after each one finishes: a window keeps them
    with the partial results it autosaves, so a crash mid-run loses none of them."""

    model_index: int
    checks: tuple[CheckResult, ...]
    smoothing: dict | None = None


def assess_model(
    model: LoadedModel,
    dataset: ImageDataset,
    indices: np.ndarray,
    threat: ThreatModel,
    result: ModelResult,
    *,
    checks: bool = True,
    smoothing: SmoothingSpec | None = None,
    model_index: int = 0,
    batch_size: int = 128,
    cancel: CancelCheck | None = None,
) -> Iterator[Progress | Assessed]:
    """Run the checks (phase "checks") and smoothing (phase "smoothing") into `result`.

    Raises `Cancelled` when `cancel` fires; what finished before stays in `result`.
    """
    name = model.info.name
    if checks:
        yield Progress(model_index, name, "checks", None, 0, len(CHECKS))
        # gradient checks must not run through a conversion the sweep refused
        checked = with_faithful_gradients(model, result.sweep)
        verdicts = iter_checks(checked, dataset, indices, threat, result.sweep, cancel=cancel)
        for done, verdict in enumerate(verdicts, start=1):
            result.checks.append(verdict)
            yield Assessed(model_index, tuple(result.checks), result.smoothing)
            yield Progress(model_index, name, "checks", None, done, len(CHECKS))
    if smoothing is not None:
        for item in smooth_model(
            model,
            dataset,
            indices,
            smoothing,
            threat=threat,
            model_index=model_index,
            batch_size=NOISE_BATCH_FACTOR * batch_size,
            cancel=cancel,
        ):
            if isinstance(item, Progress):
                yield item
            else:
                result.smoothing = item
                yield Assessed(model_index, tuple(result.checks), item)


def refreshed(
    model: LoadedModel,
    dataset: ImageDataset,
    threat: ThreatModel,
    old: ModelResult,
    sweep: ModelSweep,
    *,
    cancel: CancelCheck | None = None,
) -> ModelResult:
    """`old`'s checks and smoothing carried over to its refined `sweep` (on `threat.eps`)."""
    new_columns = [k for k, e in enumerate(sweep.eps) if e not in old.sweep.eps]
    checked = with_faithful_gradients(model, sweep)
    checks = refresh_checks(checked, dataset, threat, sweep, old.checks, new_columns, cancel=cancel)
    return ModelResult(old.info, sweep, checks, _smoothing_on(old.smoothing, sweep, threat))


def _smoothing_on(record: dict | None, sweep: ModelSweep, threat: ThreatModel) -> dict | None:
    """The smoothing record with its curve on the new grid: each example's radius is kept, so
    the certified accuracy at the new ε values needs no new noise samples."""
    if not record or "radius" not in record or "prediction" not in record:
        return record
    spec = SmoothingSpec.from_dict(record["spec"])
    correct = np.asarray(record["prediction"]) == sweep.labels
    curve = smoothing_curve(np.asarray(record["radius"]), correct, radius_grid(spec, threat))
    points = [{"radius": r, "certified_accuracy": a} for r, a in curve]
    return {**record, "curve": points}
