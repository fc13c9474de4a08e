"""The ε sweep for one model: clean pass, then each ε attacks only the points still robust.

A generator of small immutable `Progress` events that ends by yielding the `ModelSweep`.
Stopping is the caller's business: pass `cancel` (checked before every clean batch and at
every attack step, so a stop takes effect within one forward pass) and the sweep ends
early with the ε values it finished, marked partial. The batch size asked for is an upper
bound: it shrinks to what fits the memory available (memory.py), recorded in the timings.
Every curve is monotone by construction: an example broken at ε stays broken at every
larger ε, since the balls are nested.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from inspector.core.attacks.base import CancelCheck, Cancelled, make_attack
from inspector.core.attacks.base import module_forward as _module_forward
from inspector.core.attacks.streams import Streams
from inspector.core.certificate import NOT_AFFINE_ON_DATA, Certificate, affine_certificate
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.linear import is_affine_on, robustness_radius
from inspector.core.logits import softmax
from inspector.core.memory import BatchChoice, choose_batch_size
from inspector.core.metrics import Rates, curve
from inspector.core.minimum_norm import MinimumNormPass
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import verify_gradients, with_faithful_gradients
from inspector.core.sweep_resume import take_finished
from inspector.core.threat import ENSEMBLES, GRADIENT_FREE, ThreatModel

CACHE_BYTES = 1 << 30  # keep the evaluated images in memory up to this size
KEEP_ADVERSARIAL_VALUES = 64_000_000  # adversarial images kept (float16) up to this many values


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
    """One more ε is done for one model: a copy of its results so far, safe to hand over."""

    model_index: int
    model_name: str
    eps_index: int
    snapshot: ModelSweep


@dataclass(frozen=True)
class BatchDone:
    """One more batch attacked at grid point `eps_index`: `done` are all the positions
    attacked there so far; `snapshot()` copies the results as they stand (for checkpoints:
    called only when one is written, since a copy costs memory)."""

    model_index: int
    eps_index: int
    done: np.ndarray
    snapshot: Callable[[], ModelSweep]


@dataclass
class ModelSweep:
    """Per-example results of one model over the ε grid (positions follow `indices`)."""

    eps: tuple[float, ...]
    indices: np.ndarray  # dataset indices of the evaluated examples
    labels: np.ndarray
    clean_pred: np.ndarray
    clean_conf: np.ndarray
    adv_pred: np.ndarray  # [n, len(eps)]
    adv_conf: np.ndarray  # [n, len(eps)]
    breaking_eps: np.ndarray  # first grid ε at which the attack flipped it; NaN = never
    eps_done: int = 0  # grid points finished; fewer than len(eps) means partial
    certified_radius: np.ndarray | None = None  # exact, when the model is proven affine
    certificate_note: str | None = None  # why a model that looked affine got no certificate
    onnx_max_abs_diff: float | None = None
    timings: dict[str, float] = field(default_factory=dict)
    # Per example, the attack that broke it ("" where none did; the ensemble names its member);
    # None for results files written before it was recorded.
    broken_by: np.ndarray | None = None  # object array of str
    # FMN only: per example the smallest perturbation norm found that flips it, confirmed by
    # the model's prediction at that point (inf: none found; 0: a natural error).
    min_norm_radius: np.ndarray | None = None
    attack_note: str | None = None  # how the attack differed for this model, e.g. Square alone
    # Kept in memory for the window's detail view, not written to the results file:
    clean_probs: np.ndarray | None = None  # [n, classes]
    adv_probs: np.ndarray | None = None  # [n, len(eps), classes]
    adv_images: np.ndarray | None = None  # float16 [n, len(eps), C, H, W]; None when too large

    def copy(self) -> ModelSweep:
        """A deep copy: the worker keeps writing into the original."""
        fields_ = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(self).items()}
        fields_["timings"] = dict(self.timings)
        return ModelSweep(**fields_)

    @property
    def partial(self) -> bool:
        return self.eps_done < len(self.eps)

    @property
    def clean_correct(self) -> np.ndarray:
        return self.clean_pred == self.labels

    @property
    def clean_accuracy(self) -> float:
        return float(self.clean_correct.mean())

    def curve(self) -> list[Rates]:
        return curve(self.clean_correct, self.breaking_eps, self.eps[: self.eps_done])

    def broken_by_counts(self, k: int | None = None) -> dict[str, int]:
        """How many examples each attack broke at grid point k (default: the last one done)."""
        if self.broken_by is None or self.eps_done == 0:
            return {}
        eps = self.eps[self.eps_done - 1 if k is None else k]
        with np.errstate(invalid="ignore"):
            broken = self.clean_correct & (np.nan_to_num(self.breaking_eps, nan=np.inf) <= eps)
        names, counts = np.unique(self.broken_by[broken].astype(str), return_counts=True)
        return {str(a): int(c) for a, c in zip(names, counts, strict=True)}

    def certified_curve(self) -> list[tuple[float, float]] | None:
        if self.certified_radius is None:
            return None
        ok = self.clean_correct
        return [(e, float((ok & (self.certified_radius > e)).mean())) for e in self.eps]


class _Images:
    """The evaluated images by position, decoded once when they fit in memory."""

    def __init__(self, dataset: ImageDataset, indices: np.ndarray) -> None:
        self.dataset, self.indices = dataset, indices
        per_image = int(np.prod(dataset.info.shape)) * 4
        self._cache: np.ndarray | None = None
        self._loaded = np.zeros(len(indices), dtype=bool)
        if per_image * len(indices) <= CACHE_BYTES:
            self._cache = np.empty((len(indices), *dataset.info.shape), dtype=np.float32)

    def get(self, positions: np.ndarray) -> np.ndarray:
        if self._cache is None:
            return self.dataset.load(self.indices[positions])
        missing = positions[~self._loaded[positions]]
        if len(missing):
            self._cache[missing] = self.dataset.load(self.indices[missing])
            self._loaded[missing] = True
        return self._cache[positions]


def _check_logits(logits: np.ndarray, model: LoadedModel, first_index: int) -> None:
    bad = ~np.isfinite(logits).all(axis=1)
    if bad.any():
        raise InspectorError(
            f"model {model.info.name} returned NaN or Inf logits (first at dataset index "
            f"{first_index + int(np.argmax(bad))}); check the model file and its normalisation"
        )
    if logits.ndim != 2 or logits.shape[1] != model.info.num_classes:
        raise InspectorError(
            f"model {model.info.name} returns {logits.shape[-1]} logits but names "
            f"{model.info.num_classes} classes; fix the class names in its metadata"
        )


def module_logits(model: LoadedModel, x: np.ndarray) -> np.ndarray:
    """The torch module's logits on a numpy batch, in float64 (no gradients)."""
    assert model.module is not None
    with torch.inference_mode():
        out = model.module(torch.from_numpy(x).to(model.info.device))
    return out.double().cpu().numpy()


