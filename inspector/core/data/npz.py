"""`.npz` archives with `x` (images) and `y` (integer labels), optional `class_names`.

Read by npz_reader, never with pickles (an .npz can otherwise carry pickled objects that
run code on load) and with every header checked before its data is allocated.
x may be N x C x H x W, N x H x W x C or N x H x W (grayscale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector.core.data.common import ArrayDataset, check_float_range, sha256_files
from inspector.core.data.npz_reader import read_npz
from inspector.core.errors import InspectorError


def _require(arrays: dict[str, np.ndarray], names: list[str], key: str, path: Path) -> np.ndarray:
    if key not in arrays:
        raise InspectorError(
            f"{path} has no {key!r} array (found: {', '.join(names) or 'none'}); "
            "save images as x and integer labels as y, e.g. np.savez(path, x=x, y=y)"
        )
    return arrays[key]


def to_nchw(x: np.ndarray, where: str) -> np.ndarray:
    """Accept NCHW, NHWC or NHW; channels must be 1 or 3 (NCHW wins when ambiguous)."""
    if x.ndim == 3:
        return x[:, None, :, :]
    if x.ndim == 4 and x.shape[1] in (1, 3):
        return x
    if x.ndim == 4 and x.shape[3] in (1, 3):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    raise InspectorError(
        f"{where}: x has shape {x.shape}; expected N x C x H x W, N x H x W x C "
        "or N x H x W with C = 1 or 3"
    )


def _scale_images(x: np.ndarray, where: str) -> np.ndarray:
    """Keep uint8 (divided by 255 on load); floats must already be in [0, 1]."""
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.floating):
        check_float_range(x, where)
        return x.astype(np.float32, copy=False)
    raise InspectorError(
        f"{where}: x has dtype {x.dtype}; use uint8 (0-255) or float values in [0, 1]"
    )


def _class_names(arrays: dict[str, np.ndarray], where: str) -> tuple[str, ...] | None:
    if "class_names" not in arrays:
        return None
    names = arrays["class_names"]
    if names.ndim != 1:
        raise InspectorError(f"{where}: class_names has shape {names.shape}; give a 1-D list")
    try:
        return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
    except UnicodeDecodeError as exc:
        raise InspectorError(f"{where}: class_names are not UTF-8 text ({exc})") from exc


def open_npz(path: Path, spec: str) -> ArrayDataset:
    arrays, names = read_npz(path, ("x", "y", "class_names"))
    x = _require(arrays, names, "x", path)
    y = _require(arrays, names, "y", path)
    images = _scale_images(to_nchw(x, spec), spec)
    return ArrayDataset(
        spec=spec,
        kind="npz",
        images=images,
        labels=y,
        class_names=_class_names(arrays, spec),
        sha256=sha256_files([path]),
    )
