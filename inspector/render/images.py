"""Numpy images (float C×H×W in [0, 1]) to Qt images, kept pixel-exact.

Adversarial perturbations live at the scale of single pixels, so images are enlarged by
nearest neighbour at an integer factor: smoothing would blur exactly what the user came to see.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

from inspector.core.saliency.display import SIGNED_ANCHORS

# Diverging map for single-channel δ, the ends of the signed saliency map (green for
# negative, magenta for positive): colour-blind safe, unlike any grey digit and unlike
# every model colour, so δ is never mistaken for an image or a model.
NEGATIVE_RGB = SIGNED_ANCHORS[0] / 255.0
POSITIVE_RGB = SIGNED_ANCHORS[-1] / 255.0
MID_GREY = 0.5


def _to_uint8_hwc(image: np.ndarray) -> np.ndarray:
    """C×H×W float → H×W (grey) or H×W×3 uint8; NaN shows as black rather than failing."""
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[0] == 0:
        raise ValueError(f"expected a C×H×W image, got shape {arr.shape}")
    channels = arr.shape[0]
    if channels == 1:
        hwc = arr[0]
    elif channels >= 3:
        hwc = np.moveaxis(arr[:3], 0, -1)  # RGBA and beyond: drop the extra channels
    else:
        hwc = arr.mean(axis=0)  # two channels have no natural colour mapping
    hwc = np.nan_to_num(hwc, nan=0.0)
    return np.ascontiguousarray(np.rint(np.clip(hwc, 0.0, 1.0) * 255.0).astype(np.uint8))


def to_qimage(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of the pixels (numpy memory may go away after the call)."""
    pixels = _to_uint8_hwc(image)
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        fmt, line = QImage.Format.Format_Grayscale8, width
    else:
        fmt, line = QImage.Format.Format_RGB888, 3 * width
    return QImage(pixels.data, width, height, line, fmt).copy()


def to_pixmap(image: np.ndarray, size: int, device_pixel_ratio: float = 1.0) -> QPixmap:
    """The image enlarged by the largest integer factor that fits a size×size box.

    Rendered at size·dpr device pixels so it stays sharp on HiDPI screens; an image larger
    than the box is shrunk smoothly instead (there is no integer factor below one).
    """
    qimage = to_qimage(image)
    dpr = max(float(device_pixel_ratio), 1e-3)
    box = max(1, int(size * dpr))
    longest = max(qimage.width(), qimage.height())
    factor = box // longest
    if factor >= 1:
        scaled = qimage.scaled(
            qimage.width() * factor,
            qimage.height() * factor,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.FastTransformation,
        )
    else:
        scaled = qimage.scaled(
            box,
            box,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    pixmap = QPixmap.fromImage(scaled)
    pixmap.setDevicePixelRatio(dpr)
    return pixmap


def format_factor(factor: float) -> str:
    """A perturbation's amplification factor: two significant digits, never in e-notation."""
    return f"{factor:.0f}" if factor >= 10 else f"{factor:.2g}"


def perturbation_image(delta: np.ndarray) -> tuple[np.ndarray, float]:
    """δ as a displayable 3×H×W image in [0, 1] and the factor it was amplified by.

    Zero is mid grey and the largest |δ| reaches the end of the range, so even a 1/255
    perturbation is visible; the factor N (shown value = 0.5 + N·δ) lets the panel say how
    much it was amplified. One channel uses signed saliency's green (−) / magenta (+) map,
    three channels show 0.5 + N·δ per channel. δ = 0 gives a flat grey image and factor 1.
    """
    arr = np.nan_to_num(np.asarray(delta, dtype=np.float32))
    if arr.ndim == 2:
        arr = arr[None]
    peak = float(np.abs(arr).max()) if arr.size else 0.0
    factor = MID_GREY / peak if peak > 0 else 1.0
    if arr.shape[0] >= 3:
        return np.clip(MID_GREY + factor * arr[:3], 0.0, 1.0).astype(np.float32), factor
    signed = np.clip(factor * arr.mean(axis=0) / MID_GREY, -1.0, 1.0)  # in [−1, 1]
    weight = np.abs(signed)[None]
    target = np.where(signed[None] < 0, NEGATIVE_RGB[:, None, None], POSITIVE_RGB[:, None, None])
    image = (1.0 - weight) * MID_GREY + weight * target
    return image.astype(np.float32), factor
