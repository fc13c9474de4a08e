"""Refining the ε grid of a finished sweep: attack only at the new ε values.

The sweep's ε loop (eps_loop.py) runs on the new columns alone: at a new ε the attack runs
on the examples not yet broken at or below it. An example it breaks gets that ε as its
breaking ε, and every larger grid point then reports that adversarial point (the balls are
nested), so curves stay monotone. The result is the union
of both runs' findings: an upper bound at least as tight as either. Each model keeps its
sanity checks and smoothing (`assess.refreshed`: only what the new ε values need is redone).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from inspector.core.assess import refreshed
from inspector.core.attacks.base import CancelCheck, Cancelled
from inspector.core.attacks.registry import spec
from inspector.core.data.base import ImageDataset
from inspector.core.eps_loop import EpsLoop, Tally
from inspector.core.errors import InspectorError
from inspector.core.evaluate import dataset_for
from inspector.core.models.base import LoadedModel
from inspector.core.results import EvaluationResults, ModelResult
from inspector.core.sweep_events import EpsFinished, Progress
from inspector.core.sweep_passes import ImageCache
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel


def can_refine(old: ThreatModel, new: ThreatModel) -> bool:
    """Same attack and budget, and the new grid contains the old one plus new points.

    FMN is not refined: its per-example radii already give the rates at any ε
    (`ResultsView.rates_between`); a new grid means a new run.
    """
    same = replace(old, eps=new.eps, num_examples=new.num_examples) == new
    return same and set(old.eps) < set(new.eps) and not spec(new.attack).minimum_norm


def _widen(old: ModelSweep, grid: tuple[float, ...]) -> tuple[ModelSweep, list[int]]:
    """The old results on the new grid (a copy), finished up to its first new point; new
    columns start as copies of their left neighbour."""
    source = [
        max(i for i, e in enumerate(old.eps) if e <= g) if g >= old.eps[0] else 0 for g in grid
    ]
    wide = old.copy()
    wide.eps = grid
    wide.adv_pred, wide.adv_conf = old.adv_pred[:, source], old.adv_conf[:, source]
    wide.adv_probs = None if old.adv_probs is None else old.adv_probs[:, source]
    wide.adv_images = None if old.adv_images is None else old.adv_images[:, source]
    new_points = [k for k, g in enumerate(grid) if g not in old.eps]
    wide.eps_done = min(new_points) if new_points else len(grid)
    return wide, new_points


def widen_to(old: ModelSweep, grid: tuple[float, ...]) -> ModelSweep:
    """Old results on a finer grid, new points not computed yet (shown as partial)."""
    return _widen(old, grid)[0]


def refine_sweep(
    model: LoadedModel,
    dataset: ImageDataset,
    old: ModelSweep,
    threat: ThreatModel,
    *,
    model_index: int = 0,
    batch_size: int = 128,
    cancel: CancelCheck | None = None,
) -> Iterator[Progress | EpsFinished | ModelSweep]:
    """Extend a complete sweep to `threat.eps`; the last item yielded is the refined sweep.

    Each `EpsFinished` snapshot is fenced at the next new point still to attack."""
    if old.partial:
        raise InspectorError("only a complete run can be refined; run it again instead")
    if old.adv_probs is None:
        raise InspectorError("these results lack probabilities (loaded from a file); run again")
    sweep, new_points = _widen(old, tuple(threat.eps))
    filled = np.array([g in old.eps for g in sweep.eps])
    loop = EpsLoop(
        model, threat, sweep, ImageCache(dataset, sweep.indices), batch_size,
        model_index=model_index, cancel=cancel, filled=filled,
    )  # fmt: skip
    attacked = sum(sweep.eps[k] > 0 for k in new_points)
    tally = Tally(0, attacked * int(sweep.clean_correct.sum()))
    if (yield from loop.run(new_points, tally)):
        yield sweep
    # cancelled: no sweep is yielded, and the old one stands untouched


def refine_evaluation(
    models: list[LoadedModel],
    dataset: ImageDataset,
    previous: EvaluationResults,
    threat: ThreatModel,
    *,
    batch_size: int = 128,
    cancel: CancelCheck | None = None,
) -> Iterator[Progress | EpsFinished | EvaluationResults]:
    """Refine every model of a complete evaluation; ends with the refined results.

    If cancelled, the previous results are returned unchanged (nothing half-refined).
    """
    threat = threat.with_examples(previous.threat.num_examples or 0)
    refined: list[ModelResult] = []
    for i, (model, result) in enumerate(zip(models, previous.models, strict=True)):
        view = dataset_for(model, dataset, resize=False)
        last = None
        for item in refine_sweep(
            model, view, result.sweep, threat, model_index=i, batch_size=batch_size, cancel=cancel
        ):
            if isinstance(item, ModelSweep):
                last = item
            else:
                yield item
        if last is None:  # cancelled
            yield previous
            return
        try:  # the checks and smoothing carry over; only the new ε values are judged
            refined.append(refreshed(model, view, threat, result, last, cancel=cancel))
        except Cancelled:
            yield previous
            return
    yield EvaluationResults(threat, previous.dataset, refined, environment=previous.environment)
