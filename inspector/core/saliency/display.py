"""From maps to pictures: one value per pixel, a robust scale, and the colour maps.

Shared by the command line's PNG and the window, so both draw the same colours for the
same numbers. The scale is returned so a colour bar can be labelled in true units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCALE_PERCENTILE = 99.0  # one hot pixel should not wash out the rest of the map

# Signed maps: ColorBrewer's PiYG, green (negative) through near-white to magenta
# (positive), colour-blind safe; neither end is a model colour (render/palette.py), so
# "raises the logit" never reads as a model. The window's δ uses the same two ends.
SIGNED_ANCHORS = np.array(
    [[0x4D, 0x92, 0x21], [0xF7, 0xF7, 0xF7], [0xC5, 0x1B, 0x7D]], dtype=np.float32
)
# Absolute maps: matplotlib's "inferno" (perceptually uniform, colour-blind safe),
# sampled at nine points and interpolated linearly.
ABSOLUTE_ANCHORS = np.array(
    [
        [0, 0, 4],
        [33, 12, 74],
        [87, 16, 110],
        [138, 34, 106],
        [188, 55, 84],
        [228, 90, 49],
        [249, 142, 9],
        [249, 203, 53],
        [252, 255, 164],
    ],
    dtype=np.float32,
)


@dataclass(frozen=True)
class DisplayMaps:
    """Maps reduced to [N, H, W] and divided by `scale`, clipped to [−1, 1] (signed) or [0, 1].

    `scale` is in the map's own units (logit per pixel unit): a displayed 1.0 means
    `scale` or more. `signed` says which colour map and range apply.
    """

    values: np.ndarray
    scale: float
    signed: bool


def reduce_channels(maps: np.ndarray, signed: bool) -> np.ndarray:
    """[N, C, H, W] → [N, H, W]: the sum over channels (signed) or the sum of |values|."""
    maps = np.asarray(maps, dtype=np.float32)
    return maps.sum(axis=1) if signed else np.abs(maps).sum(axis=1)


def robust_scale(values: np.ndarray) -> float:
    """The 99th percentile of |values|; the maximum if that is 0; 1 for an all-zero map."""
    magnitude = np.abs(np.asarray(values, dtype=np.float64)).ravel()
    magnitude = magnitude[np.isfinite(magnitude)]
    if magnitude.size == 0:
        return 1.0
    scale = float(np.percentile(magnitude, SCALE_PERCENTILE))
    if scale <= 0:
        scale = float(magnitude.max())
    return scale if scale > 0 else 1.0


def to_display(maps: np.ndarray, signed: bool, scale: float | None = None) -> DisplayMaps:
    """Reduce channels and normalise; pass `scale` to put several maps on one colour bar."""
    reduced = reduce_channels(maps, signed)
    used = robust_scale(reduced) if scale is None else float(scale)
    low = -1.0 if signed else 0.0
    values = np.clip(np.nan_to_num(reduced / used), low, 1.0).astype(np.float32)
    return DisplayMaps(values, used, signed)


def colormap(values: np.ndarray, signed: bool) -> np.ndarray:
    """Display values ([−1, 1] signed, [0, 1] absolute) → uint8 RGB, shape [..., 3]."""
    anchors = SIGNED_ANCHORS if signed else ABSOLUTE_ANCHORS
    v = np.asarray(values, dtype=np.float32)
    t = (np.clip(v, -1.0, 1.0) + 1.0) / 2.0 if signed else np.clip(v, 0.0, 1.0)
    position = np.nan_to_num(t) * (len(anchors) - 1)
    lower = np.clip(np.floor(position).astype(np.int64), 0, len(anchors) - 2)
    frac = (position - lower)[..., None]
    rgb = anchors[lower] * (1.0 - frac) + anchors[lower + 1] * frac
    return np.rint(rgb).astype(np.uint8)


def overlay(image: np.ndarray, values: np.ndarray, signed: bool, opacity: float) -> np.ndarray:
    """The map's colours over the image (C×H×W in [0, 1], shown grey or RGB) → uint8 H×W×3."""
    img = np.asarray(image, dtype=np.float32)
    base = np.repeat(img[:1], 3, axis=0) if img.shape[0] != 3 else img
    base_rgb = np.moveaxis(np.clip(base, 0.0, 1.0), 0, -1) * 255.0
    alpha = float(np.clip(opacity, 0.0, 1.0))
    mixed = (1.0 - alpha) * base_rgb + alpha * colormap(values, signed).astype(np.float32)
    return np.rint(mixed).astype(np.uint8)
