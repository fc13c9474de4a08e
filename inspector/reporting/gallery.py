"""Which examples a report shows, and their images: a deterministic choice from the results.

Boundary errors at the gallery ε come lowest breaking ε first (the most fragile), natural
errors most confident first; ties go to the lower position, so the same results always
give the same gallery. Images come from the audit's stored arrays when present (the clean
image is the ε = 0 slot), else the clean image from the dataset when it can be opened and
still has the hash the results recorded; adversarial images exist only in audits.
Saliency maps of the boundary errors shown are asked of a GallerySaliency (saliency.py),
once per model, with the images shown; results and audits hold none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from inspector.core.attacks.registry import spec
from inspector.core.data import open_dataset
from inspector.core.data.base import DatasetInfo, ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.metrics import broken_at, rates_at
from inspector.core.results import EvaluationResults, ModelResult
from inspector.core.threat import format_eps
from inspector.reporting.saliency import (
    GallerySaliency,
    MapAnswer,
    MapRequest,
    SaliencyFn,
    as_gallery_saliency,
)

PER_GALLERY = 8


@dataclass(frozen=True)
class GalleryExample:
    """One example as a gallery shows it; images are float32 C×H×W in [0, 1] or None."""

    position: int
    index: int  # in the dataset
    true_label: str
    clean_pred: str
    clean_conf: float
    adv_pred: str | None
    adv_conf: float | None
    breaking_eps: float | None
    broken_by: str | None
    clean_image: np.ndarray | None
    adv_image: np.ndarray | None
    saliency: np.ndarray | None = None  # H×W, any scale; the renderer normalises it
    adv_saliency: np.ndarray | None = None  # the same on the adversarial image


@dataclass(frozen=True)
class Gallery:
    model_index: int
    model_name: str
    eps: float
    boundary: list[GalleryExample]
    boundary_total: int
    natural: list[GalleryExample]
    natural_total: int
    saliency_note: str | None = None  # why this model's boundary errors have no maps


def computed_eps_count(results: EvaluationResults) -> int:
    """Grid points every model with results has finished (galleries compare models at one ε);
    a model stopped before its first ε gets an empty gallery rather than blocking the rest."""
    return min((m.sweep.eps_done for m in results.models if m.sweep.eps_done), default=0)


def default_eps_index(results: EvaluationResults) -> int:
    """The computed grid ε nearest the middle of the grid at which some model has a boundary
    error (ties: the smaller ε); the largest computed ε when there are none."""
    done = computed_eps_count(results)
    if done == 0:
        raise InspectorError("the results hold no finished ε value: nothing to report")
    grid = results.threat.eps[:done]
    with_errors = [
        k
        for k, e in enumerate(grid)
        if e > 0
        and any(
            rates_at(m.sweep.clean_correct, m.sweep.breaking_eps, e).boundary_error_rate > 0
            for m in results.models
        )
    ]
    if not with_errors:
        return done - 1
    middle = (grid[0] + grid[-1]) / 2
    return min(with_errors, key=lambda k: (abs(grid[k] - middle), grid[k]))


def eps_index_for(results: EvaluationResults, eps: float | None) -> int:
    """The grid index of a requested gallery ε (which must be a computed grid point)."""
    if eps is None:
        return default_eps_index(results)
    done = computed_eps_count(results)
    grid = results.threat.eps[:done]
    for k, e in enumerate(grid):
        if abs(e - eps) <= 1e-9 * max(1.0, abs(e)):
            return k
    shown = ", ".join(format_eps(e) for e in grid)
    raise InspectorError(
        f"ε {format_eps(eps)} is not a computed grid point of these results; choose one of {shown}"
    )


def open_images(info: DatasetInfo) -> tuple[ImageDataset | None, str | None]:
    """The dataset, if it opens and still matches the recorded hash; else None and why not."""
    try:
        dataset = open_dataset(info.spec)
    except InspectorError as exc:
        return None, f"the dataset could not be opened ({exc})"
    if dataset.info.sha256 != info.sha256:
        return None, f"the dataset {info.spec} has changed since the evaluation (SHA-256 differs)"
    return dataset, None


def boundary_positions(m: ModelResult, eps: float, limit: int = PER_GALLERY) -> np.ndarray:
    s = m.sweep
    found = np.flatnonzero(s.clean_correct & broken_at(s.breaking_eps, eps))
    order = np.lexsort((found, s.breaking_eps[found]))
    return found[order][:limit]


def natural_positions(m: ModelResult, limit: int = PER_GALLERY) -> np.ndarray:
    s = m.sweep
    found = np.flatnonzero(~s.clean_correct)
    order = np.lexsort((found, -s.clean_conf[found]))
    return found[order][:limit]


def _name(classes: tuple[str, ...], label: int) -> str:
    return classes[label] if 0 <= label < len(classes) else str(label)


class _ImageSource:
    """Clean and adversarial images of one model's examples, from wherever they are kept."""

    def __init__(self, m: ModelResult, grid: tuple[float, ...], dataset: ImageDataset | None):
        self.sweep, self.grid, self.dataset = m.sweep, grid, dataset

    def clean(self, position: int) -> np.ndarray | None:
        s = self.sweep
        if s.adv_images is not None and self.grid[0] == 0:
            return s.adv_images[position, 0].astype(np.float32)
        if self.dataset is not None:
            return self.dataset.load(s.indices[position : position + 1])[0].astype(np.float32)
        return None

    def adversarial(self, position: int, k: int) -> np.ndarray | None:
        s = self.sweep
        if s.adv_images is None or k >= s.eps_done:
            return None
        return s.adv_images[position, k].astype(np.float32)


