"""A number beside the picture: how much of a model's attribution sits on the object.

Rule, per dataset kind:

- digits, mnist (a light digit on a dark background): the object is the digit, i.e. the
  pixels whose grey level exceeds OBJECT_THRESHOLD = 0.2 on the [0, 1] scale. The score
  is the **object share**: Σ|a| over those pixels / Σ|a| over all pixels, with |a| summed
  over channels. A uniform map scores the digit's area fraction (reported as `uniform`).
- other images (cifar10, image folders, npz, converted): no object mask exists, so the
  score is the **edge alignment**: cosine similarity between |a| and the image's own
  Sobel edge magnitude, in [0, 1]. A uniform map's score is reported as `uniform` too.
- tsipras: its "pixels" are features, not a picture: no score (None).

Integrated Gradients from the black baseline gives every black pixel zero attribution by
construction ((x − 0) · ∫ gradient), so its object share on digits is near 1 for any model
and says little; the summary carries that note. The vanilla gradient is the default.

A higher score means the evidence sits on what a person would look at. It is not a proof
of robustness or safety (see ROBUSTNESS.md: "reading human-aligned saliency maps as proof
of safety" is a listed pitfall).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from inspector.core.attacks.base import CancelCheck
from inspector.core.data.base import ImageDataset
from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel
from inspector.core.saliency.attribution import attribute
from inspector.core.saliency.methods import METHODS
from inspector.core.saliency.targets import predict, resolve_target

OBJECT_THRESHOLD = 0.2
MASK_KINDS = ("digits", "mnist")
NO_SCORE_KINDS = ("tsipras",)
BOOTSTRAP_SAMPLES = 2000
LOAD_CHUNK = 1024  # images decoded and explained at a time
CAVEAT = (
    "a higher share means the evidence sits on the digit; it is not a proof of robustness or safety"
)
BASELINE_NOTE = (
    "Integrated Gradients from a black image gives black pixels zero attribution by "
    "construction, so its share on a light-on-dark digit is high for any model"
)
EDGE_CAVEAT = (
    "a higher alignment means the evidence follows the image's edges; "
    "it is not a proof of robustness or safety"
)


def score_kind(dataset_kind: str) -> str | None:
    """ "object_share", "edge_alignment" or None (no meaningful score for this data)."""
    if dataset_kind in MASK_KINDS:
        return "object_share"
    if dataset_kind in NO_SCORE_KINDS:
        return None
    return "edge_alignment"


def object_masks(images: np.ndarray, dataset_kind: str) -> np.ndarray | None:
    """[N, H, W] bool: the digit's pixels (grey > 0.2); None where no mask rule exists."""
    if dataset_kind not in MASK_KINDS:
        return None
    grey = np.asarray(images, dtype=np.float32).mean(axis=1)
    return grey > OBJECT_THRESHOLD


def concentration(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Per example, the share of Σ|attribution| on the mask's pixels (NaN for an all-zero map)."""
    magnitude = np.abs(np.asarray(maps, dtype=np.float64)).sum(axis=1)
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != magnitude.shape:
        raise InspectorError(f"masks {masks.shape} do not match the maps {magnitude.shape}")
    total = magnitude.sum(axis=(1, 2))
    on_object = (magnitude * masks).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, on_object / np.where(total > 0, total, 1.0), np.nan)


def edge_map(images: np.ndarray) -> np.ndarray:
    """[N, H, W] Sobel gradient magnitude of the grey image (edges replicated at the border)."""
    grey = np.asarray(images, dtype=np.float64).mean(axis=1)
    p = np.pad(grey, ((0, 0), (1, 1), (1, 1)), mode="edge")
    gx = (p[:, :-2, 2:] + 2 * p[:, 1:-1, 2:] + p[:, 2:, 2:]) - (
        p[:, :-2, :-2] + 2 * p[:, 1:-1, :-2] + p[:, 2:, :-2]
    )
    gy = (p[:, 2:, :-2] + 2 * p[:, 2:, 1:-1] + p[:, 2:, 2:]) - (
        p[:, :-2, :-2] + 2 * p[:, :-2, 1:-1] + p[:, :-2, 2:]
    )
    return np.hypot(gx, gy)


