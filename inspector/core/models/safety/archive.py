"""Zip archives from an untrusted party: bounded before anything is decompressed.

Counts and sizes come from the end-of-central-directory record and the central directory,
so a zip bomb, a million members or a multi-gigabyte pickle is refused before a byte of a
member is inflated. Pickle members are then scanned statically (pickle_scan.py).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from inspector.core.errors import HintKind, InspectorError
from inspector.core.models.common import one_line, unreadable
from inspector.core.models.safety.pickle_scan import (
    TENSOR_GLOBALS,
    NotAPickle,
    scan_pickle,
)

_GIB = 1 << 30


@dataclass(frozen=True)
class ZipLimits:
    """What a model archive may hold; generous for real models, far below a bomb."""

    members: int = 100_000
    directory_bytes: int = 64 << 20
    member_bytes: int = 8 * _GIB
    total_bytes: int = 32 * _GIB
    pickle_bytes: int = 256 << 20
    text_bytes: int = 64 << 20
    deflate_ratio: int = 1100  # deflate cannot do better than ~1032:1


LIMITS = ZipLimits()
# what zipfile and zlib raise on damaged archives (UnicodeDecodeError is a ValueError)
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


def refused(path: Path, what: str) -> InspectorError:
    """A model refused for what it would do on loading: one line, with the way out."""
    return InspectorError(f"refused to load model {path}: {what}", HintKind.TRUST_CODE)


def broken(path: Path, what: str) -> InspectorError:
    """A damaged or oversized file: the loaders' usual message, naming what we can read."""
    return unreadable(path, what)


@contextmanager
def open_checked(path: Path, limits: ZipLimits = LIMITS) -> Iterator[zipfile.ZipFile]:
    """The archive, once its directory is known to be small and its members bounded."""
    try:
        with path.open("rb") as handle:
            end = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
    except ZIP_ERRORS as exc:
        raise broken(path, f"unreadable ({one_line(exc)})") from None
    if end is None:
        raise broken(path, "not a zip archive")
    entries = int(end[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]
    directory = int(end[zipfile._ECD_SIZE])  # type: ignore[attr-defined]
    if entries > limits.members or directory > limits.directory_bytes:
        raise broken(path, f"the archive lists {entries} members, over {limits.members}")
    try:
        archive = zipfile.ZipFile(path)
    except ZIP_ERRORS as exc:
        raise broken(path, f"corrupt zip archive ({one_line(exc)})") from None
    with archive:
        check_members(path, archive, path.stat().st_size, limits)
        yield archive


def check_members(
    path: Path, archive: zipfile.ZipFile, size: int, limits: ZipLimits = LIMITS
) -> None:
    """Every member's declared size, method and ratio, and the archive's total.

    A stored member's bytes must lie inside the `size`-byte archive, and only small members
    (sources, pickles) may be deflated, so what torch allocates is bounded by the file.
    """
    infos = archive.infolist()
    if len(infos) > limits.members:
        raise broken(path, f"the archive holds {len(infos)} members, over {limits.members}")
    total = 0
    for info in infos:
        if info.compress_type not in _METHODS:
            raise broken(path, f"member {info.filename} uses compression {info.compress_type}")
        stored = info.compress_type == zipfile.ZIP_STORED
        cap = limits.member_bytes if stored else limits.pickle_bytes
        if info.file_size > cap or (stored and info.compress_size != info.file_size):
            raise broken(path, f"member {info.filename} declares {info.file_size} bytes")
        if info.header_offset + info.compress_size > size:
            raise broken(path, f"member {info.filename} runs past the end of the archive")
        ratio = info.file_size / max(1, info.compress_size)
        if info.compress_type == zipfile.ZIP_DEFLATED and ratio > limits.deflate_ratio:
            raise broken(path, f"member {info.filename} inflates {ratio:.0f}-fold (a zip bomb)")
        total += info.file_size
    if total > limits.total_bytes:
        raise broken(path, f"the archive unpacks to {total} bytes, over {limits.total_bytes}")


def read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, refused above `limit` (checked from the directory, before reading)."""
    if info.file_size > limit:
        raise broken(path, f"member {info.filename} is {info.file_size} bytes, over {limit}")
    try:
        with archive.open(info) as stream:
            data = stream.read(limit + 1)
    except ZIP_ERRORS as exc:
        raise broken(path, f"member {info.filename} is corrupt ({one_line(exc)})") from None
    if len(data) > limit:
        raise broken(path, f"member {info.filename} holds more than it declares")
    return data


def inner_name(name: str) -> str:
    """A member's name below the archive's top folder ("model/data.pkl" → "data.pkl")."""
    return name.split("/", 1)[1] if "/" in name else name


def scan_pickle_member(
    path: Path,
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    allowed: frozenset[str] = TENSOR_GLOBALS,
    script: bool = False,
) -> None:
    """Refuse a pickle member (or a torch.save zip nested in one) that imports anything else."""
    data = read_member(path, archive, info, LIMITS.pickle_bytes)
    if data.startswith(b"PK\x03\x04"):
        _scan_nested_zip(path, info.filename, data, allowed, script)
        return
    check_pickle(path, info.filename, data, lambda scan: scan.refused(allowed, script))


def check_pickle(path: Path, member: str, data: bytes, judge: Callable) -> None:
    """Scan `data` as one pickle; refuse it when `judge(scan)` names any global."""
    try:
        scan = scan_pickle(data)
    except NotAPickle as exc:
        raise broken(path, f"member {member} is not a valid pickle ({exc})") from None
    bad = judge(scan)
    if bad:
        raise refused(path, f"member {member} would import {', '.join(bad[:3])} when read")


def _scan_nested_zip(
    path: Path, member: str, data: bytes, allowed: frozenset[str], script: bool
) -> None:
    import io

    try:
        nested = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as exc:
        raise broken(path, f"member {member} is a corrupt zip ({one_line(exc)})") from None
    with nested:
        check_members(path, nested, len(data))
        for info in nested.infolist():
            if info.filename.endswith(".pkl"):
                inner = read_member(path, nested, info, LIMITS.pickle_bytes)
                name = f"{member}:{info.filename}"
                check_pickle(path, name, inner, lambda scan: scan.refused(allowed, script))


def is_zip(path: Path) -> bool:
    """zipfile.is_zipfile, but a damaged end record is "not a zip", never an exception."""
    try:
        return zipfile.is_zipfile(path)
    except ZIP_ERRORS:
        return False


def check_bounds(path: Path) -> None:
    """Only the size checks (for trusted files: trust is about code, not zip bombs)."""
    with open_checked(path):
        pass
