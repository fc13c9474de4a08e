"""A folder with one subfolder per class, images decoded only when asked for.

Opening lists the files (labels come from the listing) and reads only image headers
(PIL opens lazily) to settle the channel count and size; `load` decodes just the
requested files and the content hash is computed on first access of `info`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from inspector.core.data.base import DatasetInfo
from inspector.core.data.common import check_labels, sha256_files
from inspector.core.errors import InspectorError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
_WIDE_INT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def class_dirs(root: Path) -> list[Path]:
    """Visible subfolders, sorted by name: the sorted names are the class names."""
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def _images_under(folder: Path) -> list[Path]:
    """Image files anywhere below one class folder, in a stable (sorted) order."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath, f) for f in sorted(filenames) if is_image_file(Path(f)))
    return found


def looks_like_image_folder(root: Path) -> bool:
    """True when some class subfolder holds at least one image file."""
    return any(_images_under(d) for d in class_dirs(root))


def _open_error(path: Path, exc: Exception) -> InspectorError:
    return InspectorError(f"cannot read image {path} ({exc}); remove or replace the file")


def _read_header(path: Path) -> tuple[str, tuple[int, int]]:
    """Mode and (width, height) from the header only: PIL does not decode on open."""
    try:
        with Image.open(path) as im:
            return im.mode, im.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _open_error(path, exc) from exc


def _decode(path: Path, channels: int) -> np.ndarray:
    """Decode one file to float32 [C, H, W] in [0, 1]."""
    try:
        with Image.open(path) as im:
            if channels == 3:
                return np.asarray(im.convert("RGB"), dtype=np.float32).transpose(2, 0, 1) / 255.0
            if im.mode in _WIDE_INT_MODES:
                gray = np.clip(np.asarray(im, dtype=np.float32) / 65535.0, 0.0, 1.0)
            elif im.mode == "F":
                gray = np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
            else:
                gray = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
            return gray[None, :, :]
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _open_error(path, exc) from exc


class ImageFolderDataset:
    """`root/<class name>/**/*.png|jpg|jpeg|bmp`, like torchvision's ImageFolder."""

    def __init__(self, root: Path, spec: str) -> None:
        self._root = root
        self._spec = spec
        classes = class_dirs(root)
        files: list[Path] = []
        labels: list[int] = []
        for label, folder in enumerate(classes):
            found = _images_under(folder)
            files.extend(found)
            labels.extend([label] * len(found))
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
