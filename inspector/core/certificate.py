"""Whether a model gets the exact affine certificate: proven affine, cheaply, or none.

A certificate that can be wrong must not be called one. A model is accepted only when its
logits on random points of the input box match an affine fit to within `AFFINE_RTOL` of how
far the logits move over those points (their spread, not their size), and when they move
at all: near-constant logits fit any affine map to rounding error (a network at random
init scored "certified" 0.27 beside clean 1.0 under the old size-relative test). The
probe costs two batched forwards and one batched backward (the Jacobian, one row per
class); the weights are then checked on every batch of real data by `is_affine_on`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from inspector.core.linear import (
    MAX_AFFINE_VALUES,
    AffineModel,
    affine_residual,
    extract_affine,
    logit_spread,
)

AFFINE_RTOL = 1e-4  # largest |logit − affine fit| accepted, as a share of the logits' spread
# Logits that move by less than this share of their size over the whole input box are
# "near-constant": float32 rounding (≈1e-7 per operation) could pass for affinity.
NEAR_CONSTANT = 1e-5
PROBE_POINTS = 8  # random pairs (a, b) and one point on each segment between them
SEED = 20_240_901


@dataclass(frozen=True)
class Certificate:
    """The affine map when the model is proven affine, else why not.

    `note` is set only where the user should hear the reason (near-constant logits, or a
    model affine on random points but not on its data); an ordinary network's refusal
    is no news.
    """

    affine: AffineModel | None
    tolerance: float = 0.0  # absolute logit tolerance for the checks on real data
    note: str | None = None


def _probe_points(shape: tuple[int, ...], device) -> tuple[torch.Tensor, torch.Tensor]:
    """Random pairs of box points and a random point on each segment between them."""
    gen = torch.Generator().manual_seed(SEED)
    a = torch.rand((PROBE_POINTS, *shape), generator=gen)
    b = torch.rand((PROBE_POINTS, *shape), generator=gen)
    t = torch.rand((PROBE_POINTS,) + (1,) * len(shape), generator=gen)
    points = torch.cat([a, b, t * a + (1 - t) * b])
    return points.to(device), t.flatten().double()


def affine_certificate(
    module: torch.nn.Module, input_shape: tuple[int, ...], classes: int, device="cpu"
) -> Certificate:
    """Probe the module on random box points; the affine map only when proven affine."""
    d = int(np.prod(input_shape))
    if classes * d > MAX_AFFINE_VALUES:
        return Certificate(None)
    points, t = _probe_points(tuple(input_shape), device)
    try:
        with torch.inference_mode():
            logits = module(points).double().cpu().numpy()
    except RuntimeError:  # e.g. a fixed batch size: not proven, and the clean pass will say
        return Certificate(None)
    if logits.ndim != 2 or logits.shape[1] != classes or not np.isfinite(logits).all():
        return Certificate(None)
    n = PROBE_POINTS
    fa, fb, fm = logits[:n], logits[n : 2 * n], logits[2 * n :]
    t = t.numpy()[:, None]
    spread, size = logit_spread(logits), max(1.0, float(np.abs(logits).max()))
    if spread <= NEAR_CONSTANT * size:
        return Certificate(None, note=near_constant_note(spread, float(np.abs(logits).max())))
    tolerance = AFFINE_RTOL * spread
    if np.abs(fm - (t * fa + (1 - t) * fb)).max() > tolerance:
        return Certificate(None)
    try:
        affine = extract_affine(module, tuple(input_shape), device)
    except RuntimeError:  # no backward pass (gradient-free attacks may still run)
        return Certificate(None)
    flat = points.detach().cpu().double().numpy()
    if affine is None or affine_residual(affine, logits, flat) > tolerance:
        return Certificate(None)  # the gradients disagree with the forward pass
    return Certificate(affine, tolerance=tolerance)


def near_constant_note(spread: float, size: float) -> str:
    return (
        f"no exact certificate: the logits barely move over the input box (by {spread:.2g}, "
        f"largest |logit| {size:.2g}), so an affine fit cannot be told from rounding; check the "
        "model's weights and normalisation"
    )


NOT_AFFINE_ON_DATA = (
    "no exact certificate: the model is affine on random inputs but not on the evaluated "
    "data (check its normalisation)"
)