class _CleanPass:
    """Clean predictions, the ONNX conversion check and the exact linear certificate."""

    def __init__(
        self, model: LoadedModel, n: int, threat: ThreatModel, needs_gradients: bool
    ) -> None:
        self.model, self.norm = model, threat.norm
        self.pred = np.zeros(n, dtype=np.int64)
        self.conf = np.zeros(n, dtype=np.float64)
        self.probs = np.zeros((n, model.info.num_classes), dtype=np.float32)
        self.compare_onnx = model.info.backend == "onnx" and model.module is not None
        self.max_diff = 0.0
        self.needs_gradients = needs_gradients
        self.certificate = Certificate(None)
        if threat.certificate and model.module is not None and model.info.backend != "onnx":
            info = model.info
            self.certificate = affine_certificate(
                model.module, info.input_shape, info.num_classes, info.device
            )
        self.affine, self.note = self.certificate.affine, self.certificate.note
        self.radius = np.zeros(n) if self.affine is not None else None

    def batch(self, positions: np.ndarray, x: np.ndarray, labels: np.ndarray, first: int) -> None:
        logits = np.asarray(self.model.reference_logits(x), dtype=np.float64)
        _check_logits(logits, self.model, first)
        probs = softmax(logits)
        self.pred[positions] = probs.argmax(axis=1)
        self.conf[positions] = probs.max(axis=1)
        self.probs[positions] = probs
        if self.compare_onnx:  # recorded in the model's verdict, which gradient users read
            self.max_diff = max(self.max_diff, verify_gradients(self.model, x, logits))
        if self.affine is not None and self.radius is not None:
            if is_affine_on(self.affine, logits, x, tolerance=self.certificate.tolerance):
                self.radius[positions] = robustness_radius(
                    self.affine, x.astype(np.float64), labels, self.norm
                )
            else:
                self.affine, self.radius, self.note = None, None, NOT_AFFINE_ON_DATA

    def check_conversion(self) -> None:
        """Gradient attacks stop here when the model's verdict (fed above) is against them."""
        verdict = self.model.conversion
        if self.compare_onnx and self.needs_gradients and not self.model.differentiable:
            gap = self.max_diff if verdict is None else verdict.largest_gap
            raise InspectorError(
                f"the torch conversion of {self.model.info.name} disagrees with onnxruntime "
                f"(largest relative logit difference {gap:.2g}, the evaluated data included); "
                "gradient attacks are refused for this model (square and ensemble run "
                "Square through onnxruntime alone)"
            )


