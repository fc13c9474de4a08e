"""The ε-ball and the [0, 1] box: steps, projections and random starts for L∞ and L2.

Shared by every attack so that "inside the threat model" means the same thing everywhere.
"""

from __future__ import annotations

import torch

_TINY = 1e-12


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    """Per-example L2 norm, shaped to broadcast back over C, H, W."""
    return t.flatten(1).norm(dim=1).clamp_min(_TINY).view(-1, *([1] * (t.dim() - 1)))


def ascent_direction(grad: torch.Tensor, norm: str) -> torch.Tensor:
    """The steepest-ascent unit step for the norm: sign for L∞, normalised gradient for L2."""
    if norm == "linf":
        return grad.sign()
    return grad / _flat_norm(grad)


def project(delta: torch.Tensor, norm: str, eps: float) -> torch.Tensor:
    """Project a perturbation onto the ε-ball."""
    if norm == "linf":
        return delta.clamp(-eps, eps)
    factor = (eps / _flat_norm(delta)).clamp(max=1.0)
    return delta * factor


def clip_to_box(x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """Shrink δ so that x + δ stays in [0, 1]; this never leaves the ε-ball (|δᵢ| only shrinks)."""
    return (x + delta).clamp(0.0, 1.0) - x


def random_start(x: torch.Tensor, norm: str, eps: float, generator=None) -> torch.Tensor:
    """A point drawn uniformly from the ε-ball around each example, clipped to the box.

    `generator`: per-example `Streams` (each row draws from its own), a torch generator or None.
    """
    from inspector.core.attacks.streams import as_streams

    streams = as_streams(generator, x.shape[0], x.device)
    if norm == "linf":
        delta = (2 * streams.child(0).uniform(tuple(x.shape[1:]), x) - 1) * eps
    else:
        direction = streams.child(0).normal(tuple(x.shape[1:]), x)
        direction = direction / _flat_norm(direction)
        d = x[0].numel()
        u = streams.child(1).uniform((1,), x).flatten()
        radius = eps * u.pow(1.0 / d)
        delta = direction * radius.view(-1, *([1] * (x.dim() - 1)))
    return clip_to_box(x, delta)


def perturbation_size(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """‖δ‖ per example in the threat model's norm."""
    flat = delta.flatten(1)
    return flat.abs().amax(dim=1) if norm == "linf" else flat.norm(dim=1)
