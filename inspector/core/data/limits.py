"""Size limits checked before a dataset file is decompressed, decoded or allocated.

Dataset files may come from the party being audited, so every reader compares what a
header declares with these bounds (and with the bytes really present) first. Each
limit can be raised for one run through an environment variable, which works for the
CLI and the window alike; the error messages name the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from inspector.core.errors import InspectorError


@dataclass(frozen=True)
class Limit:
    """A bound with its default and the environment variable that overrides it."""

    env: str
    default: int
    what: str  # what is counted, for messages: "pixels", "values", ...

    def value(self) -> int:
        """The current bound: the environment variable if set (a positive integer), else default."""
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        if not raw:
            return self.default
        try:
            number = int(float(raw)) if "e" in raw.lower() else int(raw)
        except ValueError:
            number = 0
        if number < 1:
            raise InspectorError(
                f"{self.env}={os.environ[self.env]!r} is not a positive whole number; "
                f"set it to the largest number of {self.what} to accept, or unset it"
            )
        return number

    def check(self, count: int, where: str, subject: str) -> None:
        """Refuse `count` above the bound, saying how to raise it."""
        bound = self.value()
        if count > bound:
            raise InspectorError(
                f"{where}: {subject} has {count:,} {self.what}, more than the limit of "
                f"{bound:,}; if the file is trusted, set {self.env} to a larger number"
            )

    def exceeded(self, where: str, subject: str) -> InspectorError:
        """The error for a count that passed the bound before it was known in full."""
        return InspectorError(
            f"{where}: {subject} hold more than {self.value():,} {self.what}; is this the "
            f"right folder? If it is, set {self.env} to a larger number"
        )


# One image as decoded (width x height): 40 MP is a large photo; 12,000 x 12,000 is refused.
MAX_IMAGE_PIXELS = Limit("INSPECTOR_MAX_IMAGE_PIXELS", 40_000_000, "pixels")
# A dataset read into memory whole (npz, CIFAR-10, MNIST): examples x channels x pixels.
# CIFAR-10 train is 153.6 M, MNIST train 47 M; 500 M uint8 values are 0.5 GB.
MAX_DATASET_VALUES = Limit("INSPECTOR_MAX_DATASET_VALUES", 500_000_000, "values")
# One array in an .npz, in bytes as stored (float64 counts 8 per value).
MAX_ARRAY_BYTES = Limit("INSPECTOR_MAX_ARRAY_BYTES", 2_000_000_000, "bytes")
# Image folders: directory entries listed in the root and its class folders together.
MAX_FOLDER_ENTRIES = Limit("INSPECTOR_MAX_FOLDER_ENTRIES", 2_000_000, "entries")
# Image folders: image files (each has its header read when the folder is opened).
MAX_FOLDER_IMAGES = Limit("INSPECTOR_MAX_FOLDER_IMAGES", 1_000_000, "images")

# Classes (highest label + 1): labels name classes "0".."K-1", so label 2**62 would hang.
MAX_CLASSES = Limit("INSPECTOR_MAX_CLASSES", 100_000, "classes")

# The opt-in to symlinks that leave the dataset folder: core/safe_files.py.


def product(shape: tuple[int, ...]) -> int:
    """Exact product of a shape in Python integers (numpy's int64 product can overflow)."""
    total = 1
    for size in shape:
        total *= int(size)
    return total
