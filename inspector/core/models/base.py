"""What every loaded model offers the rest of the core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch


@dataclass(frozen=True)
class ModelInfo:
    """Identity of a model, stored with every result."""

    name: str
    path: str
    sha256: str
    backend: str  # "torch.export", "torchscript", "state_dict", "pickle", "onnx"
    device: str  # "cpu", "cuda", "cuda:0"; for ONNX, the torch device of the converted module
    input_shape: tuple[int, int, int]  # C, H, W expected, inputs in [0, 1]
    class_names: tuple[str, ...]
    mean: tuple[float, ...] | None  # normalisation applied inside the wrapper
    std: tuple[float, ...] | None
    providers: tuple[str, ...] = ()  # ONNX: the execution providers the session actually got
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. where metadata came from
    description: str | None = None  # free text from the overrides or sidecar metadata

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


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

    One object per loaded model, shared by every copy (`dataclasses.replace` keeps it): the
    load, the sweep's clean pass and saliency all record what they measured here, and every
    gradient user asks `LoadedModel.gradient_model()`, so a disagreement found anywhere
    refuses gradients everywhere afterwards.
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


@dataclass
class LoadedModel:
    """A classifier that takes images in [0, 1] (NCHW float32) and returns logits.

    `module` is a differentiable torch module on `info.device` that already contains the
    mean/std normalisation, or None when no gradient path exists (gradient attacks are then
    refused with `gradient_unavailable_reason`). `reference_logits` is the authoritative
    forward pass (onnxruntime for ONNX, the module itself for torch), used for clean
    predictions and to confirm adversarial examples found through the module. For ONNX the
    evaluation compares `module` with `reference_logits` on the data it evaluates and records
    the result in `conversion` (None where the module is the reference): gradient users take
    `gradient_model()`, which has no module once the verdict is against it.
    """

    info: ModelInfo
    module: torch.nn.Module | None
    reference_logits: Callable[[np.ndarray], np.ndarray]
    gradient_unavailable_reason: str | None = None
    conversion: ConversionVerdict | None = None

    @property
    def differentiable(self) -> bool:
        return self.module is not None and (self.conversion is None or self.conversion.faithful)

    def check_conversion(self, x: np.ndarray, reference: np.ndarray | None = None) -> float:
        """Measure module vs reference on `x` (float32 NCHW), record it; the relative gap."""
        if self.module is None or self.conversion is None:
            return 0.0
        device = torch.device(self.info.device)
        with torch.inference_mode():
            tensor = torch.from_numpy(np.require(x, np.float32, ["C", "W"])).to(device)
            converted = self.module(tensor).double().cpu().numpy()
        if reference is None:
            reference = np.asarray(self.reference_logits(x), dtype=np.float64)
        gap = relative_gap(converted, reference)
        self.conversion.record(gap, len(x))
        return gap

    def gradient_model(self) -> LoadedModel:
        """This model as gradient work may use it: without its module when the conversion
        verdict is against it (the reason then says so)."""
        if self.module is None or self.conversion is None or self.conversion.faithful:
            return self
        return replace(self, module=None, gradient_unavailable_reason=self.conversion.reason())