def _example(
    m: ModelResult, source: _ImageSource, position: int, k: int | None, several: bool = False
) -> GalleryExample:
    """One example; `several` says whether the attack had members whose names to show."""
    s, classes = m.sweep, m.info.class_names
    broken_by = getattr(s, "broken_by", None) if several else None
    breaking = float(s.breaking_eps[position])
    return GalleryExample(
        position=int(position),
        index=int(s.indices[position]),
        true_label=_name(classes, int(s.labels[position])),
        clean_pred=_name(classes, int(s.clean_pred[position])),
        clean_conf=float(s.clean_conf[position]),
        adv_pred=None if k is None else _name(classes, int(s.adv_pred[position, k])),
        adv_conf=None if k is None else float(s.adv_conf[position, k]),
        breaking_eps=None if np.isnan(breaking) else breaking,
        broken_by=None if broken_by is None or k is None else (str(broken_by[position]) or None),
        clean_image=source.clean(position),
        adv_image=None if k is None else source.adversarial(position, k),
    )


def _saliency(
    saliency: GallerySaliency | None, m: ModelResult, model_index: int, k: int,
    positions: np.ndarray, examples: list[GalleryExample],
) -> MapAnswer | None:
    """The maps of the examples shown (asked once per model), or None without a source."""
    if saliency is None or len(positions) == 0:
        return None
    request = MapRequest(
        model_index=model_index,
        positions=positions,
        dataset_indices=m.sweep.indices[positions],
        targets=np.asarray(m.sweep.labels[positions], dtype=np.int64),
        eps_index=k,
        clean=[e.clean_image for e in examples],
        adversarial=[e.adv_image for e in examples],
    )
    return saliency.maps(request)


def _with_maps(examples: list[GalleryExample], answer: MapAnswer | None) -> list[GalleryExample]:
    if answer is None:
        return examples
    return [
        e if found is None else replace(e, saliency=found.clean, adv_saliency=found.adversarial)
        for e, found in zip(examples, answer.maps, strict=True)
    ]


def build_gallery(
    results: EvaluationResults,
    model_index: int,
    k: int,
    dataset: ImageDataset | None,
    saliency: GallerySaliency | SaliencyFn | None = None,
    limit: int = PER_GALLERY,
) -> Gallery:
    """One model's gallery at grid point k; saliency for its boundary errors when given."""
    m = results.models[model_index]
    eps = results.threat.eps[k]
    source = _ImageSource(m, results.threat.eps, dataset)
    several = spec(results.threat.attack).is_ensemble
    boundary = boundary_positions(m, eps, limit)
    examples = [_example(m, source, int(p), k, several) for p in boundary]
    answer = _saliency(as_gallery_saliency(saliency), m, model_index, k, boundary, examples)
    natural = natural_positions(m, limit)
    return Gallery(
        model_index=model_index,
        model_name=m.info.name,
        eps=eps,
        boundary=_with_maps(examples, answer),
        boundary_total=int((m.sweep.clean_correct & broken_at(m.sweep.breaking_eps, eps)).sum()),
        natural=[_example(m, source, int(p), None) for p in natural],
        natural_total=int((~m.sweep.clean_correct).sum()),
        saliency_note=None if answer is None else answer.note,
    )


def needs_dataset(results: EvaluationResults) -> bool:
    """Clean images must come from the dataset unless every model stored its ε = 0 images."""
    return not (
        results.threat.eps[0] == 0 and all(m.sweep.adv_images is not None for m in results.models)
    )
