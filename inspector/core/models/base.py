"""What every loaded model offers the rest of the core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from inspector.core.errors import InspectorError
from inspector.core.models.gradients import (
    CONVERSION_TOLERANCE,
    ConversionVerdict,
    relative_gap,
    verify_gradients,
)

__all__ = ["CONVERSION_TOLERANCE", "ConversionVerdict", "LoadedModel", "ModelInfo", "relative_gap"]

Forward = Callable[[torch.Tensor], torch.Tensor]  # images in [0, 1] -> logits


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


@dataclass
class LoadedModel:
    """A classifier that takes images in [0, 1] (NCHW float32) and returns logits.

    `module` is a differentiable torch module on `info.device` that already contains the
    mean/std normalisation, or None when no gradient path exists (gradient attacks are then
    refused with `gradient_unavailable_reason`). `reference_logits` is the authoritative
    forward pass (onnxruntime for ONNX, the module itself for torch), used for clean
    predictions and to confirm adversarial examples found through the module. For ONNX the
    verification step (`models.gradients.verify_gradients`, run at load on probe images and
    again on the data a sweep or a saliency map uses) records module vs reference in
    `conversion` (None where the module is the reference). Its capabilities: `logits()` (the
    differentiable forward), `query_forward()` (for gradient-free attacks) and
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
        """`verify_gradients` on `x`: the relative gap, recorded in the verdict."""
        return verify_gradients(self, x, reference)

    def gradient_model(self) -> LoadedModel:
        """This model as gradient work may use it: without its module when the conversion
        verdict is against it (the reason then says so)."""
        if self.module is None or self.conversion is None or self.conversion.faithful:
            return self
        return replace(self, module=None, gradient_unavailable_reason=self.conversion.reason())

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """The differentiable forward (logits of images in [0, 1]), only where the verdict
        allows gradients; else an error that says why."""
        module = self.gradient_model().module
        if module is None:
            raise InspectorError(
                f"{self.info.name} gives no gradients: "
                f"{self.gradient_model().gradient_unavailable_reason or 'no torch module'}"
            )
        return module(x)

    def query_forward(self, *, reference_only: bool = False) -> Forward:
        """The logits function a gradient-free attack queries: the torch module (no autograd),
        else, or with `reference_only`, the reference forward (onnxruntime for ONNX)."""
        if self.module is not None and not reference_only:
            module = self.module

            def torch_forward(x: torch.Tensor) -> torch.Tensor:
                with torch.inference_mode():
                    logits = module(x)
                return logits.clone()  # an ordinary tensor, free to index and write outside

            return torch_forward
        reference = self.reference_logits

        def reference_forward(x: torch.Tensor) -> torch.Tensor:
            logits = reference(x.detach().cpu().numpy().astype(np.float32, copy=False))
            return torch.from_numpy(np.asarray(logits)).to(x.device)

        return reference_forward


# the function form of the capability, for callers that pass a model around as data
forward_from_loaded = LoadedModel.query_forward
