"""What every dataset offers the rest of the core."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class DatasetInfo:
    """Identity and shape of a dataset, stored with every result."""

    spec: str  # what the user typed: "digits", "tsipras", a path
    kind: str  # "digits", "tsipras", "image-folder", "npz", "cifar10", "mnist"
    shape: tuple[int, int, int]  # C, H, W of one image as delivered by load()
    class_names: tuple[str, ...]
    size: int  # number of examples
    sha256: str  # content hash of the source files (or of the generated arrays)


@runtime_checkable
class ImageDataset(Protocol):
    """A labelled image set with images in [0, 1], delivered as float32 NCHW batches.

    `labels` is cheap (no image decoding) so subsets can be stratified; `load` decodes
    only the images asked for, so an image folder is never read whole to be sliced.
    """

    info: DatasetInfo

    @property
    def labels(self) -> np.ndarray:  # int64, shape [size]
        ...

    def load(self, indices: np.ndarray) -> np.ndarray:  # float32 [len(indices), C, H, W] in [0, 1]
        ...
