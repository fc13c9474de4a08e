"""Read named `.npy` arrays out of an `.npz` (zip) archive without trusting their headers.

`np.load` allocates whatever shape a header declares; here each header is read first
(`numpy.lib.format`), its dtype must be plain numbers or short strings (never objects:
no pickles), and shape x itemsize must match the member's declared size and stay within
the limits before a byte of data is read. The zip reader then stops at the declared
size, so a deflate bomb cannot grow past what was checked.
"""

from __future__ import annotations

import lzma
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from inspector.core.data.limits import MAX_ARRAY_BYTES, MAX_DATASET_VALUES, product
from inspector.core.errors import InspectorError

NPY_MAGIC = b"\x93NUMPY"
_KINDS = frozenset("biufUS")  # bool, integers, floats, text (class names)
_MAX_HEADER = 10_000  # numpy's own default for untrusted headers
_MAX_TEXT_ITEM = 1024  # bytes per string: class names are short
_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
# What a damaged archive or member can raise inside zipfile, zlib, lzma and numpy's parser.
_BAD_FILE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
)


def is_npy(path: Path) -> bool:
    """True when the file starts like a single .npy array (whatever its name)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(NPY_MAGIC)) == NPY_MAGIC
    except OSError:
        return False


def _check_dtype(dtype: np.dtype, where: str) -> None:
    if dtype.hasobject or dtype.kind not in _KINDS or dtype.itemsize == 0:
        raise InspectorError(
            f"{where} has dtype {dtype}; save plain numeric (or short text) arrays, "
            "not Python objects or records"
        )
    if dtype.kind in "US" and dtype.itemsize > _MAX_TEXT_ITEM:
        raise InspectorError(
            f"{where} holds strings of {dtype.itemsize} bytes; class names must be short text"
        )


def _read_header(f, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    reader = _READERS.get(version)
    if reader is None:
        raise InspectorError(f"{where} uses .npy format {version}; save it with np.savez")
    shape, fortran, dtype = reader(f, max_header_size=_MAX_HEADER)
    return tuple(int(s) for s in shape), bool(fortran), dtype


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> np.ndarray:
    """One array: header checked against the limits and the member size, then exact data."""
    with archive.open(info) as f:
        shape, fortran, dtype = _read_header(f, where)
        _check_dtype(dtype, where)
        count = product(shape)
        MAX_DATASET_VALUES.check(count, where, f"the {'x'.join(map(str, shape))} array")
        nbytes = count * dtype.itemsize
        MAX_ARRAY_BYTES.check(nbytes, where, "the array")
        if info.file_size != f.tell() + nbytes:
            raise InspectorError(
                f"{where}: its header declares {nbytes:,} data bytes but the archive member "
                f"holds {info.file_size - f.tell():,}; the file is corrupt, save it again"
            )
        data = f.read(nbytes)
        if len(data) != nbytes:
            raise InspectorError(f"{where} is truncated ({len(data):,} of {nbytes:,} bytes)")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _members(archive: zipfile.ZipFile, file_size: int, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Array name -> zip entry; an entry claiming more compressed bytes than the file has
    is refused before it is read."""
    found: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.compress_size > file_size or (
            info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size
        ):
            raise InspectorError(f"{path}: archive member {info.filename!r} has impossible sizes")
        found[info.filename.removesuffix(".npy")] = info
    return found


def read_npz(path: Path, wanted: tuple[str, ...]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The `wanted` arrays present in the archive, and the names of all its arrays."""
    file_size = os.path.getsize(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = _members(archive, file_size, path)
            arrays = {
                key: _read_member(archive, members[key], f"{path}: array {key!r}")
                for key in wanted
                if key in members
            }
    except InspectorError:
        raise
    except _BAD_FILE as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise InspectorError(f"cannot read {path} ({text}); is it a valid .npz archive?") from exc
    return arrays, sorted(members)
