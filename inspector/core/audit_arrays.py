"""Reading an audit's `arrays.npz` without trusting it: headers first, then bounded reads.

Every `.npy` member's header (shape, dtype) is read and compared with what the results
say the array must be before a byte of data is allocated; only plain floating dtypes are
accepted (never objects, never pickles); every read stops at the size the header implies.
Zip members are checked by their declared sizes and read with a hard cap, since a
declared size can lie.
"""

from __future__ import annotations

import io
import math
import shutil
import tempfile
import zipfile
from typing import IO

import numpy as np

from inspector.core.results import EvaluationResults

ARRAY_FIELDS = ("clean_probs", "adv_probs", "adv_images", "clean_conf", "adv_conf")
MAX_ARRAY_BYTES = 16 << 30  # all arrays of an audit together
MAX_NPY_MEMBERS = 5 * 100  # five fields per model, at most MAX_MODELS models
SPOOL_BYTES = 256 << 20  # arrays.npz is read through memory up to this size, then a temp file
HEADER_BYTES = 1 << 16


class ArraysDamaged(Exception):
    """arrays.npz does not fit the results (one line)."""


def read_capped(stream: IO[bytes], limit: int, what: str) -> bytes:
    """Read at most `limit` bytes; one byte more means the declared size lied."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ArraysDamaged(f"{what} holds more than the {limit:,} bytes it declares")
    return data


def copy_capped(source: IO[bytes], target: IO[bytes], limit: int, what: str) -> None:
    """Copy a stream of at most `limit` bytes (streamed: no whole copy in memory)."""
    shutil.copyfileobj(io.BufferedReader(_Capped(source, limit, what)), target, 1 << 20)


class _Capped(io.RawIOBase):
    def __init__(self, source: IO[bytes], limit: int, what: str) -> None:
        self.source, self.left, self.what = source, limit, what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.source.read(min(len(buffer), self.left + 1))
        if len(chunk) > self.left:
            raise ArraysDamaged(f"{self.what} is larger than it declares")
        self.left -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _allowed(results: EvaluationResults) -> dict[str, list[tuple[int, ...]]]:
    shapes: dict[str, list[tuple[int, ...]]] = {}
    data_shape = tuple(results.dataset.shape)
    for i, m in enumerate(results.models):
        s, classes = m.sweep, len(m.info.class_names)
        n, k = len(s.indices), len(s.eps)
        images = {(n, k, *tuple(m.info.input_shape)), (n, k, *data_shape)}
        shapes |= {
            f"model{i}.clean_conf": [(n,)],
            f"model{i}.adv_conf": [(n, k)],
            f"model{i}.clean_probs": [(n, classes)],
            f"model{i}.adv_probs": [(n, k, classes)],
            f"model{i}.adv_images": sorted(images),
        }
    return shapes


def arrays_bound(results: EvaluationResults) -> int:
    """The most bytes arrays.npz can need for these results (float64 everywhere, + headers)."""
    total = sum(
        8 * max(math.prod(s) for s in options) + HEADER_BYTES + 512
        for options in _allowed(results).values()
    )
    return min(total + (1 << 20), MAX_ARRAY_BYTES)


def _header(stream: IO[bytes], name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(stream, max_header_size=HEADER_BYTES)
        if version in ((2, 0), (3, 0)):
            return np.lib.format.read_array_header_2_0(stream, max_header_size=HEADER_BYTES)
    except (ValueError, SyntaxError, TypeError, EOFError) as exc:
        reason = " ".join(str(exc).split())[:120]
        raise ArraysDamaged(f"{name} has a bad header ({reason})") from None
    raise ArraysDamaged(f"{name} has unknown .npy version {version}")


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, options: list[tuple]):
    name = info.filename[: -len(".npy")]
    with archive.open(info) as stream:
        shape, fortran, dtype = _header(stream, name)
        if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8) or dtype.hasobject:
            raise ArraysDamaged(f"{name} has dtype {dtype.str}, expected a floating type")
        if tuple(shape) not in options:
            raise ArraysDamaged(f"{name} has shape {tuple(shape)}, expected {options[0]}")
        size = math.prod(shape) * dtype.itemsize
        if info.file_size > size + HEADER_BYTES + 512:
            raise ArraysDamaged(f"{name} declares {info.file_size:,} bytes for {size:,} of data")
        data = read_capped(stream, size, name)
    if len(data) != size:
        raise ArraysDamaged(f"{name} is truncated ({len(data):,} of {size:,} bytes)")
    array = np.frombuffer(bytearray(data), dtype=dtype)
    array = array.reshape(shape, order="F" if fortran else "C")
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_arrays(npz: IO[bytes], results: EvaluationResults) -> dict[str, np.ndarray]:
    """The arrays of a (spooled, seekable) arrays.npz whose every member fits `results`."""
    allowed = _allowed(results)
    found: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(npz) as archive:
        members = archive.infolist()
        if len(members) > MAX_NPY_MEMBERS:
            raise ArraysDamaged(f"it has {len(members):,} members (at most {MAX_NPY_MEMBERS})")
        for info in members:
            name = info.filename.removesuffix(".npy")
            if name not in allowed or not info.filename.endswith(".npy"):
                raise ArraysDamaged(f"unexpected member {info.filename[:80]!r}")
            found[name] = _read_npy(archive, info, allowed[name])
    return found


def load_arrays_member(
    archive: zipfile.ZipFile, member: str, results: EvaluationResults
) -> dict[str, np.ndarray]:
    """Spool the (outer) arrays.npz member with a cap from the results, then read it."""
    info = archive.getinfo(member)
    bound = arrays_bound(results)
    if info.file_size > bound:
        raise ArraysDamaged(f"it declares {info.file_size:,} bytes, these results need {bound:,}")
    with (
        archive.open(info) as stream,
        tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool,
    ):
        copy_capped(stream, spool, info.file_size, member)
        spool.seek(0)
        return read_arrays(spool, results)
