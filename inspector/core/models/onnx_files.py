"""The files an ONNX model is read from: the .onnx itself and its external weight files.

A model under audit comes from the party being audited, so every external-data reference is
checked by us before anything is opened, whatever the installed onnx does: a plain relative
path inside the model's folder, no symbolic or hard link, a regular file (a FIFO would
hang the read), the byte range inside the file, and a bounded total. Only the checked
ranges are then read, by us, into the in-memory model.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

from inspector.core.errors import InspectorError
from inspector.core.models.onnx_graphs import all_tensors, quoted

GIB = 1 << 30
MAX_ONNX_BYTES = 2 * GIB  # protobuf's limit for one message: larger files cannot be parsed
MAX_EXTERNAL_BYTES = 8 * GIB  # all external weights together, read into memory
KNOWN_KEYS = ("location", "offset", "length", "checksum")  # what onnxruntime accepts
ORT_MEMORY_MARKER = "_ORT_MEM_ADDR_"  # onnxruntime reads such a "location" from raw memory
EXTERNAL = 1  # onnx.TensorProto.EXTERNAL


@dataclass(frozen=True)
class CheckedFile:
    """An external data file that passed the checks; its identity is re-checked on open."""

    path: Path
    size: int
    device: int
    inode: int


@dataclass(frozen=True)
class ExternalPiece:
    """One tensor's bytes: `length` bytes at `offset` of a checked file."""

    tensor: Any  # onnx.TensorProto, filled in by read_external_data
    file: CheckedFile
    offset: int
    length: int


def check_model_size(path: Path) -> None:
    """Refuse an .onnx larger than protobuf can parse, before reading any of it."""
    size = os.stat(path).st_size
    if size > MAX_ONNX_BYTES:
        raise InspectorError(
            f"{path} is {byte_size(size)}; an .onnx file can hold at most 2 GiB "
            "(protobuf's limit): save the weights as external data next to it"
        )


def external_pieces(path: Path, model) -> list[ExternalPiece]:
    """Every external-data reference of the model (subgraphs included), checked, unread."""
    root = os.path.realpath(path.parent)
    files: dict[str, CheckedFile] = {}
    pieces = []
    for tensor in all_tensors(model):
        if tensor.data_location != EXTERNAL:
            continue
        entries = _entries(path, tensor)
        location = entries.get("location", "")
        if location not in files:
            files[location] = _checked_file(path, root, location)
        pieces.append(_piece(path, tensor, files[location], entries))
    total = sum(piece.length for piece in pieces)
    if total > MAX_EXTERNAL_BYTES:
        raise InspectorError(
            f"{path}: its external weights total {byte_size(total)}, more than the "
            f"{byte_size(MAX_EXTERNAL_BYTES)} that can be loaded; this model is too large here"
        )
    return pieces


def external_files(pieces: list[ExternalPiece]) -> list[Path]:
    """The distinct external files, sorted: they are hashed with the model."""
    return sorted({piece.file.path for piece in pieces})


def read_external_data(pieces: list[ExternalPiece]) -> None:
    """Read each checked range into its tensor, which then no longer refers to any file."""
    by_file: dict[Path, list[ExternalPiece]] = {}
    for piece in pieces:
        by_file.setdefault(piece.file.path, []).append(piece)
    for group in by_file.values():
        with _open_checked(group[0].file) as handle:
            for piece in group:
                handle.seek(piece.offset)
                data = handle.read(piece.length)
                if len(data) != piece.length:
                    raise InspectorError(f"external data file {piece.file.path} became shorter")
                tensor = piece.tensor
                tensor.raw_data = data
                tensor.data_location = 0  # TensorProto.DEFAULT
                del tensor.external_data[:]


def byte_size(count: int) -> str:
    """1536 -> "1.5 KiB": sizes in messages, readable at any scale."""
    value, unit = float(count), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{count} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


def _entries(path: Path, tensor) -> dict[str, str]:
    """The tensor's external_data keys; a repeated or unknown key is refused (no guessing)."""
    entries: dict[str, str] = {}
    for entry in tensor.external_data:
        if not (isinstance(entry.key, str) and isinstance(entry.value, str)):
            raise _bad(path, tensor, "has external_data that is not valid UTF-8 text")
        if entry.key not in KNOWN_KEYS or entry.key in entries:
            what = "a repeated" if entry.key in entries else "an unknown"
            raise _bad(path, tensor, f"has {what} external_data key {quoted(entry.key)}")
        entries[entry.key] = entry.value
    return entries


def _checked_file(path: Path, root: str, location: str) -> CheckedFile:
    """The location is a plain relative path to a regular, singly linked file in the folder."""
    _check_location(path, location)
    full = path.parent / location
    try:
        info = os.lstat(full)
    except OSError:
        raise InspectorError(
            f"{path}: external data file {quoted(location)} is missing from the model's folder"
        ) from None
    problem = _file_problem(info)
    expected = os.path.normcase(os.path.join(root, os.path.normpath(location)))
    if problem is None and os.path.normcase(os.path.realpath(full)) != expected:
        problem = "is reached through a symbolic link"
    if problem is not None:
        raise InspectorError(
            f"{path}: external data file {quoted(location)} {problem}; external weights must be "
            "plain files inside the model's folder"
        )
    return CheckedFile(full, info.st_size, info.st_dev, info.st_ino)


def _check_location(path: Path, location: str) -> None:
    posix, windows = PurePosixPath(location), PureWindowsPath(location)
    bad = (
        not location
        or "\x00" in location
        or ORT_MEMORY_MARKER in location
        or posix.is_absolute()
        or bool(windows.drive or windows.root)
        or ".." in posix.parts
        or ".." in windows.parts
    )
    if bad:
        raise InspectorError(
            f"{path}: external data location {quoted(location)} is not a relative path inside "
            "the model's folder; only files next to the model (or below it) are read"
        )


def _file_problem(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a directory, FIFO or device)"
    if info.st_nlink != 1:
        return f"has {info.st_nlink} hard links (it may be another file's contents)"
    return None


def _piece(path: Path, tensor, file: CheckedFile, entries: dict[str, str]) -> ExternalPiece:
    offset = _count(path, tensor, entries, "offset", 0)
    length = _count(path, tensor, entries, "length", max(0, file.size - offset))
    if offset + length > file.size:
        raise _bad(
            path,
            tensor,
            f"claims bytes {offset}..{offset + length} of {file.path.name}, which has only "
            f"{file.size} bytes",
        )
    return ExternalPiece(tensor, file, offset, length)


def _count(path: Path, tensor, entries: dict[str, str], key: str, default: int) -> int:
    """A byte offset or length: plain decimal digits only, as onnxruntime reads them."""
    if key not in entries:
        return default
    text = entries[key]
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise _bad(path, tensor, f"has external_data {key} {quoted(text)}, not a byte count")
    return int(text)


def _bad(path: Path, tensor, problem: str) -> InspectorError:
    return InspectorError(
        f"{path}: tensor {quoted(tensor.name)} {problem}; the model file is damaged or crafted"
    )


def _open_checked(checked: CheckedFile) -> BinaryIO:
    """Open without following links or blocking, and make sure it is the file checked."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(checked.path, flags)
    except OSError as exc:
        raise InspectorError(f"cannot read external data {checked.path}: {exc.strerror}") from None
    handle = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino, info.st_size) != (checked.device, checked.inode, checked.size):
        handle.close()
        raise InspectorError(
            f"external data file {checked.path} changed while the model was loading; load it again"
        )
    return handle
