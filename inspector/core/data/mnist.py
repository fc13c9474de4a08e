"""MNIST-style IDX files (images idx3, labels idx1), gzipped or plain.

The IDX header is a big-endian magic number (0x00000803 for uint8 3-D images,
0x00000801 for uint8 1-D labels) followed by one uint32 per dimension. The header is
read first and checked against the limits; then exactly the declared bytes are read
(gzip is decompressed as a stream), so a gzip bomb never inflates past the bound.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

import numpy as np

from inspector.core.data.common import ArrayDataset, sha256_files
from inspector.core.data.limits import MAX_DATASET_VALUES, product
from inspector.core.errors import InspectorError
from inspector.core.safe_files import checked_member, require_regular_file

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
MNIST_CLASS_NAMES = tuple(str(i) for i in range(10))
_PREFIX = {"test": "t10k", "train": "train"}


def _candidates(prefix: str, kind: str) -> list[str]:
    """`t10k-images-idx3-ubyte[.gz]`, and the `t10k-images.idx3-ubyte` spelling some mirrors use."""
    stem = "images-idx3" if kind == "images" else "labels-idx1"
    dotted = stem.replace("-", ".")
    return [f"{prefix}-{s}-ubyte{gz}" for s in (stem, dotted) for gz in ("", ".gz")]


def find_in_dir(folder: Path, split: str, kind: str) -> Path | None:
    for name in _candidates(_PREFIX[split], kind):
        if (folder / name).is_file():
            return folder / name
    return None


def is_mnist_dir(folder: Path) -> bool:
    return any(find_in_dir(folder, split, "images") for split in _PREFIX)


def is_images_file(path: Path) -> bool:
    return "images-idx3" in path.name or "images.idx3" in path.name


def labels_path_for(images: Path) -> Path:
    """Swap images-idx3 for labels-idx1; accept the labels file gzipped or not."""
    name = images.name.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1")
    plain = name.removesuffix(".gz")
    for candidate in (name, plain, plain + ".gz"):
        if (images.parent / candidate).is_file():
            return images.parent / candidate
    raise InspectorError(
        f"no labels file {name} next to {images}; put the matching labels-idx1 file beside it"
    )


def _parse_header(header: bytes, magic: int, ndim: int, path: Path) -> tuple[int, ...]:
    """The dimensions, after checking the length and the magic number."""
    if len(header) < 4 + 4 * ndim:
        raise InspectorError(f"{path} is too short for an IDX header; the file is truncated")
    (found,) = struct.unpack(">I", header[:4])
    if found != magic:
        raise InspectorError(
            f"{path} has IDX magic 0x{found:08x}, expected 0x{magic:08x}; "
            "is it the right (images vs labels) file?"
        )
    return struct.unpack(f">{ndim}I", header[4:])


def _size_error(path: Path, held: str, dims: tuple[int, ...], expected: int) -> InspectorError:
    return InspectorError(
        f"{path} holds {held} data bytes, but its header {dims} needs {expected:,}; "
        "the file is truncated or corrupt, re-download it"
    )


def _read_stream(
    stream: BinaryIO, magic: int, ndim: int, path: Path, size: int | None
) -> np.ndarray:
    """Header first, then exactly the declared bytes: a gzip bomb stops at the bound."""
    header = stream.read(4 + 4 * ndim)
    dims = _parse_header(header, magic, ndim, path)
    expected = product(dims)
    MAX_DATASET_VALUES.check(expected, str(path), f"the {'x'.join(map(str, dims))} IDX array")
    if size is not None and size - len(header) != expected:  # plain file: its size is known
        raise _size_error(path, f"{size - len(header):,}", dims, expected)
    data = stream.read(expected)
    if len(data) != expected:
        raise _size_error(path, f"{len(data):,}", dims, expected)
    if stream.read(1):
        raise _size_error(path, f"more than {expected:,}", dims, expected)
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file, gunzipped as a stream when it starts like gzip."""
    size = require_regular_file(path).st_size
    try:
        with ExitStack() as stack:
            raw = stack.enter_context(open(path, "rb"))
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            if not gzipped:
                return _read_stream(raw, magic, ndim, path, size)
            stream = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            return _read_stream(stream, magic, ndim, path, None)
    except (OSError, EOFError, zlib.error) as exc:
        raise InspectorError(f"cannot read {path} ({exc}); re-download the MNIST file") from exc


def open_mnist_files(images_path: Path, labels_path: Path, spec: str) -> ArrayDataset:
    images = read_idx(images_path, IMAGES_MAGIC, 3)
    labels = read_idx(labels_path, LABELS_MAGIC, 1)
    if images.shape[0] != labels.shape[0]:
        raise InspectorError(
            f"{images_path.name} has {images.shape[0]} images but {labels_path.name} has "
            f"{labels.shape[0]} labels; use files from the same split"
        )
    names = MNIST_CLASS_NAMES if labels.size == 0 or labels.max() < 10 else None
    return ArrayDataset(
        spec=spec,
        kind="mnist",
        images=images[:, None, :, :],
        labels=labels.astype(np.int64),
        class_names=names,
        sha256=sha256_files([images_path, labels_path], [images_path.name, labels_path.name]),
    )


def open_mnist_dir(folder: Path, split: str, spec: str) -> ArrayDataset:
    """`DIR` = t10k-* files, `DIR:train` = train-* files."""
    images = find_in_dir(folder, split, "images")
    labels = find_in_dir(folder, split, "labels")
    if images is None or labels is None:
        wanted = _candidates(_PREFIX[split], "images" if images is None else "labels")[1]
        raise InspectorError(f"{folder} has no {wanted} (or unzipped); add the MNIST {split} files")
    checked_member(images, folder)
    checked_member(labels, folder)
    return open_mnist_files(images, labels, spec)


def open_mnist_file(images_path: Path, spec: str) -> ArrayDataset:
    labels = labels_path_for(images_path)
    checked_member(labels, images_path.parent)  # found beside the file the user named
    return open_mnist_files(images_path, labels, spec)
