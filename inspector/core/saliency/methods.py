"""The attribution methods, each a thin call into captum on one batch.

All maps are gradients (or gradient integrals) of the target class's **logit** with
respect to the input pixels in [0, 1], through the model's normalisation wrapper, so they
are in logit units per pixel unit whatever mean/std the model uses.

- gradient: vanilla gradient (captum Saliency, abs=False: the sign is kept).
- smoothgrad: the gradient averaged over `samples` copies of the input with Gaussian noise
  of standard deviation `sigma` in pixel units (Smilkov et al. 2017 use 10-20 % of the
  input range; default 0.15 of [0, 1], 25 samples). Noisy inputs are not clipped to [0, 1].
- integrated_gradients: Sundararajan et al. 2017, from a black image (all zeros) by default,
  `steps` Gauss-Legendre points (50). Completeness: a map sums to f(x) − f(baseline); the
  convergence delta is the per-example gap, kept in the result.
- gradcam: Selvaraju et al. 2017 on the last 2-D convolution (see gradcam_layer.py), ReLU
  applied (the standard definition), upsampled bilinearly to the input size: one channel.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from inspector.core.errors import InspectorError


@dataclass(frozen=True)
class Method:
    """A method's name, label, default options and the function that runs one batch."""

    name: str
    label: str
    unit: str  # what one unit of the map means, for colour bars
    defaults: dict[str, Any] = field(default_factory=dict)


Runner = Callable[..., tuple[torch.Tensor, torch.Tensor | None]]

PER_PIXEL = "logit per unit of pixel value"
METHODS: dict[str, Method] = {
    "gradient": Method("gradient", "vanilla gradient", PER_PIXEL),
    "smoothgrad": Method("smoothgrad", "SmoothGrad", PER_PIXEL, {"sigma": 0.15, "samples": 25}),
    "integrated_gradients": Method(
        "integrated_gradients",
        "Integrated Gradients",
        "logit (a map sums to f(x) − f(black))",
        {"steps": 50, "baseline": 0.0, "internal_batch_size": 512},
    ),
    "gradcam": Method("gradcam", "Grad-CAM", "logit (per feature-map cell)", {"relu": True}),
}


def method_options(name: str, options: dict[str, Any]) -> tuple[Method, dict[str, Any]]:
    """The method and its options with defaults filled in; unknown names or keys fail."""
    if name not in METHODS:
        raise InspectorError(
            f"unknown saliency method {name!r}: choose one of {', '.join(METHODS)}"
        )
    method = METHODS[name]
    unknown = sorted(set(options) - set(method.defaults))
    if unknown:
        allowed = ", ".join(method.defaults) or "none"
        raise InspectorError(f"{name} has no option {', '.join(unknown)} (its options: {allowed})")
    merged = {**method.defaults, **options}
    _check_positive(merged, ("samples", "steps", "internal_batch_size"), integer=True)
    _check_positive(merged, ("sigma",), integer=False)
    return method, merged


def _check_positive(options: dict[str, Any], keys: tuple[str, ...], integer: bool) -> None:
    for key in keys:
        if key not in options:
            continue
        value = options[key]
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if not ok or value <= 0:
            kind = "a positive integer" if integer else "a positive number"
            raise InspectorError(f"option {key} must be {kind}, got {value!r}")


def preload() -> None:
    """Import captum's attribution classes now, on the calling thread.

    The first attribution otherwise imports captum (and matplotlib with it, 0.6–0.75 s) on
    whatever thread asks first. In the window that was the saliency worker, at the first
    results of a run, and the GUI thread then stalled for 100–200 ms in 3 of 8 demo runs
    (benchmarks/gui_latency.py) while that import ran beside the attack. The window calls
    this while it loads a model, before any run can start. Nothing is drawn with
    matplotlib, so it gets the non-interactive backend rather than looking for Qt.
    """
    os.environ.setdefault("MPLBACKEND", "Agg")
    import captum.attr  # noqa: F401


def run_gradient(module, x, target, **_):
    from captum.attr import Saliency

    return Saliency(module).attribute(x, target=target, abs=False), None


def run_smoothgrad(module, x, target, *, sigma: float, samples: int, seed: int, **_):
    """NoiseTunnel draws from torch's global generator: it is forked and seeded per batch."""
    from captum.attr import NoiseTunnel, Saliency

    devices = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        maps = NoiseTunnel(Saliency(module)).attribute(
            x,
            nt_type="smoothgrad",
            nt_samples=samples,
            nt_samples_batch_size=max(1, 512 // max(1, x.shape[0])),
            stdevs=float(sigma),
            target=target,
            abs=False,
        )
    return maps, None


def run_integrated_gradients(
    module, x, target, *, steps: int, baseline: float, internal_batch_size: int, **_
):
    from captum.attr import IntegratedGradients

    maps, delta = IntegratedGradients(module).attribute(
        x,
        baselines=torch.full_like(x, float(baseline)),
        target=target,
        n_steps=steps,
        method="gausslegendre",
        internal_batch_size=max(internal_batch_size, x.shape[0]),
        return_convergence_delta=True,
    )
    return maps, delta


def run_gradcam(module, x, target, *, tapped, relu: bool, **_):
    from captum.attr import LayerAttribution, LayerGradCam

    cam = LayerGradCam(tapped.module, tapped.tap).attribute(
        x, target=target, relu_attributions=bool(relu)
    )
    return LayerAttribution.interpolate(cam, tuple(x.shape[2:]), "bilinear"), None


RUNNERS: dict[str, Runner] = {
    "gradient": run_gradient,
    "smoothgrad": run_smoothgrad,
    "integrated_gradients": run_integrated_gradients,
    "gradcam": run_gradcam,
}