def edge_alignment(maps: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Per example, cosine similarity of |attribution| with the edge map (NaN if either is 0)."""
    a = np.abs(np.asarray(maps, dtype=np.float64)).sum(axis=1).reshape(len(maps), -1)
    e = edge_map(images).reshape(len(images), -1)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(e, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, (a * e).sum(axis=1) / np.where(norms > 0, norms, 1.0), np.nan)


def scores(maps: np.ndarray, images: np.ndarray, dataset_kind: str) -> np.ndarray | None:
    """The dataset kind's score per example, or None when it has none."""
    kind = score_kind(dataset_kind)
    if kind == "object_share":
        masks = object_masks(images, dataset_kind)
        assert masks is not None
        return concentration(maps, masks)
    if kind == "edge_alignment":
        return edge_alignment(maps, images)
    return None


def uniform_scores(images: np.ndarray, dataset_kind: str) -> np.ndarray | None:
    """What a constant attribution map would score on each image (the chance level)."""
    flat = np.ones((len(images), 1, *np.asarray(images).shape[2:]), dtype=np.float64)
    return scores(flat, images, dataset_kind)


@dataclass(frozen=True)
class ConcentrationSummary:
    """One model's score over the examples: mean with a bootstrap 95 % CI, median, spread."""

    model: str
    method: str
    target: str
    measure: str  # "object_share" or "edge_alignment"
    n: int  # examples with a defined score
    mean: float
    median: float
    std: float
    ci_low: float
    ci_high: float
    uniform: float  # the mean score of a constant map: the level that means "no preference"
    caveat: str
    note: str = ""  # a method-specific warning (Integrated Gradients' black baseline)

    def describe(self) -> str:
        what = (
            "of |attribution| on the digit"
            if self.measure == "object_share"
            else ("alignment of |attribution| with image edges")
        )
        return (
            f"{self.model}: {self.mean:.3f} [95% CI {self.ci_low:.3f}, {self.ci_high:.3f}] {what}"
            f" ({METHODS[self.method].label}, target {self.target}, n={self.n}; "
            f"a uniform map scores {self.uniform:.3f})"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of the mean."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(BOOTSTRAP_SAMPLES, len(values)))
    means = values[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def summarize(
    model: str,
    method: str,
    target: str,
    measure: str,
    values: np.ndarray,
    uniform: np.ndarray,
    note: str = "",
) -> ConcentrationSummary:
    valid = values[np.isfinite(values)]
    if valid.size == 0:
        raise InspectorError(f"{model}: every saliency map was zero, so no score can be given")
    low, high = bootstrap_ci(valid)
    return ConcentrationSummary(
        model=model,
        method=method,
        target=target,
        measure=measure,
        n=int(valid.size),
        mean=float(valid.mean()),
        median=float(np.median(valid)),
        std=float(valid.std(ddof=1)) if valid.size > 1 else 0.0,
        ci_low=low,
        ci_high=high,
        uniform=float(np.nanmean(uniform)),
        caveat=CAVEAT if measure == "object_share" else EDGE_CAVEAT,
        note=note,
    )


def model_concentration(
    model: LoadedModel,
    dataset: ImageDataset,
    indices: np.ndarray,
    method: str = "gradient",
    *,
    target: str = "true",
    batch_size: int = 64,
    seed: int = 0,
    cancel: CancelCheck | None = None,
    **options: Any,
) -> ConcentrationSummary | None:
    """The score over `indices` of `dataset` for one model; None when the data has no score.

    `target` is "true" or "clean" (the adversarial prediction needs an attack: compute the
    maps with `attribute` and score them with `scores` instead).
    """
    measure = score_kind(dataset.info.kind)
    if measure is None:
        return None
    indices = np.asarray(indices, dtype=np.int64)
    values, uniform = [], []
    for start in range(0, len(indices), LOAD_CHUNK):  # bounded memory on large datasets
        part = indices[start : start + LOAD_CHUNK]
        images = dataset.load(part)
        clean = predict(model, images) if target == "clean" else None
        t = resolve_target(
            target, dataset.labels[part], num_classes=model.info.num_classes, clean_pred=clean
        )
        result = attribute(
            model, images, t, method, batch_size=batch_size, seed=seed, cancel=cancel, **options
        )
        values.append(scores(result.maps, images, dataset.info.kind))
        uniform.append(uniform_scores(images, dataset.info.kind))
    if not values:
        raise InspectorError("no examples to score: the list of indices is empty")
    black = method == "integrated_gradients" and float(options.get("baseline", 0.0)) == 0.0
    note = BASELINE_NOTE if black and measure == "object_share" else ""
    return summarize(
        model.info.name,
        method,
        target,
        measure,
        np.concatenate(values),
        np.concatenate(uniform),
        note,
    )
