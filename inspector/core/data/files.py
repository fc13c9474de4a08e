"""Open a file-backed dataset, working out its kind from what is at the path.

Formats live in their own modules (image_folder, npz, cifar, mnist); this module only
splits an optional `:train` / `:test` suffix off the spec and dispatches.
"""

from __future__ import annotations

from pathlib import Path

from inspector.core.data import cifar, mnist
from inspector.core.data.base import ImageDataset
from inspector.core.data.image_folder import IMAGE_SUFFIXES, looks_like_image_folder
from inspector.core.data.image_folder import open_image_folder as _open_image_folder
from inspector.core.data.npz import open_npz
from inspector.core.data.npz_reader import is_npy
from inspector.core.errors import InspectorError
from inspector.core.safe_files import require_regular_file

SPLITS = ("test", "train")
EXPECTED = "expected digits, tsipras, an image folder, .npz, CIFAR-10 batches or MNIST IDX files"


def split_spec(spec: str) -> tuple[Path, str | None]:
    """`PATH:train` -> (PATH, "train"), only when PATH exists; otherwise the whole spec is a path.

    Checking existence keeps paths that contain colons (or Windows drives) intact.
    """
    head, sep, tail = spec.rpartition(":")
    if sep and tail.strip().lower() in SPLITS and head and Path(head).expanduser().exists():
        return Path(head).expanduser(), tail.strip().lower()
    return Path(spec).expanduser(), None


def open_path(spec: str) -> ImageDataset:
    path, split = split_spec(spec)
    if not path.exists():
        raise InspectorError(f"dataset not found: {spec}; {EXPECTED}")
    if path.is_dir():
        return _open_dir(path, split, spec)
    return _open_file(path, split, spec)


def _no_split(split: str | None, what: str, spec: str) -> None:
    """Only CIFAR-10 and MNIST directories hold both splits; elsewhere a suffix is a mistake."""
    if split is not None:
        raise InspectorError(
            f"{spec}: a :{split} suffix only applies to CIFAR-10 or MNIST directories, "
            f"not to {what}; drop the suffix"
        )


def _open_dir(folder: Path, split: str | None, spec: str) -> ImageDataset:
    if cifar.is_cifar_dir(folder):
        return cifar.open_cifar_dir(folder, split or "test", spec)
    if mnist.is_mnist_dir(folder):
        return mnist.open_mnist_dir(folder, split or "test", spec)
    nested = folder / "cifar-10-batches-py"
    if nested.is_dir() and cifar.is_cifar_dir(nested):
        return cifar.open_cifar_dir(nested, split or "test", spec)
    if looks_like_image_folder(folder):
        _no_split(split, "an image folder", spec)
        return _open_image_folder(folder, spec)
    raise InspectorError(
        f"no dataset found in {folder}: looked for CIFAR-10 batches (test_batch, "
        "data_batch_1..5), MNIST files (t10k-images-idx3-ubyte[.gz]) and class subfolders "
        f"with {'/'.join(IMAGE_SUFFIXES)} images"
    )


def _open_file(path: Path, split: str | None, spec: str) -> ImageDataset:
    require_regular_file(path)  # a FIFO or device would block or never end
    name = path.name.lower()
    if name.endswith(".npy") or is_npy(path):
        raise InspectorError(
            f"{path} is a single .npy array, without labels; save images and labels "
            "together with np.savez(path, x=images, y=labels) and open the .npz"
        )
    if name.endswith(".npz"):
        _no_split(split, "an .npz file", spec)
        return open_npz(path, spec)
    if mnist.is_images_file(path):
        _no_split(split, "a single MNIST images file", spec)
        return mnist.open_mnist_file(path, spec)
    if "labels-idx1" in name or "labels.idx1" in name:
        raise InspectorError(
            f"{path} is an MNIST labels file; pass the images-idx3 file or its folder"
        )
    if cifar.looks_like_pickle(path):
        _no_split(split, "a single CIFAR-10 batch file", spec)
        return cifar.open_cifar_file(path, spec)
    raise InspectorError(
        f"cannot tell what {path} is: expected a .npz archive, a CIFAR-10 batch (pickle) "
        "or an MNIST images-idx3-ubyte[.gz] file; for images, point to their class folder"
    )
