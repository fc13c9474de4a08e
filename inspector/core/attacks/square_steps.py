"""The random-search moves of the Square attack (Andriushchenko et al. 2020), L∞ and L2.

Pure tensor functions: a starting point and a proposal per step, both drawn from the caller's
generator. As in the authors' PyTorch code, one window position per step serves the whole
batch (slices, not masks, keep the step cheap); signs and bump orientations are drawn per
example. Every proposal lies in the ε-ball around x and in [0, 1].
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

_TINY = 1e-12
# (upper end of the rescaled iteration, divisor of p_init): the paper's piecewise schedule
_P_SCHEDULE = (
    (10, 1),
    (50, 2),
    (200, 4),
    (500, 8),
    (1000, 16),
    (2000, 32),
    (4000, 64),
    (6000, 128),
    (8000, 256),
)


def p_fraction(p_init: float, iteration: int, iterations: int) -> float:
    """Fraction of pixels a square covers at this iteration; halves along a fixed schedule.

    The schedule was written for 10,000 queries; as in the authors' code it is rescaled to
    the budget, so a shorter run shrinks its squares over the same relative course.
    """
    it = int(iteration / max(iterations, 1) * 10000)
    for end, divisor in _P_SCHEDULE:
        if it <= end:
            return p_init / divisor
    return p_init / 512


def square_side(p: float, shape: tuple[int, int, int], minimum: int = 1, odd: bool = False) -> int:
    """Side of the square covering a fraction p of each channel, kept inside the image.

    `odd` (the L2 bumps are centred) rounds up to an odd side, or down to the largest odd
    side that fits when the image is smaller.
    """
    _, h, w = shape
    s = max(round(math.sqrt(p * h * w)), minimum)
    largest = min(h, w)
    if odd:
        s += 1 - s % 2
        largest -= 1 - largest % 2
    return max(min(s, largest), 1)


def _random_window(s: int, h: int, w: int, gen, device) -> tuple[slice, slice]:
    """One s×s window, every position equally likely (the last row and column included)."""
    top = int(torch.randint(0, h - s + 1, (1,), generator=gen, device=device))
    left = int(torch.randint(0, w - s + 1, (1,), generator=gen, device=device))
    return slice(top, top + s), slice(left, left + s)


def random_signs(shape: tuple[int, ...], gen, like: torch.Tensor) -> torch.Tensor:
    """±1 with equal probability, in the dtype and device of `like`."""
    bits = torch.randint(0, 2, shape, generator=gen, device=like.device)
    return (2 * bits - 1).to(like.dtype)


# ---------------------------------------------------------------------------- L∞


def linf_start(x: torch.Tensor, eps: float, gen) -> torch.Tensor:
    """Vertical stripes: each column of each channel moved by +ε or −ε (the paper's init)."""
    n, c, _, w = x.shape
    return (x + eps * random_signs((n, c, 1, w), gen, x)).clamp(0.0, 1.0)


def linf_proposal(x: torch.Tensor, best: torch.Tensor, eps: float, s: int, gen) -> torch.Tensor:
    """Set one s×s window to x ± ε (a sign per example and channel), the rest as `best`.

    A draw that leaves the point unchanged would waste a query (half of all draws on a
    grayscale image once the window sits at a vertex). The authors' code redraws until the
    point changes; here such rows get, in one draw, a uniformly chosen different sign
    pattern, which changes every pixel of at least one channel of the window.
    """
    n, c, h, w = x.shape
    rows, cols = _random_window(s, h, w, gen, x.device)
    x_window, best_window = x[:, :, rows, cols], best[:, :, rows, cols]
    signs = random_signs((n, c, 1, 1), gen, x)
    window = (x_window + eps * signs).clamp(0.0, 1.0)
    same = (window == best_window).flatten(1).all(dim=1)
    if bool(same.any()):
        patterns = 2 ** min(c, 62)  # beyond 62 channels, the first 62 carry the change
        pattern = torch.randint(1, patterns, (n, 1), generator=gen, device=x.device)
        bits = (pattern >> torch.arange(c, device=x.device)[None, :]) & 1
        flip = (same[:, None] & (bits == 1)).view(n, c, 1, 1)
        window = (x_window + eps * torch.where(flip, -signs, signs)).clamp(0.0, 1.0)
    proposal = best.clone()
    proposal[:, :, rows, cols] = window
    return proposal


# ---------------------------------------------------------------------------- L2


def _rectangle_bump(rows: int, cols: int) -> np.ndarray:
    """Nested rectangles with weights 1/(k+1)²: a pseudo-Gaussian bump of unit L2 norm."""
    bump = np.zeros((rows, cols))
    centre_r, centre_c = rows // 2, cols // 2
    for k in range(max(rows // 2 + 1, cols // 2 + 1)):
        r0, c0 = max(centre_r - k, 0), max(centre_c - k, 0)
        r1, c1 = min(centre_r + k + 1, rows), min(centre_c + k + 1, cols)
        bump[r0:r1, c0:c1] += 1.0 / (k + 1) ** 2
    total = np.sqrt((bump**2).sum())
    return bump / total if total > 0 else bump


@lru_cache(maxsize=64)
def _bump(s: int) -> np.ndarray:
    """The paper's η for an s×s square: a positive bump on top, a negative one below, unit norm."""
    eta = np.zeros((s, s))
    eta[: s // 2] = _rectangle_bump(s // 2, s)
    eta[s // 2 :] = -_rectangle_bump(s - s // 2, s)
    return eta / np.sqrt((eta**2).sum())


def _bumps(n: int, s: int, gen, like: torch.Tensor) -> torch.Tensor:
    """[n, s, s]: η, transposed for a random half of the examples."""
    eta = torch.as_tensor(_bump(s), dtype=like.dtype, device=like.device)
    flip = torch.randint(0, 2, (n, 1, 1), generator=gen, device=like.device).bool()
    return torch.where(flip, eta.T.expand(n, s, s), eta.expand(n, s, s))


def _scale_to(delta: torch.Tensor, radius: float) -> torch.Tensor:
    norms = delta.flatten(1).norm(dim=1).clamp_min(_TINY)
    return delta * (radius / norms).view(-1, 1, 1, 1)


def l2_start(x: torch.Tensor, eps: float, gen) -> torch.Tensor:
    """A grid of bumps of side ≈ h/5, each with a random sign per channel, scaled to norm ε."""
    n, c, h, w = x.shape
    s = max(h // 5, 1)
    delta = torch.zeros_like(x)
    first_r, first_c = (h - s * (h // s)) // 2, (w - s * (w // s)) // 2
    for r in range(first_r, h - s + 1, s):
        for col in range(first_c, w - s + 1, s):
            bump = _bumps(n, s, gen, x)[:, None]
            delta[:, :, r : r + s, col : col + s] += bump * random_signs((n, c, 1, 1), gen, x)
    return (x + _scale_to(delta, eps)).clamp(0.0, 1.0)


def _channel_norm(t: torch.Tensor) -> torch.Tensor:
    return t.pow(2).sum(dim=(2, 3), keepdim=True).sqrt()


def l2_proposal(x: torch.Tensor, best: torch.Tensor, eps: float, s: int, gen) -> torch.Tensor:
    """The paper's centred square update: move mass from window 2 into a new bump in window 1.

    Window 1 gets its old content (normalised) plus a ±η bump, rescaled per channel to the
    norm of both windows plus an even share of the unused budget; window 2 is emptied; the
    whole perturbation is then rescaled to norm ε and clipped to the box (so ‖δ‖₂ ≤ ε).
    """
    n, c, h, w = x.shape
    delta = best - x
    rows1, cols1 = _random_window(s, h, w, gen, x.device)
    rows2, cols2 = _random_window(s, h, w, gen, x.device)
    both = torch.zeros((1, 1, h, w), dtype=torch.bool, device=x.device)
    both[:, :, rows1, cols1] = True
    both[:, :, rows2, cols2] = True
    image_norm = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    windows_norm = _channel_norm(delta * both)
    old = delta[:, :, rows1, cols1]
    new = _bumps(n, s, gen, x)[:, None] * random_signs((n, c, 1, 1), gen, x)
    new = new + old / (_channel_norm(old) + _TINY)
    budget = ((eps**2 - image_norm**2).clamp_min(0.0) / c + windows_norm**2).sqrt()
    delta = delta.masked_fill(both, 0.0)
    delta[:, :, rows1, cols1] = new / (_channel_norm(new) + _TINY) * budget
    return (x + _scale_to(delta, eps)).clamp(0.0, 1.0)
