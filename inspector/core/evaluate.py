"""One evaluation: open the dataset and the models, sweep each model, collect the results.

The CLI and the window both drive `evaluate()`, a generator of `Progress` events whose
last item is the `EvaluationResults`. A cancelled run still ends with results, holding
the models and ε values that finished, marked partial. While a model is evaluated, Cancel
also reaches inside its forward passes (cancellation.py), not only between attack steps.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from inspector.core.assess import assess_model
from inspector.core.attacks.base import CancelCheck, Cancelled
from inspector.core.cancellation import cancel_inside
from inspector.core.checkpoint import Checkpoint
from inspector.core.data import adapt, open_dataset, stratified_subset
from inspector.core.data.base import ImageDataset
from inspector.core.errors import HintKind, InspectorError
from inspector.core.models import load_model
from inspector.core.models.base import LoadedModel
from inspector.core.results import EvaluationResults, ModelResult, environment
from inspector.core.shards import Shard
from inspector.core.smoothing import SmoothingSpec
from inspector.core.sweep import sweep_model
from inspector.core.sweep_events import BatchChosen, BatchDone, EpsFinished, Progress
from inspector.core.sweep_record import ModelSweep
from inspector.core.threat import ThreatModel


@dataclass(frozen=True)
class ModelRequest:
    """A model file and how to open it."""

    path: str
    name: str | None = None
    arch: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)  # class_names, input_shape, mean, std


@dataclass(frozen=True)
class EvaluationRequest:
    models: tuple[ModelRequest, ...]
    data: str
    threat: ThreatModel
    limit: int | None = None
    batch_size: int = 128
    device: str = "auto"
    trust_code: bool = False
    resize: bool = False
    checks: bool = True  # sanity checks after each model's sweep (checks.py)
    smoothing: SmoothingSpec | None = None  # randomized-smoothing certificate when given
    # one part of the examples (shards.py): checks and smoothing then wait for the merged data
    shard: Shard | None = None
    checkpoint: str | None = None  # a folder: finished ε values saved there (checkpoint.py)
    resume: bool = False  # continue from the checkpoint found there
    checkpoint_seconds: float = 30.0  # within an ε, write after a batch at most this often


def open_models(request: EvaluationRequest, dataset: ImageDataset) -> list[LoadedModel]:
    """Load every model; names must be unique since results are keyed by them."""
    models = [
        load_model(
            m.path,
            device=request.device,
            trust_code=request.trust_code,
            arch=m.arch,
            name=m.name,
            overrides=m.overrides or None,
            fallback_input_shape=dataset.info.shape,
        )
        for m in request.models
    ]
    names = [m.info.name for m in models]
    for i, name in enumerate(names):
        if name in names[:i]:
            models[i].info = replace(models[i].info, name=f"{name} ({i + 1})")
    return models


def dataset_for(model: LoadedModel, dataset: ImageDataset, resize: bool) -> ImageDataset:
    """The dataset as this model sees it: the same, or resized when the user asked for that."""
    expected, found = tuple(model.info.input_shape), tuple(dataset.info.shape)
    if expected == found:
        return dataset
    if not resize or not _adaptable(expected, found):
        shown = "×".join(map(str, found)), "×".join(map(str, expected))
        what = f"the dataset's images are {shown[0]} but {model.info.name} expects {shown[1]}"
        if _adaptable(expected, found):
            raise InspectorError(what, HintKind.RESIZE)
        raise InspectorError(f"{what}; {_shape_advice(expected)}")
    return adapt(dataset, expected)


def _adaptable(expected: tuple[int, ...], found: tuple[int, ...]) -> bool:
    """Whether resizing can fit the images: gray/RGB both sides (adapt's own rule)."""
    return expected[0] in (1, 3) and found[0] in (1, 3)


def _shape_advice(expected: tuple[int, ...]) -> str:
    """What fixes a shape mismatch that resizing cannot (that one is HintKind.RESIZE)."""
    if expected[-1] in (1, 3) and expected[0] not in (1, 3):
        return (
            "that looks like channels-last (N×H×W×C) input, but images are given as "
            "N×C×H×W: export the model to take N×C×H×W (a permute at its input)"
        )
    return f"use images with {expected[0]} channels (only 1 and 3 can be converted)"


def evaluate(
    request: EvaluationRequest, cancel: CancelCheck | None = None
) -> Iterator[Progress | BatchChosen | EpsFinished | EvaluationResults]:
    """Run the whole evaluation; the last item yielded is the results (partial if cancelled).

    `EpsFinished` events carry a copy of a model's results after each ε, so a window can
    fill its table and grow its curves while the run goes on.
    """
    dataset = open_dataset(request.data)
    if len(dataset.labels) == 0:
        raise InspectorError(f"the dataset {request.data} is empty")
    models = open_models(request, dataset)
    yield from evaluate_models(models, dataset, request, cancel)


def evaluate_models(
    models: list[LoadedModel],
    dataset: ImageDataset,
    request: EvaluationRequest,
    cancel: CancelCheck | None = None,
) -> Iterator[Progress | BatchChosen | EpsFinished | EvaluationResults]:
    """Evaluate models that are already loaded (the window loads them when they are added)."""
    indices = stratified_subset(dataset.labels, request.limit, request.threat.seed)
    total = len(indices)
    if request.shard is not None:
        indices = request.shard.take(indices)
    threat = request.threat.with_examples(len(indices))
    views = [dataset_for(m, dataset, request.resize) for m in models]
    shard = request.shard.record(total) if request.shard is not None else None
    saver = _Saver(request, threat, dataset.info, shard)
    saved = saver.start(models, indices)
    finished: list[ModelResult] = []
    for i, (model, view) in enumerate(zip(models, views, strict=True)):
        prior = saved.models[i] if saved is not None and i < len(saved.models) else None
        with cancel_inside(model.module, cancel):  # Cancel lands inside a long forward pass
            go_on = yield from _evaluate_one(
                model, view, indices, threat, request, i, cancel, finished, prior, saver
            )
        if not go_on:
            break
        saver.save(finished)
    env = environment(m.info for m in models)
    yield EvaluationResults(threat, dataset.info, finished, environment=env, shard=shard)


class _Saver:
    """Writes the checkpoint (when the request names a folder) after every finished ε."""

    def __init__(self, request: EvaluationRequest, threat, dataset, shard) -> None:
        self.threat, self.dataset, self.shard, self.request = threat, dataset, shard, request
        self.checkpoint = (
            Checkpoint(request.checkpoint, request.shard, request.checkpoint_seconds)
            if request.checkpoint
            else None
        )
        self.in_flight: np.ndarray | None = None  # the saved ε in flight's attacked examples

    def start(self, models: list[LoadedModel], indices: np.ndarray):
        """The checkpoint's results to continue from (None: start afresh)."""
        if self.checkpoint is None:
            return None
        infos = [m.info for m in models]
        resume = self.request.resume
        saved = self.checkpoint.start(resume, self.threat, self.dataset, infos, indices)
        self.in_flight = self.checkpoint.in_flight(saved) if saved is not None else None
        return saved

    def save(self, models: list[ModelResult], in_flight=None) -> None:
        if self.checkpoint is not None:
            results = EvaluationResults(
                self.threat, self.dataset, list(models), shard=self.shard, incomplete=True
            )
            self.checkpoint.save(results, in_flight)

    def batch_done(self, finished: list[ModelResult], info, event: BatchDone) -> None:
        """Within an ε: write when the last write is old enough (a copy costs memory)."""
        if self.checkpoint is not None and self.checkpoint.due():
            snapshot = ModelResult(info, event.snapshot())
            in_flight = (event.model_index, event.eps_index, event.done.tolist())
            self.save([*finished, snapshot], in_flight)


def _evaluate_one(
    model: LoadedModel,
    view: ImageDataset,
    indices: np.ndarray,
    threat: ThreatModel,
    request: EvaluationRequest,
    index: int,
    cancel: CancelCheck | None,
    finished: list[ModelResult],
    prior: ModelResult | None = None,
    saver: _Saver | None = None,
) -> Generator[Progress | BatchChosen | EpsFinished, None, bool]:
    """Sweep one model into `finished`, then assess it; False when the run stops there.

    `prior`: this model's results from a checkpoint; a complete sweep is kept as it is."""
    if prior is not None and not prior.sweep.partial:
        finished.append(ModelResult(model.info, prior.sweep, prior.checks, prior.smoothing))
        if prior.checks or not request.checks or request.shard is not None:
            return True  # assessed before the interruption (or not to be assessed here)
    else:
        try:
            yield from _sweep_one(model, view, indices, threat, request, index, cancel,
                                  finished, prior, saver)
        except Cancelled:
            return False
    sweep = finished[-1].sweep
    if sweep.partial:
        return False
    if request.shard is not None:
        return True  # checks and smoothing run once, on the merged examples
    try:
        yield from assess_model(
            model,
            view,
            indices,
            threat,
            finished[-1],
            checks=request.checks,
            smoothing=request.smoothing,
            model_index=index,
            batch_size=int(sweep.timings.get("batch_size", request.batch_size)),  # what fits
            cancel=cancel,
        )
    except Cancelled:
        return False
    return True


def _sweep_one(model, view, indices, threat, request, index, cancel, finished, prior, saver):
    """The sweep (continued from `prior` when a checkpoint has it), into `finished`;
    checkpoints written as its ε values and batches finish."""
    for item in sweep_model(
        model,
        view,
        indices,
        threat,
        model_index=index,
        batch_size=request.batch_size,
        cancel=cancel,
        resume=prior.sweep if prior is not None else None,
        resume_done=saver.in_flight if saver is not None else None,
    ):
        if isinstance(item, ModelSweep):
            finished.append(ModelResult(model.info, item))
        elif isinstance(item, BatchDone):  # for the checkpoint only
            if saver is not None:
                saver.batch_done(finished, model.info, item)
        else:
            if isinstance(item, EpsFinished) and saver is not None:
                saver.save([*finished, ModelResult(model.info, item.snapshot)])
            yield item


def run_to_end(request: EvaluationRequest) -> EvaluationResults:
    """Evaluate without progress reporting (tests, scripts)."""
    *_, last = evaluate(request)
    assert isinstance(last, EvaluationResults)
    return last
