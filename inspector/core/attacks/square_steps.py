"""The random-search moves of the Square attack (Andriushchenko et al. 2020), L∞ and L2.

Pure tensor functions: a starting point and a proposal per step, both drawn from the rows'
own streams (streams.py): every example draws its own window positions, signs and bump
orientations, so its search does not depend on the batch it runs in (the authors' code
shares one window position per step across the batch). Every proposal lies in the ε-ball
around x and in [0, 1]. A torch generator is accepted too (one key per row drawn from it).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from inspector.core.attacks.streams import Streams, as_streams

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


def _corner(bits: torch.Tensor, s: int, h: int, w: int) -> torch.Tensor:
    """Per row, a window position drawn from 32 random bits, every position equally likely."""
    return (bits * ((h - s + 1) * (w - s + 1))) >> 32


def _top_left(corner: torch.Tensor, s: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    return corner // (w - s + 1), corner % (w - s + 1)


_MASK_TABLE_VALUES = 1 << 22  # all window masks of one size kept while they fit in 4 MB


@lru_cache(maxsize=16)
def _mask_table(s: int, h: int, w: int, device: str) -> torch.Tensor | None:
    """[positions, 1, h, w]: every s×s window's mask, so a step looks them up in one index."""
    positions = (h - s + 1) * (w - s + 1)
    if positions * h * w > _MASK_TABLE_VALUES:
        return None
    corner = torch.arange(positions, device=device)
    return _compute_mask(*_top_left(corner, s, w), s, h, w)


def _window_mask(corner: torch.Tensor, s: int, h: int, w: int) -> torch.Tensor:
    """[n, 1, h, w] True inside each row's own window."""
    table = _mask_table(s, h, w, str(corner.device))
    if table is not None:
        return table[corner]
    return _compute_mask(*_top_left(corner, s, w), s, h, w)


def _compute_mask(top, left, s: int, h: int, w: int) -> torch.Tensor:
    rows = torch.arange(h, device=top.device)[None, :] - top[:, None]
    cols = torch.arange(w, device=left.device)[None, :] - left[:, None]
    inside_r, inside_c = (rows >= 0) & (rows < s), (cols >= 0) & (cols < s)
    return (inside_r[:, :, None] & inside_c[:, None, :])[:, None]


@lru_cache(maxsize=64)
def _offsets(s: int, w: int, device: str) -> torch.Tensor:
    """Flat pixel offsets of an s×s window from its top-left pixel, in an image w wide."""
    span = torch.arange(s, device=device)
    return (span[:, None] * w + span[None, :]).flatten()


@lru_cache(maxsize=16)
def _pixel_table(s: int, h: int, w: int, device: str) -> torch.Tensor | None:
    """[positions, s·s]: every window's flat pixels, so a step looks them up in one index."""
    positions = (h - s + 1) * (w - s + 1)
    if positions * s * s > _MASK_TABLE_VALUES:
        return None
    return _compute_pixels(torch.arange(positions, device=device), s, w)


def _compute_pixels(corner: torch.Tensor, s: int, w: int) -> torch.Tensor:
    top, left = _top_left(corner, s, w)
    return (top * w + left)[:, None] + _offsets(s, w, str(corner.device))[None, :]


def _window_pixels(corner: torch.Tensor, s: int, h: int, w: int) -> torch.Tensor:
    """[n, s·s] flat pixel indices of each row's own window (gather/scatter, not masks)."""
    table = _pixel_table(s, h, w, str(corner.device))
    return table[corner] if table is not None else _compute_pixels(corner, s, w)


