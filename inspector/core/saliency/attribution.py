"""`attribute`: saliency maps for a batch of images, on the model's device, cancellable.

The one entry point the CLI, the window and the concentration score use. Work runs in
batches; `cancel` is checked before each one and raises `Cancelled`. Maps leave as CPU
numpy float32, like everything that leaves a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from inspector.core.attacks.base import CancelCheck, Cancelled
from inspector.core.errors import InspectorError
from inspector.core.models.base import LoadedModel
from inspector.core.models.gradients import verify_gradients
from inspector.core.saliency.gradcam_layer import tap_last_conv
from inspector.core.saliency.methods import RUNNERS, method_options


@dataclass
class SaliencyResult:
    """Maps [N, C, H, W] (Grad-CAM: [N, 1, H, W]) in logit units per pixel unit.

    `delta` is Integrated Gradients' completeness gap per example (sum of the map minus
    f(x) − f(baseline)), None for the other methods. `options` are the ones used, defaults
    included (and, for Grad-CAM, the layer that was read).
    """

    maps: np.ndarray
    method: str
    target: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)
    delta: np.ndarray | None = None

    @property
    def signed(self) -> bool:
        """Whether negative values are possible (not for Grad-CAM with its ReLU)."""
        return not (self.method == "gradcam" and self.options.get("relu", True))


class MethodUnavailable(InspectorError):
    """This method cannot serve this model (no gradients, no conv layer to hook, a torch
    conversion that disagrees): a figure of several models skips it with a note."""


def gradcam_available(model: LoadedModel) -> str | None:
    """None when Grad-CAM can run on this model, else the reason it cannot."""
    model = model.gradient_model()  # the conversion verdict, wherever it was reached
    if model.module is None:
        return no_gradient_reason(model)
    found = tap_last_conv(model.module)
    return found if isinstance(found, str) else None


def no_gradient_reason(model: LoadedModel) -> str:
    return (
        f"saliency maps need gradients, which {model.info.name} cannot give: "
        f"{model.gradient_unavailable_reason or 'no differentiable module'}"
    )


def attribute(
    model: LoadedModel,
    x: np.ndarray,
    target: np.ndarray,
    method: str = "gradient",
    *,
    batch_size: int = 32,
    seed: int = 0,
    cancel: CancelCheck | None = None,
    **options: Any,
) -> SaliencyResult:
    """Saliency maps of `x` (float32 [N, C, H, W] in [0, 1]) for classes `target` [N].

    Options per method (defaults in methods.METHODS): smoothgrad `sigma`, `samples`;
    integrated_gradients `steps`, `baseline` (a grey level), `internal_batch_size`;
    gradcam `relu`. `seed` makes SmoothGrad's noise reproducible (batch b uses seed + b).
    """
    used = method_options(method, options)[1]
    x, target = _check_inputs(model, x, target, batch_size)
    model = model.gradient_model()  # the conversion verdict, wherever it was reached
    if model.module is None:
        raise MethodUnavailable(no_gradient_reason(model))
    extra: dict[str, Any] = {}
    if method == "gradcam":
        tapped = tap_last_conv(model.module)
        if isinstance(tapped, str):
            raise MethodUnavailable(f"Grad-CAM is not available for {model.info.name}: {tapped}")
        extra["tapped"], used["layer"] = tapped, tapped.layer
    maps, deltas = [], []
    for b, start in enumerate(range(0, len(x), batch_size)):
        if cancel is not None and cancel():
            raise Cancelled()
        chunk, t = x[start : start + batch_size], target[start : start + batch_size]
        m, d = _one_batch(model, method, chunk, t, {**used, **extra}, seed + b)
        maps.append(m)
        if d is not None:
            deltas.append(d)
    return SaliencyResult(
        maps=np.concatenate(maps).astype(np.float32),
        method=method,
        target=target,
        options=used,
        delta=np.concatenate(deltas).astype(np.float64) if deltas else None,
    )


def _one_batch(
    model: LoadedModel, method: str, x: np.ndarray, target: np.ndarray, options: dict, seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    device = torch.device(model.info.device)
    xt = torch.from_numpy(np.ascontiguousarray(x)).to(device)
    tt = torch.from_numpy(target).to(device)
    if model.info.backend == "onnx":
        _check_conversion(model, x, xt)
    xt.requires_grad_(True)  # else captum warns on every call and sets it itself
    run_options = {k: v for k, v in options.items() if k != "layer"}
    maps, delta = RUNNERS[method](model.module, xt, tt, seed=seed, **run_options)
    maps = maps.detach().float().cpu().numpy()
    return maps, None if delta is None else delta.detach().double().cpu().numpy()


def _check_conversion(model: LoadedModel, x: np.ndarray, xt: torch.Tensor) -> None:
    """ONNX: the gradient comes from the torch conversion; verify it on these images (the
    model's verdict keeps it) and refuse once the verdict is against it."""
    diff = verify_gradients(model, x)
    if not model.differentiable:
        raise MethodUnavailable(
            f"the torch conversion of {model.info.name} disagrees with onnxruntime on these "
            f"images (relative logit difference {diff:.2g}); its saliency maps would be wrong"
        )


def _check_inputs(
    model: LoadedModel, x: np.ndarray, target: np.ndarray, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float32)
    target = np.asarray(target).astype(np.int64).reshape(-1)
    expected = tuple(model.info.input_shape)
    if x.ndim != 4 or tuple(x.shape[1:]) != expected:
        shown = "×".join(map(str, expected))
        raise InspectorError(
            f"images of shape {tuple(x.shape)} do not fit {model.info.name}, which expects "
            f"N×{shown}; resize the data or pick the matching model"
        )
    if len(target) != len(x):
        raise InspectorError(f"{len(x)} images but {len(target)} target classes; give one each")
    if len(x) == 0:
        raise InspectorError("no images to explain")
    k = model.info.num_classes
    if target.min() < 0 or target.max() >= k:
        raise InspectorError(f"target classes must lie in 0..{k - 1} for {model.info.name}")
    if batch_size < 1:
        raise InspectorError(f"batch size must be at least 1, got {batch_size}")
    return x, target
