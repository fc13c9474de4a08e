"""CIFAR-10 "python version" batches, read with an unpickler that cannot run code.

The official files are Python 2 pickles of dicts holding a uint8 `data` array
(N x 3072, CHW order) and a `labels` list. A pickle may name any callable, so
`SafeUnpickler.find_class` hands out only the few numpy reconstruction functions (and
harmless stand-ins for the builtins) these files use; anything else is refused before
it can be called. Those stand-ins allocate nothing a header merely declares: an array is
created empty and filled only from bytes actually present in the file (a 181-byte
pickle used to allocate 3.6 GB), and the pure-Python unpickler is used because the C one
sizes its memo table from an index in the file (a 10-byte pickle: 4 GB).
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from inspector.core.data.common import ArrayDataset, sha256_files
from inspector.core.data.limits import MAX_ARRAY_BYTES, MAX_DATASET_VALUES, product
from inspector.core.errors import InspectorError
from inspector.core.safe_files import checked_member, require_regular_file

CIFAR10_CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
TEST_FILES = ("test_batch",)
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
META_FILE = "batches.meta"
_ROW = 3 * 32 * 32
_TEXT_ENCODINGS = frozenset({"latin1", "latin-1", "iso-8859-1", "ascii", "utf-8", "utf8"})

# Taken from numpy itself so both numpy 1 (numpy.core) and numpy 2 (numpy._core) pickles
# resolve without importing the deprecated numpy.core shim.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]


def _safe_dtype(*args: Any) -> np.dtype:
    """numpy.dtype, minus object dtypes (their elements would be arbitrary objects)."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise InspectorError("refusing a pickle with Python-object arrays; it is not a CIFAR batch")
    return dtype


class _NdarrayToken:
    """Stands in for numpy.ndarray: pickles name the class only to pass it to _reconstruct;
    calling it would allocate any shape the file declares, uninitialised."""

    def __call__(self, *_: Any, **__: Any) -> None:
        raise InspectorError(
            "refusing numpy.ndarray(...) in the pickle: it allocates whatever size the file "
            "declares, which CIFAR batches never do; the file is not a CIFAR batch"
        )

    def __repr__(self) -> str:
        return "<numpy.ndarray stand-in>"


_NDARRAY = _NdarrayToken()


def _safe_reconstruct(subtype: Any, shape: Any, typecode: Any) -> np.ndarray:
    """numpy's _reconstruct, for the empty array that BUILD then fills from real bytes."""
    if subtype is not _NDARRAY or not isinstance(shape, tuple) or product(shape) != 0:
        raise InspectorError("refusing an array built with a declared size; not a CIFAR batch")
    return _RECONSTRUCT(np.ndarray, shape, _safe_dtype(typecode))


def _safe_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """numpy's _frombuffer, only when the shape matches the bytes given."""
    dtype = _safe_dtype(dtype)
    if not isinstance(buf, bytes | bytearray) or not isinstance(shape, tuple):
        raise InspectorError("refusing an unexpected array buffer in the pickle; not a CIFAR batch")
    if product(shape) * dtype.itemsize != len(buf):
        raise InspectorError("an array in the pickle declares more data than it holds; corrupt")
    return _FROMBUFFER(buf, dtype, shape, order)


def _safe_bytes(*args: Any) -> bytes:
    """bytes()/bytes(b)/bytes(s, enc) only: bytes(10**12) would exhaust memory."""
    if not args:
        return b""
    if len(args) == 1 and isinstance(args[0], bytes | bytearray):
        return bytes(args[0])
    if len(args) == 2 and isinstance(args[0], str) and str(args[1]).lower() in _TEXT_ENCODINGS:
        return args[0].encode(args[1])
    raise InspectorError("refusing an unexpected bytes() call in the pickle; not a CIFAR batch")


def _safe_bytearray(*args: Any) -> bytearray:
    return bytearray(_safe_bytes(*args))


def _safe_codecs_encode(obj: Any, encoding: str = "utf-8", *_: Any) -> bytes:
    """Python 3 protocol-2 pickles store bytes as _codecs.encode(text, 'latin1')."""
    if isinstance(obj, str) and str(encoding).lower() in _TEXT_ENCODINGS:
        return obj.encode(encoding)
    raise InspectorError("refusing an unexpected codecs call in the pickle; not a CIFAR batch")


_ALLOWED: dict[tuple[str, str], Callable[..., Any] | _NdarrayToken] = {
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _safe_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _safe_frombuffer,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _safe_dtype,
    ("_codecs", "encode"): _safe_codecs_encode,
    ("builtins", "bytes"): _safe_bytes,
    ("__builtin__", "bytes"): _safe_bytes,
    ("builtins", "bytearray"): _safe_bytearray,
    ("__builtin__", "bytearray"): _safe_bytearray,
}


