"""Datasets: open one from a spec string, fit it to a model's input, pick a fair subset.

Spec grammar (see `open_dataset`):
    digits | digits:test | digits:train
    tsipras | tsipras:n=1000,p=0.9,seed=0,split=test
    PATH | PATH:test | PATH:train      (the suffix only for CIFAR-10 / MNIST directories)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from inspector.core.data.base import DatasetInfo, ImageDataset
from inspector.core.data.builtin import is_builtin, open_builtin
from inspector.core.data.files import open_path
from inspector.core.errors import InspectorError

__all__ = ["DatasetInfo", "ImageDataset", "adapt", "open_dataset", "stratified_subset"]

LUMINANCE = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights, what PIL's convert("L") uses


def open_dataset(spec: str) -> ImageDataset:
    """Open a built-in (`digits`, `tsipras[:...]`) or a path; built-in names win over paths.

    A path may be an image folder (one subfolder per class), an `.npz` with x/y, a
    CIFAR-10 python batch directory or file, or MNIST IDX files (directory or images
    file); `PATH:train` / `PATH:test` picks the split of CIFAR-10 and MNIST directories.
    """
    spec = spec.strip()
    if not spec:
        raise InspectorError("no dataset given; use digits, tsipras or a path to a dataset")
    if is_builtin(spec):
        return open_builtin(spec)
    return open_path(spec)


# --- adapt ------------------------------------------------------------------------------


def _check_shape(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    if len(shape) != 3 or any(int(s) < 1 for s in shape):
        raise InspectorError(f"target shape {shape} is not C x H x W with positive sizes")
    c, h, w = (int(s) for s in shape)
    if c not in (1, 3):
        raise InspectorError(f"cannot adapt images to {c} channels; only 1 (gray) or 3 (RGB)")
    return c, h, w


def _describe(source: tuple[int, int, int], target: tuple[int, int, int]) -> str:
    text = "resized {}x{}x{} -> {}x{}x{}".format(*source, *target)
    if source[0] != target[0]:
        text += ", gray to RGB" if target[0] == 3 else ", RGB to gray (luminance)"
    return text


class AdaptedDataset:
    """Another dataset seen through a resize and/or channel conversion, done per batch."""

    def __init__(self, inner: ImageDataset, shape: tuple[int, int, int]) -> None:
        self.inner = inner
        self.shape = shape
        self._info: DatasetInfo | None = None

    @property
    def info(self) -> DatasetInfo:
        if self._info is None:
            base = self.inner.info
            self._info = dataclasses.replace(
                base, shape=self.shape, spec=f"{base.spec} ({_describe(base.shape, self.shape)})"
            )
        return self._info

    @property
    def labels(self) -> np.ndarray:
        return self.inner.labels

    def load(self, indices: np.ndarray) -> np.ndarray:
        return convert_images(self.inner.load(indices), self.shape)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def convert_images(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Channels 1->3 by repeat, 3->1 by luminance; bilinear antialiased resize; clamp [0, 1]."""
    c, h, w = shape
    if images.shape[0] == 0:
        return np.zeros((0, c, h, w), dtype=np.float32)
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    if x.shape[1] == 3 and c == 1:
        weights = torch.tensor(LUMINANCE, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x * weights).sum(dim=1, keepdim=True)
    elif x.shape[1] != c and x.shape[1] != 1:
        raise InspectorError(f"cannot convert {x.shape[1]}-channel images to {c} channels")
    if tuple(x.shape[2:]) != (h, w):
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    if x.shape[1] == 1 and c == 3:
        x = x.repeat(1, 3, 1, 1)
    return x.clamp_(0.0, 1.0).numpy()


def adapt(dataset: ImageDataset, shape: tuple[int, int, int]) -> ImageDataset:
    """Fit a dataset to a model's input shape; the same object back when it already fits."""
    target = _check_shape(shape)
    source = tuple(dataset.info.shape)
    if source == target:
        return dataset
    if source[0] not in (1, 3):
        raise InspectorError(f"cannot adapt {source[0]}-channel images; only 1 or 3 channels")
    return AdaptedDataset(dataset, target)


# --- stratified subset ------------------------------------------------------------------


def _largest_remainder(counts: np.ndarray, limit: int) -> np.ndarray:
    """Split `limit` proportionally to `counts` (Hamilton's method, exact integer arithmetic)."""
    total = int(counts.sum())
    scaled = counts.astype(np.int64) * limit
    alloc, remainder = scaled // total, scaled % total
    extra = limit - int(alloc.sum())
    order = np.lexsort((np.arange(len(counts)), -remainder))  # largest remainder, then class
    alloc[order[:extra]] += 1
    return alloc


def _at_least_one_each(alloc: np.ndarray) -> np.ndarray:
    """Give every class one example, taken from the currently largest allocation."""
    alloc = alloc.copy()
    for k in np.flatnonzero(alloc == 0):
        donor = int(np.argmax(alloc))
        alloc[donor] -= 1
        alloc[k] = 1
    return alloc


def stratified_subset(labels: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """Sorted int64 indices of about `limit` examples with the class mix of the whole set.

    Class counts are proportional to class frequency (largest remainder); every class gets
    at least one example when limit >= number of classes. Deterministic for a given seed.
    """
    labels = np.asarray(labels).reshape(-1)
    n = labels.shape[0]
    if limit is None or limit >= n:
        return np.arange(n, dtype=np.int64)
    if limit < 1:
        raise InspectorError(f"limit {limit} must be a positive number of examples (or none)")
    classes, counts = np.unique(labels, return_counts=True)
    alloc = _largest_remainder(counts, int(limit))
    if limit >= len(classes):
        alloc = _at_least_one_each(alloc)
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(labels == c), size=int(k), replace=False)
        for c, k in zip(classes, alloc, strict=True)
        if k > 0
    ]
    return np.sort(np.concatenate(chosen)).astype(np.int64)
