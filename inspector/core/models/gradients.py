"""The one verification step for a model's gradient path, and the one reading of its verdict.

An ONNX model's gradients come from its torch interpretation, not from onnxruntime (the
reference). Whether the two agree is measured here only (`verify_gradients`), recorded in
the model's `ConversionVerdict` (shared by every copy of the model) and judged by the
verdict alone (`ConversionVerdict.faithful`). Every gradient user (the sweep, the checks,
saliency) asks `LoadedModel.gradient_model()`, so a disagreement found anywhere refuses
gradients everywhere afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from inspector.core.models.common import logits_array, one_line

if TYPE_CHECKING:
    from inspector.core.models.base import LoadedModel

CONVERSION_TOLERANCE = 1e-3  # largest |logit gap| / max(1, |logit|) accepted for gradients


def relative_gap(module_logits: np.ndarray, reference_logits: np.ndarray) -> float:
    """Largest |difference| relative to max(1, largest |reference logit|)."""
    if module_logits.size == 0:
        return 0.0
    diff = np.abs(np.asarray(module_logits, np.float64) - reference_logits).max()
    return float(diff / max(1.0, float(np.abs(reference_logits).max())))


@dataclass
class ConversionVerdict:
    """Whether a gradient path that is not the reference forward (ONNX) agrees with it.

    One object per loaded model, shared by every copy (`dataclasses.replace` keeps it):
    `verify_gradients` records every measurement here, whoever made it.
    """

    largest_gap: float = 0.0
    images: int = 0
    tolerance: float = CONVERSION_TOLERANCE

    def record(self, gap: float, images: int) -> None:
        self.largest_gap = max(self.largest_gap, gap)
        self.images += images

    @property
    def faithful(self) -> bool:
        return self.largest_gap <= self.tolerance

    def reason(self) -> str:
        return (
            f"its torch conversion disagrees with onnxruntime (largest relative logit "
            f"difference {self.largest_gap:.2g} over {self.images} image(s))"
        )


class RecordsGap(Protocol):
    """Anything that carries a measured conversion gap (a sweep, a results record)."""

    onnx_max_abs_diff: float | None


def verify_gradients(
    model: LoadedModel, x: np.ndarray, reference: np.ndarray | None = None
) -> float:
    """Compare the module with the reference forward on `x` (float32 NCHW) and record the
    gap in the model's verdict; the relative gap (0 where the module is the reference).

    `reference`: the reference logits of `x` when the caller has them already.
    """
    if model.module is None or model.conversion is None:
        return 0.0
    device = torch.device(model.info.device)
    with torch.inference_mode():
        tensor = torch.from_numpy(np.require(x, np.float32, ["C", "W"])).to(device)
        converted = logits_array(model.module(tensor))
    if reference is None:
        reference = np.asarray(model.reference_logits(x), dtype=np.float64)
    gap = relative_gap(converted, reference)
    model.conversion.record(gap, len(x))
    return gap


def probe_images(shape: tuple[int, int, int]) -> np.ndarray:
    """Black, grey and two seeded noise images: the load's first look at the conversion."""
    noise = np.random.default_rng(0).random((2, *shape), dtype=np.float32)
    return np.stack([np.zeros(shape, np.float32), np.full(shape, 0.5, np.float32), *noise])


def verify_on_probes(model: LoadedModel) -> LoadedModel:
    """At load: start the verdict on the probe images. A conversion that fails to run, or
    already disagrees here, is dropped (Square still runs through onnxruntime); the data a
    sweep or a saliency map uses is verified again when they use it."""
    try:
        gap = verify_gradients(model, probe_images(model.info.input_shape))
    except Exception as exc:
        reason = (
            f"the torch interpretation of the ONNX graph fails to run ({one_line(exc, 160)}), "
            "so gradient attacks are unavailable; Square runs through onnxruntime"
        )
        return replace(model, module=None, conversion=None, gradient_unavailable_reason=reason)
    if model.conversion is not None and not model.conversion.faithful:
        reason = model.conversion.reason()
        return replace(model, module=None, conversion=None, gradient_unavailable_reason=reason)
    note = (
        f"gradients through the ONNX graph interpreted in torch; largest relative logit gap "
        f"to onnxruntime on 4 probe images {gap:.2g}"
    )
    return replace(model, info=replace(model.info, notes=(*model.info.notes, note)))


def with_faithful_gradients(model: LoadedModel, record: RecordsGap) -> LoadedModel:
    """The model as gradient work may use it, once `record`'s measured gap is in its verdict.

    A sweep (or a results file) measured the conversion on data this process may never have
    seen: its gap joins the verdict, so saliency on a model opened beside saved results
    refuses what that run refused. A module with no verdict (a torch model) is refused
    outright by a recorded gap over the tolerance.
    """
    gap = record.onnx_max_abs_diff
    if gap is None:
        return model.gradient_model()
    if model.conversion is not None:
        if gap > model.conversion.largest_gap:
            model.conversion.record(gap, 0)
        return model.gradient_model()
    if model.module is not None and gap > CONVERSION_TOLERANCE:
        reason = (
            f"its torch conversion disagrees with onnxruntime (largest relative logit "
            f"difference {gap:.2g})"
        )
        return replace(model, module=None, gradient_unavailable_reason=reason)
    return model
