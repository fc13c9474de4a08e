"""Shared pieces of the dataset readers: an in-memory dataset, label checks, hashing.

Every reader ends up with the same few obligations (non-empty, integer labels >= 0,
images in [0, 1], a content hash), so they live here once instead of in each format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from inspector.core.data.base import DatasetInfo
from inspector.core.data.limits import MAX_CLASSES
from inspector.core.errors import InspectorError

_CHUNK = 1 << 20


def sha256_files(paths: Iterable[Path], names: Iterable[str] | None = None) -> str:
    """Hash files by streaming their bytes, so a large folder never sits in memory at once.

    `names` (e.g. relative paths and labels) are mixed in so renaming or relabelling a
    file changes the hash even when the bytes do not.
    """
    digest = hashlib.sha256()
    name_list = list(names) if names is not None else None
    for i, path in enumerate(paths):
        if name_list is not None:
            digest.update(name_list[i].encode("utf-8") + b"\0")
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def sha256_arrays(*arrays: np.ndarray) -> str:
    """Hash generated or decoded arrays (dtype and shape included, so views differ)."""
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


def check_labels(labels: np.ndarray, where: str) -> np.ndarray:
    """Return labels as read-only int64, refusing empty, non-integer or negative labels."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise InspectorError(
            f"{where}: labels have shape {labels.shape}; give one integer class index per image"
        )
    if labels.size == 0:
        raise InspectorError(f"{where}: the dataset has no examples; point to a non-empty dataset")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise InspectorError(
            f"{where}: labels have dtype {labels.dtype}; store integer class indices (0, 1, ...)"
        )
    if labels.min() < 0:
        raise InspectorError(
            f"{where}: found negative label {int(labels.min())}; class indices must be >= 0"
        )
    out = labels.astype(np.int64, copy=True)
    out.setflags(write=False)
    return out


def default_class_names(labels: np.ndarray, names: Iterable[str] | None = None) -> tuple[str, ...]:
    """Use the given names, or "0".."K-1", checking that every label has a name."""
    highest = int(labels.max())
    if highest >= MAX_CLASSES.value():
        raise InspectorError(
            f"label {highest} would make {highest + 1:,} classes, more than the limit of "
            f"{MAX_CLASSES.value():,}; fix the labels, or set {MAX_CLASSES.env} to a larger number"
        )
    if names is None:
        return tuple(str(i) for i in range(highest + 1))
    out = tuple(str(n) for n in names)
    if highest >= len(out):
        raise InspectorError(
            f"label {highest} has no class name ({len(out)} names given); "
            "fix the labels or supply one name per class"
        )
    return out


class ArrayDataset:
    """A dataset whose images are already decoded in memory (uint8 0-255 or float in [0, 1]).

    uint8 images stay uint8 until `load`, which keeps MNIST/CIFAR at a quarter of the
    memory of float32. The hash may be given as a callable so it runs on first use only.
    """

    def __init__(
        self,
        *,
        spec: str,
        kind: str,
        images: np.ndarray,
        labels: np.ndarray,
        class_names: tuple[str, ...] | None,
        sha256: str | Callable[[], str],
    ) -> None:
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise InspectorError(
                f"{spec}: images have shape {images.shape}; expected N x C x H x W with C = 1 or 3"
            )
        if images.shape[0] != labels.shape[0]:
            raise InspectorError(
                f"{spec}: {images.shape[0]} images but {labels.shape[0]} labels; "
                "give exactly one label per image"
            )
        self._images = images
        self._labels = check_labels(labels, spec)
        self._spec = spec
        self._kind = kind
        self._class_names = default_class_names(self._labels, class_names)
        self._sha = sha256
        self._info: DatasetInfo | None = None

    @property
    def info(self) -> DatasetInfo:
        """Built on first access so a file hash is only computed when someone needs it."""
        if self._info is None:
            sha = self._sha() if callable(self._sha) else self._sha
            c, h, w = self._images.shape[1:]
            self._info = DatasetInfo(
                spec=self._spec,
                kind=self._kind,
                shape=(int(c), int(h), int(w)),
                class_names=self._class_names,
                size=int(self._labels.shape[0]),
                sha256=sha,
            )
        return self._info

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    def load(self, indices: np.ndarray) -> np.ndarray:
        batch = self._images[np.asarray(indices, dtype=np.int64)]
        if batch.dtype == np.uint8:
            return batch.astype(np.float32) / np.float32(255.0)
        return batch.astype(np.float32, copy=False)

    def __len__(self) -> int:
        return int(self._labels.shape[0])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._kind} {self._spec!r} n={len(self)}>"


def check_float_range(images: np.ndarray, where: str) -> None:
    """Refuse float images outside [0, 1]: silently clipping would change what is evaluated."""
    if images.size == 0:
        return
    if not np.all(np.isfinite(images)):
        raise InspectorError(f"{where}: images contain NaN or infinite values; clean the data")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        hint = " (divide by 255 if they are 0-255 pixels)" if high > 1.0 else ""
        raise InspectorError(
            f"{where}: float images span [{low:g}, {high:g}]; they must lie in [0, 1]{hint}"
        )