def _batches(positions: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(positions), size):
        yield positions[start : start + size]


def example_streams(seed: int, eps_index: int, indices: np.ndarray, device) -> Streams:
    """A random stream per (seed, ε, dataset example): a result depends on nothing else, not
    on the batch size, the batch an example lands in, the shard layout or the process count."""
    return Streams.for_examples(seed, indices, device, eps_index)


class _AdversarialPass:
    """Attacks, at one ε after another, the examples still robust.

    Without gradients (an ONNX model with no faithful torch conversion) only Square runs,
    through onnxruntime: as `square`, or as the whole of `ensemble` (noted in the results).
    """

    def __init__(self, model: LoadedModel, threat: ThreatModel, result: ModelSweep) -> None:
        model = with_faithful_gradients(model, result)
        module, reason = model.module, str(model.gradient_unavailable_reason)
        runs_without = threat.attack in GRADIENT_FREE or threat.attack in ENSEMBLES
        if module is None and not runs_without:
            raise InspectorError(
                f"{threat.attack} needs gradients, which {model.info.name} cannot give: {reason}"
            )
        self.model, self.threat, self.result = model, threat, result
        forward = None
        if runs_without:
            forward = (
                _module_forward(module)
                if module is not None
                else model.query_forward(reference_only=True)
            )
        if module is None and threat.attack in ENSEMBLES:
            which = "ensemble" if threat.attack == "ensemble" else "fast audit"
            result.attack_note = f"the {which} ran Square alone: no gradients ({reason})"
        self.attack = make_attack(
            threat.attack,
            module,
            threat.norm,
            threat.steps,
            threat.restarts,
            queries=threat.queries,
            forward=forward,
        )
        self.confirm = model.info.backend == "onnx"  # judge adversarial points by onnxruntime
        if result.broken_by is None:
            result.broken_by = np.full(len(result.labels), "", dtype=object)
        self.minimum_norm = (
            MinimumNormPass(self.attack, self._judge, result) if threat.attack == "fmn" else None
        )

    def _judge(self, x_adv: torch.Tensor) -> np.ndarray:
        """Logits at attack points: onnxruntime for ONNX, else the module (no gradients)."""
        if self.confirm or self.model.module is None:
            return np.asarray(self.model.reference_logits(x_adv.detach().cpu().numpy()))
        with torch.no_grad():
            return self.model.module(x_adv).double().cpu().numpy()

    def still_robust(self) -> np.ndarray:
        r = self.result
        return np.flatnonzero(r.clean_correct & np.isnan(r.breaking_eps))

    def carry_forward(self, k: int) -> None:
        """Examples not attacked at grid point k keep the point they had at k − 1."""
        r = self.result
        if k == 0:
            r.adv_pred[:, 0], r.adv_conf[:, 0] = r.clean_pred, r.clean_conf
            r.adv_probs[:, 0] = r.clean_probs
        else:
            r.adv_pred[:, k], r.adv_conf[:, k] = r.adv_pred[:, k - 1], r.adv_conf[:, k - 1]
            r.adv_probs[:, k] = r.adv_probs[:, k - 1]
            if r.adv_images is not None:
                r.adv_images[:, k] = r.adv_images[:, k - 1]

    def batch(self, k: int, positions: np.ndarray, x: np.ndarray, cancel) -> None:
        r, eps, device = self.result, self.threat.eps[k], self.model.info.device
        xt = torch.from_numpy(x).to(device)
        yt = torch.from_numpy(r.labels[positions]).to(device)
        generator = example_streams(self.threat.seed, k, r.indices[positions], device)
        if self.minimum_norm is not None:
            self.minimum_norm.batch(k, positions, xt, yt, generator, cancel)
            return
        outcome = self.attack.perturb(
            xt, yt, eps, generator=generator, cancel=cancel, **self._step_kwargs(eps)
        )
        if self.confirm:
            logits = np.asarray(self.model.reference_logits(outcome.x_adv.cpu().numpy()))
        else:
            logits = outcome.logits.double().cpu().numpy()
        probs = softmax(logits.astype(np.float64))
        pred = probs.argmax(axis=1)
        r.adv_pred[positions, k], r.adv_conf[positions, k] = pred, probs.max(axis=1)
        r.adv_probs[positions, k] = probs
        if r.adv_images is not None:
            r.adv_images[positions, k] = outcome.x_adv.cpu().numpy().astype(np.float16)
        flipped = pred != r.labels[positions]
        r.breaking_eps[positions[flipped]] = eps
        names = outcome.broken_by or [None] * len(positions)
        for i in np.flatnonzero(flipped):
            r.broken_by[positions[i]] = names[i] or self.threat.attack

    def _step_kwargs(self, eps: float) -> dict:
        return {"step_size": self.threat.step_for(eps)} if self.threat.attack == "pgd" else {}


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
    images, name = _Images(dataset, indices), model.info.name
    started = time.perf_counter()
    choice = choose_batch_size(model, batch_size)
    batch_size = choice.size
    result.timings["batch_size"] = float(batch_size)
    yield BatchChosen(model_index, name, choice)
    runs_without = threat.attack in GRADIENT_FREE or threat.attack in ENSEMBLES
    clean = _CleanPass(model, n, threat, needs_gradients=not runs_without)
    total = n + n * sum(1 for e in grid if e > 0)
    done = 0
    for positions in _batches(np.arange(n), batch_size):
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
    yield from _attack_grid(
        model, threat, result, images, batch_size, cancel, done, total, model_index, resumed
    )
    result.timings["total_seconds"] = time.perf_counter() - started
    yield result


