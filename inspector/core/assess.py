"""After a model's sweep: the sanity checks and, when asked, the randomized-smoothing certificate.

Kept apart from evaluate.py so that the evaluation loop only says *when* these run. Both
write into the `ModelResult` as they go, so a cancelled run keeps the checks that finished.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from inspector.core.attacks.base import CancelCheck
from inspector.core.checks import CHECKS, iter_checks
from inspector.core.data.base import ImageDataset
from inspector.core.models.base import LoadedModel
from inspector.core.results import ModelResult
from inspector.core.smoothing import SmoothingSpec, smooth_model
from inspector.core.sweep import Progress, with_faithful_gradients
from inspector.core.threat import ThreatModel

NOISE_BATCH_FACTOR = 8  # noisy copies per forward pass = this × the attack batch size


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
) -> Iterator[Progress]:
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
