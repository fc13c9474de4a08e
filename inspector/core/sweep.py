"""The ε sweep for one model: clean pass, then each ε attacks only the points still robust.

A generator of small immutable events (sweep_events.py) that ends by yielding the record,
a `ModelSweep` (sweep_record.py). Stopping is the caller's business: pass `cancel`
(checked before every clean batch and at every attack step, so a stop takes effect within
one forward pass) and the sweep ends early with the ε values it finished, marked partial.
The batch size asked for is an upper bound: it shrinks to what fits the memory available
(memory.py), recorded in the timings. The clean pass is sweep_passes.py; the ε loop, which
a refine runs too, is eps_loop.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from inspector.core.attacks.base import CancelCheck, Cancelled
from inspector.core.attacks.registry import spec
from inspector.core.data.base import ImageDataset
from inspector.core.eps_loop import EpsLoop, Tally
from inspector.core.errors import InspectorError
from inspector.core.memory import choose_batch_size
from inspector.core.models.base import LoadedModel
from inspector.core.sweep_events import BatchChosen, BatchDone, EpsFinished, Progress
from inspector.core.sweep_passes import (
    CleanPass,
    ImageCache,
    batches,
    example_streams,
    module_logits,
)
from inspector.core.sweep_record import ModelSweep
from inspector.core.sweep_resume import take_finished
from inspector.core.threat import ThreatModel

__all__ = [  # the names the front ends and the tests import from here
    "BatchChosen",
    "BatchDone",
    "EpsFinished",
    "ModelSweep",
    "Progress",
    "example_streams",
    "module_logits",
    "sweep_model",
]

KEEP_ADVERSARIAL_VALUES = 64_000_000  # adversarial images kept (float16) up to this many values


def sweep_model(
    model: LoadedModel,
    dataset: ImageDataset,
    indices: np.ndarray,
    threat: ThreatModel,
    *,
    model_index: int = 0,
    batch_size: int = 128,
    cancel: CancelCheck | None = None,
    resume: ModelSweep | None = None,
    resume_done: np.ndarray | None = None,
) -> Iterator[Progress | BatchChosen | EpsFinished | BatchDone | ModelSweep]:
    """Evaluate one model over the threat model's ε grid; the last item yielded is the result.

    `resume`: this sweep as a checkpoint saved it; its finished ε values are taken as they
    are and the attack goes on from the first unfinished one, without the examples
    `resume_done` attacked there already (checkpoint.py, sweep_resume.py).
    """
    n, grid = len(indices), threat.eps
    labels = dataset.labels[indices].astype(np.int64)
    if n == 0:
        raise InspectorError("no examples to evaluate: the dataset or the subset is empty")
    if labels.max() >= model.info.num_classes or labels.min() < 0:
        raise InspectorError(
            f"the dataset has labels up to {labels.max()} but {model.info.name} has "
            f"{model.info.num_classes} classes; check that model and dataset belong together"
        )
    result = ModelSweep(
        eps=grid,
        indices=indices,
        labels=labels,
        clean_pred=np.zeros(n, dtype=np.int64),
        clean_conf=np.zeros(n),
        adv_pred=np.zeros((n, len(grid)), dtype=np.int64),
        adv_conf=np.zeros((n, len(grid))),
        breaking_eps=np.full(n, np.nan),
        adv_probs=np.zeros((n, len(grid), model.info.num_classes), dtype=np.float32),
    )
    shape = dataset.info.shape
    if n * len(grid) * int(np.prod(shape)) <= KEEP_ADVERSARIAL_VALUES:
        result.adv_images = np.zeros((n, len(grid), *shape), dtype=np.float16)
    images, name = ImageCache(dataset, indices), model.info.name
    started = time.perf_counter()
    choice = choose_batch_size(model, batch_size)
    batch_size = choice.size
    result.timings["batch_size"] = float(batch_size)
    yield BatchChosen(model_index, name, choice)
    needs_gradients = not spec(threat.attack).runs_without_gradients
    clean = CleanPass(model, n, threat, needs_gradients=needs_gradients)
    total = n + n * sum(1 for e in grid if e > 0)
    done = 0
    for positions in batches(np.arange(n), batch_size):
        if cancel is not None and cancel():
            raise Cancelled()
        x = images.get(positions)
        clean.batch(positions, x, labels[positions], int(indices[positions[0]]))
        if result.adv_images is not None:
            result.adv_images[positions] = x.astype(np.float16)[:, None]
        done += len(positions)
        yield Progress(model_index, name, "clean", None, done, total)
    clean.check_conversion()
    result.clean_pred, result.clean_conf, result.clean_probs = clean.pred, clean.conf, clean.probs
    result.certified_radius, result.onnx_max_abs_diff = (
        clean.radius,
        (clean.max_diff if clean.compare_onnx else None),
    )
    result.certificate_note = clean.note
    result.timings["clean_seconds"] = time.perf_counter() - started
    total = n + int(result.clean_correct.sum()) * sum(1 for e in grid if e > 0)
    resumed = take_finished(result, resume, threat, resume_done) if resume is not None else None
    loop = EpsLoop(
        model, threat, result, images, batch_size,
        model_index=model_index, cancel=cancel, checkpointed=True,
    )  # fmt: skip
    start = resumed.start if resumed is not None else 0
    loop.filled[:start] = True  # finished before a resume
    tally = Tally(done + int(result.clean_correct.sum()) * sum(e > 0 for e in grid[:start]), total)
    yield from loop.run(range(start, len(grid)), tally, resumed)
    result.timings["total_seconds"] = time.perf_counter() - started
    yield result