def _attack_grid(
    model, threat, result, images, batch_size, cancel, done, total, model_index, resumed=None
):
    """The ε loop (from where a checkpoint stopped): yields progress; stops quietly, marking
    the result partial, when cancelled."""
    attack = _AdversarialPass(model, threat, result)
    name = model.info.name
    start = resumed.start if resumed is not None else 0
    for k, eps in enumerate(threat.eps):
        if k < start:  # finished before a resume
            if eps > 0:
                done += int(result.clean_correct.sum())
            continue
        attack.carry_forward(k)
        targets = attack.still_robust() if eps > 0 else np.array([], dtype=np.int64)
        attacked = [np.array([], dtype=np.int64)]
        if resumed is not None and k == start:
            resumed.restore_column(result)
            attacked = [resumed.done]
            targets = np.setdiff1d(targets, resumed.done)
        if eps > 0:
            done += int(result.clean_correct.sum()) - len(targets)  # skipped or done before
        started = time.perf_counter()
        try:
            for positions in _batches(targets, batch_size):
                if cancel is not None and cancel():
                    raise Cancelled()
                attack.batch(k, positions, images.get(positions), cancel)
                done += len(positions)
                attacked.append(positions)
                yield BatchDone(model_index, k, np.concatenate(attacked), result.copy)
                yield Progress(model_index, name, "attack", eps, done, total)
        except Cancelled:
            unfinished = result.breaking_eps >= eps
            result.breaking_eps[unfinished] = np.nan  # drop the unfinished ε
            if result.broken_by is not None:
                result.broken_by[unfinished] = ""
            return
        result.timings[f"attack_seconds@{eps:.6g}"] = time.perf_counter() - started
        result.eps_done = k + 1
        yield Progress(model_index, name, "attack", eps, done, total)
        yield EpsFinished(model_index, name, k, result.copy())
