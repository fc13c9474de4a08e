"""Randomized smoothing (Cohen, Rosenfeld & Kolter, 2019): a certified L2 radius for any model.

The certificate is for the *smoothed* classifier g(x) = argmax_c P(f(x + δ) = c), δ ~ N(0, σ²I),
not for the model f itself: g is what the certified curve describes, and at σ > 0 its clean
accuracy can be well below f's. CERTIFY draws n0 noisy copies to pick the top class cA, then n
fresh ones to bound p_A = P(f(x + δ) = cA) from below (one-sided Clopper-Pearson at level α);
if the bound p_lower exceeds 1/2, g(x) = cA on the whole L2 ball of radius σ·Φ⁻¹(p_lower),
with probability at least 1 − α over the noise; otherwise it abstains (prediction −1). So the
certified accuracy at radius r, the share of examples predicted correctly with radius > r, is
a lower bound on g's robust accuracy, next to the attack's upper bound on f's.

Noise is added without clipping to [0, 1]: g is defined with Gaussian noise on the whole
space, which is what the theorem needs. The beta quantile comes from scipy (installed with
scikit-learn, a dependency already), imported only when a certificate is computed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from inspector.core.attacks.base import CancelCheck, Cancelled, Forward
from inspector.core.data.base import ImageDataset
from inspector.core.models.base import LoadedModel, forward_from_loaded
from inspector.core.smoothing_spec import SmoothingSpec
from inspector.core.sweep_events import Progress
from inspector.core.threat import ThreatModel

CURVE_POINTS = 11  # radii from 0 to the largest certifiable radius
EXAMPLES_PER_CALL = 16  # examples certified per call (and per progress event)


def lower_confidence_bound(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower bound on a binomial proportion, k successes of n."""
    from scipy.stats import beta  # scipy.stats takes about a second to import: only here

    k = np.asarray(k, dtype=np.float64)
    bound = beta.ppf(alpha, np.maximum(k, 1), n - k + 1)
    return np.where(k > 0, bound, 0.0)


def count_classes(
    forward: Forward,
    x: torch.Tensor,
    num: int,
    sigma: float,
    batch_size: int,
    generator: torch.Generator | None = None,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """Per example, how often f predicts each class under `num` Gaussian draws: [B, classes].

    The (example, draw) pairs are laid out flat and cut into forward batches of `batch_size`,
    so a batch mixes examples when `num` is small and splits one when it is large.
    """
    b = x.shape[0]
    counts: torch.Tensor | None = None
    for start in range(0, b * num, batch_size):
        if cancel is not None and cancel():
            raise Cancelled()
        rows = torch.arange(start, min(start + batch_size, b * num), device=x.device) // num
        base = x[rows]
        noise = torch.randn(base.shape, generator=generator, device=x.device, dtype=x.dtype)
        with torch.inference_mode():
            logits = forward(base + sigma * noise)
        if counts is None:
            counts = torch.zeros((b, logits.shape[1]), dtype=torch.int64, device=x.device)
        flat = rows * logits.shape[1] + logits.argmax(dim=1)
        counts += torch.bincount(flat, minlength=counts.numel()).view(counts.shape)
    assert counts is not None
    return counts.cpu().numpy()


def certify(
    module: Forward,
    x: torch.Tensor,
    sigma: float,
    n0: int,
    n: int,
    alpha: float,
    batch_size: int = 1000,
    generator: torch.Generator | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """CERTIFY for a batch of examples: (prediction of g, −1 to abstain; certified L2 radius).

    The radius (0 on abstention) is for the smoothed classifier g, not for `module` itself;
    each example's certificate holds with probability at least 1 − α over the noise.
    """
    from scipy.stats import norm

    selection = count_classes(module, x, n0, sigma, batch_size, generator, cancel)
    top = selection.argmax(axis=1)
    estimation = count_classes(module, x, n, sigma, batch_size, generator, cancel)
    p_lower = lower_confidence_bound(estimation[np.arange(len(top)), top], n, alpha)
    certified = p_lower > 0.5
    radius = np.where(certified, sigma * norm.ppf(np.where(certified, p_lower, 0.5)), 0.0)
    return np.where(certified, top, -1).astype(np.int64), radius.astype(np.float64)


def smoothing_curve(
    radii: np.ndarray, correct: np.ndarray, radii_grid: np.ndarray
) -> list[tuple[float, float]]:
    """Certified accuracy of g at each radius r: the share predicted right with radius > r."""
    radii, correct = np.asarray(radii, dtype=np.float64), np.asarray(correct, dtype=bool)
    return [(float(r), float((correct & (radii > r)).mean())) for r in radii_grid]


def radius_grid(spec: SmoothingSpec, threat: ThreatModel | None = None) -> np.ndarray:
    """Radii from 0 to the largest certifiable one, plus the threat's ε grid when it is L2."""
    grid = set(np.round(np.linspace(0.0, spec.max_radius(), CURVE_POINTS), 4).tolist())
    if threat is not None and threat.norm == "l2":
        grid |= {float(e) for e in threat.eps}
    return np.array(sorted(grid))


def smooth_model(
    model: LoadedModel,
    dataset: ImageDataset,
    indices: np.ndarray,
    spec: SmoothingSpec,
    *,
    threat: ThreatModel | None = None,
    model_index: int = 0,
    batch_size: int = 1000,
    cancel: CancelCheck | None = None,
) -> Iterator[Progress | dict[str, Any]]:
    """Certify every example of `indices`; yields `Progress` ("smoothing"), then the record.

    The record (a JSON-ready dict, `ModelResult.smoothing`) holds the spec, its label, each
    example's prediction of g (−1: abstained) and radius, and the certified curve.
    """
    started, device = time.perf_counter(), model.info.device
    forward, seed = forward_from_loaded(model), 0 if threat is None else threat.seed
    labels = dataset.labels[indices].astype(np.int64)
    prediction = np.full(len(indices), -1, dtype=np.int64)
    radius = np.zeros(len(indices))
    for group, start in enumerate(range(0, len(indices), EXAMPLES_PER_CALL)):
        part = slice(start, start + EXAMPLES_PER_CALL)
        x = torch.from_numpy(np.ascontiguousarray(dataset.load(indices[part]))).to(device)
        gen = torch.Generator(device=device)
        gen.manual_seed(seed * 1_000_003 + group)
        prediction[part], radius[part] = certify(
            forward, x, spec.sigma, spec.n0, spec.n, spec.alpha, batch_size, gen, cancel
        )
        done = min(start + EXAMPLES_PER_CALL, len(indices))
        yield Progress(model_index, model.info.name, "smoothing", None, done, len(indices))
    grid = radius_grid(spec, threat)
    curve = smoothing_curve(radius, prediction == labels, grid)
    yield {
        "spec": spec.to_dict(),
        "description": spec.describe(),
        "norm": "l2",
        "prediction": prediction.tolist(),
        "radius": (np.floor(radius * 1e6) / 1e6).tolist(),  # rounded down: still a bound
        "curve": [{"radius": r, "certified_accuracy": a} for r, a in curve],
        "smoothed_accuracy": float((prediction == labels).mean()),  # abstaining counts wrong
        "abstained": float((prediction < 0).mean()),
        "seed": seed,
        "seconds": time.perf_counter() - started,
    }
