"""What every loaded model offers the rest of the core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass
class LoadedModel:
    """A classifier that takes images in [0, 1] (NCHW float32) and returns logits.

    `module` is a differentiable torch module on `info.device` that already contains the
    mean/std normalisation, or None when no gradient path exists (gradient attacks are then
    refused with `gradient_unavailable_reason`). `reference_logits` is the authoritative
    forward pass (onnxruntime for ONNX, the module itself for torch), used for clean
    predictions and to confirm adversarial examples found through the module. For ONNX the
    evaluation compares `module` with `reference_logits` on the data it evaluates and refuses
    gradient attacks when they disagree.
    """

    info: ModelInfo
    module: torch.nn.Module | None
    reference_logits: Callable[[np.ndarray], np.ndarray]
    gradient_unavailable_reason: str | None = None

    @property
    def differentiable(self) -> bool:
        return self.module is not None
