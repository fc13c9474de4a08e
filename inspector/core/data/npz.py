"""`.npz` archives with `x` (images) and `y` (integer labels), optional `class_names`.

Loaded with allow_pickle=False: an .npz can otherwise carry pickled objects that run
code on load. x may be N x C x H x W, N x H x W x C or N x H x W (grayscale).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from inspector.core.data.common import ArrayDataset, check_float_range, sha256_files
from inspector.core.errors import InspectorError


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Read every array of the archive eagerly so read errors surface at open."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise InspectorError(f"{path} is a single .npy array; save x and y with np.savez")
            return {key: archive[key] for key in archive.files}
    except InspectorError:
        raise
    except ValueError as exc:
        raise InspectorError(
            f"cannot read {path} ({exc}); save plain numeric/string arrays, not Python objects"
        ) from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InspectorError(f"cannot read {path} ({exc}); is it a valid .npz archive?") from exc


def _require(arrays: dict[str, np.ndarray], key: str, path: Path) -> np.ndarray:
    if key not in arrays:
        raise InspectorError(
            f"{path} has no {key!r} array (found: {', '.join(sorted(arrays)) or 'none'}); "
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
    return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())


def open_npz(path: Path, spec: str) -> ArrayDataset:
    arrays = _read_arrays(path)
    x = _require(arrays, "x", path)
    y = _require(arrays, "y", path)
    images = _scale_images(to_nchw(x, spec), spec)
    return ArrayDataset(
        spec=spec,
        kind="npz",
        images=images,
        labels=y,
        class_names=_class_names(arrays, spec),
        sha256=sha256_files([path]),
    )