class SafeUnpickler(pickle._Unpickler):
    """Unpickler whose globals are limited to `_ALLOWED`; everything else is an error.

    The pure-Python unpickler: its memo is a dict, where the C unpickler allocates a table
    as large as the biggest memo index a file names.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise InspectorError(
                f"refusing to load {module}.{name} from a pickle: CIFAR batches contain only "
                "numpy arrays and lists; do not open pickles from untrusted sources"
            ) from None


def safe_unpickle(raw: bytes, where: Path) -> Any:
    """Unpickle bytes with `SafeUnpickler`, turning any failure into an InspectorError."""
    try:
        return SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except InspectorError as exc:
        raise InspectorError(f"{where}: {exc}") from None
    except Exception as exc:  # a corrupt pickle can fail in many ways; all mean "bad file"
        raise InspectorError(
            f"cannot read CIFAR batch {where} ({type(exc).__name__}: {exc}); "
            "re-download or re-extract cifar-10-python.tar.gz"
        ) from exc


def _text_keys(obj: Any, where: Path) -> dict[str, Any]:
    """Batch dicts have bytes keys (Python 2 str) in the real files, str keys if re-saved."""
    if not isinstance(obj, dict):
        raise InspectorError(f"{where} holds a {type(obj).__name__}, not a CIFAR batch dict")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def _read_pickle(path: Path) -> dict[str, Any]:
    size = require_regular_file(path).st_size
    MAX_ARRAY_BYTES.check(size, str(path), "the batch file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InspectorError(f"cannot read {path} ({exc}); check the path and permissions") from exc
    return _text_keys(safe_unpickle(raw, path), path)


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [N, 3, 32, 32], labels int64 [N]) from one batch file."""
    batch = _read_pickle(path)
    if "data" not in batch or "labels" not in batch:
        raise InspectorError(
            f"{path} has no data/labels entries (found: {', '.join(sorted(batch))}); "
            "expected a CIFAR-10 python batch such as test_batch"
        )
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise InspectorError(f"{path}: 'data' is not a 2-D uint8 array; the batch is corrupt")
    if data.shape[1] != _ROW:
        raise InspectorError(
            f"{path}: rows have {data.shape[1]} values, expected {_ROW} (3 x 32 x 32)"
        )
    labels = _labels(batch["labels"], path)
    if labels.shape[0] != data.shape[0]:
        raise InspectorError(
            f"{path}: {data.shape[0]} images but {labels.shape[0]} labels; the batch is corrupt"
        )
    return data.reshape(-1, 3, 32, 32), labels


def _labels(raw: Any, path: Path) -> np.ndarray:
    """A list (or array) of integers; floats would be truncated silently, so refused."""
    try:
        labels = np.asarray(raw).reshape(-1)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InspectorError(f"{path}: 'labels' are not integers; the batch is corrupt") from exc
    if labels.size and labels.dtype.kind not in "iu":
        raise InspectorError(f"{path}: 'labels' are not integers; the batch is corrupt")
    return labels.astype(np.int64)


def _check_label_range(labels: np.ndarray, class_names: tuple[str, ...], spec: str) -> None:
    """CIFAR labels index the class names; 255 in a 10-class set is a corrupt batch."""
    if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
        bad = int(labels.max()) if labels.max() >= len(class_names) else int(labels.min())
        raise InspectorError(
            f"{spec}: label {bad} is out of range for {len(class_names)} classes "
            f"(0..{len(class_names) - 1}); the batch is corrupt or not CIFAR-10, re-extract it"
        )


def read_class_names(folder: Path) -> tuple[str, ...]:
    """label_names from batches.meta when present, else the standard CIFAR-10 names."""
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        return CIFAR10_CLASS_NAMES
    checked_member(meta_path, folder)
    names = _read_pickle(meta_path).get("label_names")
    if not isinstance(names, list) or not names:
        return CIFAR10_CLASS_NAMES
    return tuple(n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in names)


def is_cifar_dir(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (*TEST_FILES, *TRAIN_FILES, META_FILE))


def looks_like_pickle(path: Path) -> bool:
    """Protocol >= 2 pickles start with the PROTO opcode 0x80."""
    try:
        with open(path, "rb") as f:
            return f.read(1) == b"\x80"
    except OSError:
        return False


def _open_files(files: list[Path], class_names: tuple[str, ...], spec: str) -> ArrayDataset:
    parts = [read_batch(path) for path in files]
    total = sum(images.size for images, _ in parts)
    MAX_DATASET_VALUES.check(total, spec, "the dataset")
    labels = np.concatenate([labels for _, labels in parts])
    _check_label_range(labels, class_names, spec)
    meta = files[0].parent / META_FILE
    hashed = [*files, meta] if meta.is_file() else files
    return ArrayDataset(
        spec=spec,
        kind="cifar10",
        images=np.concatenate([images for images, _ in parts]),
        labels=labels,
        class_names=class_names,
        sha256=sha256_files(hashed, [p.name for p in hashed]),
    )


def open_cifar_dir(folder: Path, split: str, spec: str) -> ArrayDataset:
    """`DIR` = test_batch; `DIR:train` = data_batch_1..5."""
    names = TRAIN_FILES if split == "train" else TEST_FILES
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise InspectorError(
            f"{folder} lacks CIFAR-10 {split} file(s) {', '.join(missing)}; "
            "extract cifar-10-python.tar.gz completely"
        )
    for name in names:
        checked_member(folder / name, folder)
    return _open_files([folder / n for n in names], read_class_names(folder), spec)


def open_cifar_file(path: Path, spec: str) -> ArrayDataset:
    return _open_files([path], read_class_names(path.parent), spec)