def _read(t: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """[n, c, s·s]: each row's window of t."""
    return t.flatten(2).gather(2, pixels[:, None, :].expand(-1, t.shape[1], -1))


def _written(t: torch.Tensor, pixels: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """A copy of t with each row's window set to `values` [n, c, s·s]."""
    out = t.clone(memory_format=torch.contiguous_format)
    index = pixels[:, None, :].expand(-1, t.shape[1], -1)
    out.flatten(2).scatter_(2, index, values.to(out.dtype))
    return out


# ---------------------------------------------------------------------------- L∞


def linf_start(x: torch.Tensor, eps: float, streams: Streams) -> torch.Tensor:
    """Vertical stripes: each column of each channel moved by +ε or −ε (the paper's init)."""
    streams = as_streams(streams, x.shape[0], x.device)
    _, c, _, w = x.shape
    return (x + eps * streams.signs((c, 1, w), x)).clamp(0.0, 1.0)


def linf_proposal(
    x: torch.Tensor, best: torch.Tensor, eps: float, s: int, streams: Streams
) -> torch.Tensor:
    """Set one s×s window per row to x ± ε (a sign per example and channel), the rest as `best`.

    A draw that leaves the point unchanged would waste a query (half of all draws on a
    grayscale image once the window sits at a vertex). The authors' code redraws until the
    point changes; here such rows get, in one draw, a uniformly chosen different sign
    pattern, which changes every pixel of at least one channel of the window.
    """
    streams = as_streams(streams, x.shape[0], x.device)
    n, c, h, w = x.shape
    bits = streams.bits(c + 2)  # one draw: window, a sign per channel, the spare pattern
    pixels = _window_pixels(_corner(bits[:, 0], s, h, w), s, h, w)
    x_window, best_window = _read(x, pixels), _read(best, pixels)
    signs = torch.where(bits[:, 1 : c + 1, None] >= 1 << 31, 1.0, -1.0).to(x.dtype)
    window = (x_window + eps * signs).clamp(0.0, 1.0)
    same = (window == best_window).flatten(1).all(dim=1)
    if bool(same.any()):
        patterns = 2 ** min(c, 31)  # beyond 31 channels, the first 31 carry the change
        pattern = 1 + ((bits[:, c + 1 :] * (patterns - 1)) >> 32)  # [n, 1]
        bits = (pattern >> torch.arange(c, device=x.device)[None, :]) & 1
        flip = (same[:, None] & (bits == 1)).view(n, c, 1)
        window = (x_window + eps * torch.where(flip, -signs, signs)).clamp(0.0, 1.0)
    return _written(best, pixels, window)


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


def _bumps(n: int, s: int, streams: Streams, like: torch.Tensor) -> torch.Tensor:
    """[n, s, s]: η, transposed for a random half of the examples."""
    eta = torch.as_tensor(_bump(s), dtype=like.dtype, device=like.device)
    flip = (streams.signs((1, 1), like) > 0).to(like.device)
    return torch.where(flip, eta.T.expand(n, s, s), eta.expand(n, s, s))


def _scale_to(delta: torch.Tensor, radius: float) -> torch.Tensor:
    norms = delta.flatten(1).norm(dim=1).clamp_min(_TINY)
    return delta * (radius / norms).view(-1, 1, 1, 1)


def l2_start(x: torch.Tensor, eps: float, streams: Streams) -> torch.Tensor:
    """A grid of bumps of side ≈ h/5, each with a random sign per channel, scaled to norm ε."""
    streams = as_streams(streams, x.shape[0], x.device)
    n, c, h, w = x.shape
    s = max(h // 5, 1)
    delta = torch.zeros_like(x)
    first_r, first_c = (h - s * (h // s)) // 2, (w - s * (w // s)) // 2
    for r in range(first_r, h - s + 1, s):
        for col in range(first_c, w - s + 1, s):
            cell = streams.child(r, col)
            bump = _bumps(n, s, cell.child(0), x)[:, None]
            delta[:, :, r : r + s, col : col + s] += bump * cell.child(1).signs((c, 1, 1), x)
    return (x + _scale_to(delta, eps)).clamp(0.0, 1.0)


def _channel_norm(t: torch.Tensor) -> torch.Tensor:
    return t.pow(2).sum(dim=(2, 3), keepdim=True).sqrt()


def l2_proposal(
    x: torch.Tensor, best: torch.Tensor, eps: float, s: int, streams: Streams
) -> torch.Tensor:
    """The paper's centred square update: move mass from window 2 into a new bump in window 1.

    Window 1 gets its old content (normalised) plus a ±η bump, rescaled per channel to the
    norm of both windows plus an even share of the unused budget; window 2 is emptied; the
    whole perturbation is then rescaled to norm ε and clipped to the box (so ‖δ‖₂ ≤ ε).
    """
    streams = as_streams(streams, x.shape[0], x.device)
    n, c, h, w = x.shape
    delta = best - x
    bits = streams.child(0).bits(2)
    corner1, corner2 = _corner(bits[:, 0], s, h, w), _corner(bits[:, 1], s, h, w)
    both = _window_mask(corner1, s, h, w) | _window_mask(corner2, s, h, w)
    pixels1 = _window_pixels(corner1, s, h, w)
    image_norm = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    windows_norm = _channel_norm(delta * both)
    old = _read(delta, pixels1).view(n, c, s, s)
    new = _bumps(n, s, streams.child(2), x)[:, None] * streams.child(3).signs((c, 1, 1), x)
    new = new + old / (_channel_norm(old) + _TINY)
    budget = ((eps**2 - image_norm**2).clamp_min(0.0) / c + windows_norm**2).sqrt()
    delta = delta.masked_fill(both, 0.0)
    delta = _written(delta, pixels1, (new / (_channel_norm(new) + _TINY) * budget).flatten(2))
    return (x + _scale_to(delta, eps)).clamp(0.0, 1.0)
