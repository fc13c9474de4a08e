"""A folder with one subfolder per class, images decoded only when asked for.

Opening lists the files (labels come from the listing; folder_scan bounds the listing)
and reads only image headers (PIL opens lazily) to settle the channel count and size,
refusing images above the pixel limit before anything is decoded; `load` decodes just the
requested files and the content hash is computed on first access of `info`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from inspector.core.data.base import DatasetInfo
from inspector.core.data.common import check_labels, sha256_files
from inspector.core.data.folder_scan import (
    IMAGE_SUFFIXES,
    class_dirs,
    is_image_name,
    looks_like_image_folder,
    scan_image_folder,
)
from inspector.core.data.limits import MAX_IMAGE_PIXELS
from inspector.core.errors import InspectorError

__all__ = ["IMAGE_SUFFIXES", "ImageFolderDataset", "class_dirs", "looks_like_image_folder"]

GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_WIDE_INT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})
# Only the decoders the suffixes promise: Pillow otherwise sniffs any format it knows
# (EPS would start Ghostscript); JPEG includes the MPO variant cameras write.
_FORMATS = ("PNG", "JPEG", "BMP")
_READ_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError)


def is_image_file(path: Path) -> bool:
    return is_image_name(path.name)


def _open_error(path: Path, exc: Exception) -> InspectorError:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return InspectorError(f"cannot read image {path} ({text}); remove or replace the file")


def _open_checked(path: Path) -> Image.Image:
    """Open lazily (header only) and refuse an image above the pixel limit before decoding."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path, formats=_FORMATS)
        except Image.DecompressionBombError as exc:
            raise InspectorError(
                f"image {path} is too large to decode safely ({exc}); "
                "resize it, or remove it from the folder"
            ) from exc
    width, height = im.size
    try:
        MAX_IMAGE_PIXELS.check(width * height, str(path), f"the {width}x{height} image")
    except InspectorError:
        im.close()
        raise
    return im


def _read_header(path: Path) -> tuple[str, tuple[int, int]]:
    """Mode and (width, height) from the header only: PIL does not decode on open."""
    try:
        with _open_checked(path) as im:
            return im.mode, im.size
    except _READ_ERRORS as exc:
        raise _open_error(path, exc) from exc


def _decode(path: Path, channels: int) -> np.ndarray:
    """Decode one file to float32 [C, H, W] in [0, 1]."""
    try:
        with _open_checked(path) as im, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if channels == 3:
                return np.asarray(im.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
            if im.mode in _WIDE_INT_MODES:
                gray = np.clip(np.asarray(im, dtype=np.float32) / 65535.0, 0.0, 1.0)
            elif im.mode == "F":
                gray = np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
            else:
                gray = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
            return gray[None, :, :]
    except _READ_ERRORS as exc:
        raise _open_error(path, exc) from exc


class ImageFolderDataset:
    """`root/<class name>/*.png|jpg|jpeg|bmp`, like torchvision's ImageFolder, one level deep."""

    def __init__(self, root: Path, spec: str) -> None:
        self._root = root
        self._spec = spec
        classes, files, labels = scan_image_folder(root, spec)
        if not files:
            raise InspectorError(
                f"{spec}: no {'/'.join(IMAGE_SUFFIXES)} images in class subfolders of {root}; "
                "put each class's images in its own subfolder"
            )
        self._files = files
        self._labels = check_labels(np.asarray(labels, dtype=np.int64), spec)
        self._class_names = tuple(d.name for d in classes)
        self._shape = self._scan_headers()
        self._info: DatasetInfo | None = None

    def _scan_headers(self) -> tuple[int, int, int]:
        """Channels (1 only if every image is grayscale) and the one common size."""
        all_gray = True
        first_size: tuple[int, int] | None = None
        for path in self._files:
            mode, size = _read_header(path)
            all_gray = all_gray and mode in GRAY_MODES
            if first_size is None:
                first_size = size
            elif size != first_size:
                raise InspectorError(
                    f"{self._spec}: images differ in size ({self._files[0].name} is "
                    f"{first_size[0]}x{first_size[1]}, {path.name} is {size[0]}x{size[1]}); "
                    "resize them all to one size first"
                )
        assert first_size is not None
        width, height = first_size
        return (1 if all_gray else 3, height, width)

    @property
    def info(self) -> DatasetInfo:
        """Hashing reads every file, so it is done on first access, not at open."""
        if self._info is None:
            names = [
                f"{p.relative_to(self._root).as_posix()}\0{label}"
                for p, label in zip(self._files, self._labels, strict=True)
            ]
            self._info = DatasetInfo(
                spec=self._spec,
                kind="image-folder",
                shape=self._shape,
                class_names=self._class_names,
                size=len(self._files),
                sha256=sha256_files(self._files, names),
            )
        return self._info

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(self._files)

    def load(self, indices: np.ndarray) -> np.ndarray:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        channels, height, width = self._shape
        out = np.empty((len(idx), channels, height, width), dtype=np.float32)
        for row, i in enumerate(idx):
            image = _decode(self._files[int(i)], channels)
            if image.shape != self._shape:
                raise InspectorError(
                    f"{self._files[int(i)]} decodes to {image.shape}, expected {self._shape}; "
                    "the file changed since the dataset was opened, reopen it"
                )
            out[row] = image
        return out

    def __len__(self) -> int:
        return len(self._files)

    def __repr__(self) -> str:
        return f"<ImageFolderDataset {self._spec!r} n={len(self)}>"


def open_image_folder(root: Path, spec: str) -> ImageFolderDataset:
    return ImageFolderDataset(root, spec)
