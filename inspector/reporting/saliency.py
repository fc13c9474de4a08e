"""Saliency for the report's galleries: what is asked for, what comes back, and the wording.

Audits store no maps, so a report gets them from a `GallerySaliency`: the command line
computes them through the core on the models the results name (reporting/saliency_maps.py),
the window hands over the maps it has already cached. Either way they are asked only for
the examples a gallery shows (a few per model), clean and adversarial, for one target
class per example, and a model that cannot give them answers with one line saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# the older form: saliency(model_index, positions) -> maps [N, H, W] or [N, C, H, W], clean only
SaliencyFn = Callable[[int, np.ndarray], np.ndarray]
TARGET_WORDS = "the true class"  # boundary errors: the true class is also the clean prediction


@dataclass(frozen=True)
class MapRequest:
    """The examples one model's gallery shows, and the images it shows them with."""

    model_index: int
    positions: np.ndarray  # into the model's sweep
    dataset_indices: np.ndarray
    targets: np.ndarray  # the class each map explains (the true label)
    eps_index: int  # the gallery's grid point (the adversarial images are from there)
    clean: list[np.ndarray | None]  # C×H×W float32 in [0, 1] per example
    adversarial: list[np.ndarray | None]


@dataclass(frozen=True)
class ExampleMaps:
    """One example's maps, H×W (|attribution| summed over channels), any scale."""

    clean: np.ndarray | None
    adversarial: np.ndarray | None = None


@dataclass(frozen=True)
class MapAnswer:
    """Per requested example its maps (None: not available); `note` says in one line why
    this model has none at all (then every entry is None)."""

    maps: list[ExampleMaps | None]
    note: str | None = None

    @classmethod
    def refused(cls, count: int, note: str) -> MapAnswer:
        return cls([None] * count, note)


class GallerySaliency(Protocol):
    """Where a report's maps come from."""

    method: str  # a key of inspector.core.saliency.METHODS, or "" when unknown

    def maps(self, request: MapRequest) -> MapAnswer: ...


def channel_total(maps: np.ndarray) -> np.ndarray:
    """[N, C, H, W] attributions as one H×W magnitude per example; [N, H, W] unchanged."""
    maps = np.asarray(maps, dtype=np.float32)
    return np.abs(maps).sum(axis=1) if maps.ndim == 4 else maps


@dataclass(frozen=True)
class FunctionSaliency:
    """The older callable form (clean maps only, method not named) as a GallerySaliency."""

    function: SaliencyFn
    method: str = ""

    def maps(self, request: MapRequest) -> MapAnswer:
        found = channel_total(self.function(request.model_index, request.positions))
        return MapAnswer([ExampleMaps(m) for m in found])


def as_gallery_saliency(
    saliency: GallerySaliency | SaliencyFn | None,
) -> GallerySaliency | None:
    if saliency is None or hasattr(saliency, "maps"):
        return saliency  # type: ignore[return-value]
    return FunctionSaliency(saliency)  # type: ignore[arg-type]


def method_label(method: str) -> str:
    from inspector.core.saliency.methods import METHODS  # torch: only when a report is made

    return METHODS[method].label if method in METHODS else "saliency"


def saliency_caption(method: str, adversarial: bool) -> str:
    """What the galleries' saliency panels are, as the section's introduction says it."""
    shown = "the clean and the adversarial input" if adversarial else "the clean input"
    named = f"{method_label(method)} of {TARGET_WORDS}'s logit" if method else "saliency"
    scale = "one scale per example, " if adversarial else ""
    values = (
        "the last convolution's weighted maps after ReLU, upsampled"
        if method == "gradcam"
        else "absolute attribution summed over channels"
    )
    return (
        f"Saliency: {named} on {shown}, computed for the boundary errors shown here only; "
        f"{values}, {scale}full colour at its 99th percentile (dark low, yellow high)."
    )


def saliency_method_paragraph(saliency: GallerySaliency | None) -> list[str]:
    """The Method section's word on the galleries' maps (nothing without maps)."""
    if saliency is None:
        return []
    named = method_label(saliency.method) if saliency.method else "maps"
    return [
        f"Saliency in the galleries: {named} of the logit of the true class, computed for the "
        "boundary errors the galleries show only, on the images shown (the clean one and, from "
        "audits, the adversarial one). It is not part of any figure above."
    ]
